"""What is measured: shot designs, simulated measurements, splits, and shot files."""

from hybridlab.data.formats import (from_file_units, read_csv, read_shots, to_file_units, write_csv,
                                    write_shots, write_table)
from hybridlab.data.shots import add_noise, grid_design, holdout, measure, simulate_shots, uniform_design

__all__ = ["add_noise", "from_file_units", "grid_design", "holdout", "measure", "read_csv", "read_shots",
           "simulate_shots", "to_file_units", "uniform_design", "write_csv", "write_shots", "write_table"]
