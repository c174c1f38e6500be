"""Figures and the HTML report of a run directory, built from its results files alone.

``build_report(run_dir)`` writes ``<run_dir>/figures/*.png`` and a self-contained
``<run_dir>/report.html``; ``make_figures(run_dir)`` writes only the figures.
"""

from hybridlab.report.figures import make_figures
from hybridlab.report.page import build_report

__all__ = ["build_report", "make_figures"]
