"""What is measured: shot datasets, their simulation and their files."""

from hybridlab.data.shots import simulate_shots, write_csv

__all__ = ["simulate_shots", "write_csv"]
