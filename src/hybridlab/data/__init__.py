"""What is measured: shot datasets, their simulation and their files."""

from hybridlab.data.files import read_shots, write_csv, write_shots
from hybridlab.data.shots import simulate_shots

__all__ = ["read_shots", "simulate_shots", "write_csv", "write_shots"]
