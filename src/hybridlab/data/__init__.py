"""What is measured: shot designs, simulated measurements, splits and files."""

from hybridlab.data.files import (check_new_directory, from_file_units, new_directory, read_shots, replace_atomically,
                                  to_file_units, to_json, write_csv, write_json, write_shots)
from hybridlab.data.shots import add_noise, grid_design, holdout, measure, simulate_shots, uniform_design

__all__ = ["add_noise", "check_new_directory", "from_file_units", "grid_design", "holdout", "measure",
           "new_directory", "read_shots", "replace_atomically", "simulate_shots", "to_file_units", "to_json",
           "uniform_design", "write_csv", "write_json", "write_shots"]
