"""The report of ``hybridlab run --scenario equations``: the networks that solve the equations
beside the exact answer (tables of errors and times, the trajectories, the loss curves)."""

from __future__ import annotations

import json
import os

import numpy as np

from hybridlab.data.formats import read_csv
from hybridlab.files import write_bytes
from hybridlab.report.figures import plot_losses, plot_trajectories, write_figure
from hybridlab.report.interactive import line, lines_parts, trajectories_file
from hybridlab.report.page import fallback_html, html_page, html_table


def _solved_rows(metrics: dict) -> list[list]:
    rows = [[f"forward, {case}", "pinn", m["rel_l2"], m["train_s"], m["exact_s"]]
            for case, m in metrics["forward"].items()]
    boundary = metrics["boundary"]
    rows += [["boundary value", method, boundary[method]["rel_l2"], boundary[method]["train_s"],
              boundary[method]["exact_s"]] for method in ("ritz", "pinn")]
    return rows


def _curves(losses: dict[str, np.ndarray]) -> dict[str, list]:
    """{run: [(curve label, step, value)]}: Adam's terms at their epochs, L-BFGS after them;
    an action (which may be negative) shifted by its last value."""
    out: dict[str, list] = {}
    for run in dict.fromkeys(losses["run"]):
        rows = losses["run"] == run
        adam = rows & (losses["optimiser"] == "adam")
        last_epoch = float(losses["step"][adam].max()) if adam.any() else 0.0
        curves = []
        for term in dict.fromkeys(losses["term"][rows]):
            for optimiser in ("adam", "lbfgs"):
                pick = rows & (losses["term"] == term) & (losses["optimiser"] == optimiser)
                if pick.any():
                    step = losses["step"][pick] + (last_epoch if optimiser == "lbfgs" else 0.0)
                    curves.append((f"{term} ({optimiser})", step, losses["value"][pick]))
        if any(np.any(value <= 0) for _, _, value in curves):
            floor = min(float(value.min()) for _, _, value in curves)
            curves = [(name + " − min", step, value - floor) for name, step, value in curves]
        out[run] = curves
    return out


def _trajectory_lines(run: str, path: dict) -> dict:
    """The interactive figure of one run's trajectory: the network's (dashed) over the exact one."""
    return {"title": f"{run}: the trajectory", "x_label": "x (m)", "y_label": "y (m)", "equal": True,
            "traces": [line("exact", path["exact_x"], path["exact_y"], colour="black"),
                       line("network", path["x"], path["y"], dash=True)]}


def _loss_lines(run: str, curves: list) -> dict:
    """The interactive figure of one run's losses (log) against the step: Adam, then L-BFGS."""
    return {"title": f"{run}: the loss during training", "x_label": "step (Adam epochs, then L-BFGS steps)",
            "y_label": "loss", "log_y": True, "traces": [line(name, step, value) for name, step, value in curves]}


def build_equations_report(run_dir: str) -> str:
    """Draw trajectories.png and losses.png from the run's CSV files and write report.html."""
    with open(os.path.join(run_dir, "metrics.json"), encoding="utf-8") as handle:
        metrics = json.load(handle)
    table = read_csv(trajectories_file(run_dir), text=("run",))
    trajectories = {run: {key: table[key][table["run"] == run] for key in ("t", "x", "y", "exact_x", "exact_y")}
                    for run in dict.fromkeys(table["run"])}
    losses = read_csv(os.path.join(run_dir, "losses.csv"), text=("run", "optimiser", "term"))
    figures = []
    drawn = (("trajectories.png", plot_trajectories(trajectories)), ("losses.png", plot_losses(_curves(losses))))
    for name, fig in drawn:
        os.makedirs(os.path.join(run_dir, "figures"), exist_ok=True)
        figures.append(os.path.join(run_dir, "figures", name))
        write_figure(fig, figures[-1])
    parts, scripts = lines_parts([*(_trajectory_lines(run, path) for run, path in trajectories.items()),
                                  *(_loss_lines(run, curves) for run, curves in _curves(losses).items())])
    inverse = metrics["inverse"]
    quick = " (quick run)" if metrics.get("quick") else ""
    page = html_page(f"Networks that solve the equations — seed {metrics['seed']}{quick}", [
        "<p>Each network solves one shot from the equation of motion alone and is measured against the exact "
        "path (relative L2 error over the whole path); training times include compiling, the exact solver's "
        "(201 points of the same path) is warm.</p>",
        html_table(["problem", "method", "relative L2 error", "training (s)", "exact solver (s)"],
                   _solved_rows(metrics)),
        "<h2>Inverse problem</h2>",
        f"<p>k of the shot put (true {inverse['true_k']:g} kg/s) from {inverse['points']} points with "
        f"σ = {inverse['noise']:g} m.</p>",
        html_table(["method", "k (kg/s)", "standard error", "seconds"],
                   [["inverse PINN", inverse["pinn"]["k"], "none", inverse["pinn"]["seconds"]],
                    ["TrajectoryFit (Levenberg–Marquardt)", inverse["trajectory_fit"]["k"],
                     inverse["trajectory_fit"]["stderr"], inverse["trajectory_fit"]["seconds"]]]),
        "<h2>Paths and losses</h2>", *parts,
        "<h2>Figures</h2>", *(fallback_html(path) for path in figures)], scripts)
    path = os.path.join(run_dir, "report.html")
    write_bytes(path, page.encode("utf-8"))
    return path
