"""What is measured: shot designs, simulated measurements, splits and files."""

from hybridlab.data.files import read_shots, to_file_units, write_csv, write_shots
from hybridlab.data.shots import grid_design, holdout, measure, simulate_shots, uniform_design

__all__ = ["grid_design", "holdout", "measure", "read_shots", "simulate_shots", "to_file_units",
           "uniform_design", "write_csv", "write_shots"]
