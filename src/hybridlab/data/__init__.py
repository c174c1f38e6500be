"""What is measured: shot designs, simulated measurements, splits, shot and trajectory files,
and the shipped real drop measurements."""

from hybridlab.data.drops import Ball, benchmark_split, load_drops
from hybridlab.data.formats import (read_csv, read_shots, read_tracks, write_csv, write_shot_chunks, write_shots,
                                    write_table, write_tracks)
from hybridlab.data.shots import (add_noise, grid_design, holdout, measure, simulate_shot_chunks, simulate_shots,
                                  uniform_design)
from hybridlab.data.tracks import (Tracks, cut_tracks, join_tracks, renamed, resampled, simulate_tracks,
                                   split_time)
from hybridlab.data.units import from_degrees, from_file_units, in_file_units, to_degrees, to_file_units

__all__ = ["Ball", "Tracks", "add_noise", "cut_tracks", "join_tracks", "renamed", "resampled", "benchmark_split", "from_degrees", "from_file_units", "grid_design", "holdout", "in_file_units", "load_drops",
           "measure", "read_csv", "read_shots", "read_tracks", "simulate_shot_chunks", "simulate_shots", "simulate_tracks", "split_time",
           "to_degrees", "to_file_units", "uniform_design", "write_csv", "write_shot_chunks", "write_shots", "write_table", "write_tracks"]
