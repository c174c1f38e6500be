"""The report of ``hybridlab sweep``: each model's metrics across seeds — mean ± standard
deviation in a table, and every seed's value beside error bars in a figure — built from the
sweep directory's summary.json and its runs' metrics.json alone."""

from __future__ import annotations

import html
import json
import os

import numpy as np
from matplotlib.ticker import NullFormatter

from hybridlab.files import write_bytes
from matplotlib.figure import Figure

from hybridlab.report.figures import panels, write_figure
from hybridlab.report.interactive import line, lines_parts
from hybridlab.report.page import fallback_html, html_page

#: The metrics drawn and tabulated, with their headings; log scale for the errors.
SHOWN = {"rmse_interp": "RMSE interp", "rmse_extrap": "RMSE extrap", "coverage_interp": "coverage interp",
         "coverage_extrap": "coverage extrap", "amplification_extrap": "amplification extrap",
         "fit_seconds": "fit (s)"}
LOG = ("rmse_interp", "rmse_extrap")


def build_sweep_report(sweep_dir: str) -> str:
    """Draw figures/sweep.png and write report.html of a sweep directory; returns its path."""
    with open(os.path.join(sweep_dir, "summary.json"), encoding="utf-8") as handle:
        summary = json.load(handle)
    points = _per_seed(sweep_dir, summary["seeds"])
    shown = [key for key in SHOWN if any(key in metrics for metrics in summary["models"].values())]
    figure = os.path.join(sweep_dir, "figures", "sweep.png")
    parts, scripts = lines_parts(seed_lines(summary, points, shown))
    if shown:  # no seed finished: nothing to draw
        os.makedirs(os.path.dirname(figure), exist_ok=True)
        write_figure(plot_sweep(summary, points, shown), figure)
    quick = ", quick" if summary["quick"] else ""
    failed = "".join(f"<li>seed {f['seed']}: {html.escape(f['error'])}</li>" for f in summary["failed"])
    page = html_page(f"Sweep of {summary['scenario']}{quick}: {len(summary['seeds'])} seeds", [
        f"<p>Seeds {', '.join(map(str, summary['seeds'])) or 'none'}: one run directory each (seed-&lt;s&gt;/, "
        "with its own report). Each cell is the mean ± standard deviation over the seeds (n − 1); the figures "
        "show every seed's value (without JavaScript: beside the mean and its error bar).</p>",
        f"<p>Failed: {len(summary['failed'])}</p><ul>{failed}</ul>" if failed else "",
        _table(summary, shown),
        *(["<h2>Every seed</h2>", "<p>Each model's value at each seed; hover for the numbers, a click on a "
           "legend entry hides or shows its model.</p>", *parts, fallback_html(figure)] if shown else [])], scripts)
    path = os.path.join(sweep_dir, "report.html")
    write_bytes(path, page.encode("utf-8"))
    return path


def _per_seed(sweep_dir: str, seeds: list[int]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """{model: {metric: [(seed, value) of each seed where it is a number]}} from the runs' metrics.json."""
    points: dict[str, dict[str, list[float]]] = {}
    for seed in seeds:
        with open(os.path.join(sweep_dir, f"seed-{seed}", "metrics.json"), encoding="utf-8") as handle:
            models = json.load(handle)["models"]
        for name, metrics in models.items():
            for key in SHOWN:
                if isinstance(metrics.get(key), (int, float)):
                    points.setdefault(name, {}).setdefault(key, []).append((seed, float(metrics[key])))
    return points


def _table(summary: dict, shown: list[str]) -> str:
    def cell(stats):
        if stats is None:
            return "<td>—</td>"
        return f'<td class="num">{stats["mean"]:.4g} ± {stats["std"]:.2g}</td>'

    head = "".join(f"<th>{html.escape(SHOWN[key])}</th>" for key in shown)
    rows = "".join(f"<tr><td>{html.escape(name)}</td>" + "".join(cell(metrics.get(key)) for key in shown) + "</tr>"
                   for name, metrics in summary["models"].items())
    return f"<table><tr><th>model</th>{head}</tr>{rows}</table>"


def plot_sweep(summary: dict, points: dict, shown: list[str]) -> Figure:
    """One panel per metric: each model's per-seed values (dots) and mean ± std (error bar)."""
    models = list(summary["models"])
    x = np.arange(len(models))
    fig, axes = panels(len(shown), width=max(4.5, 0.7 * len(models) + 1.5), height=3.0, ncols=2)
    jitter = np.random.default_rng(0)  # where the dots sit beside each other; not data
    for ax, key in zip(axes, shown):
        for i, name in enumerate(models):
            values = [value for _, value in points.get(name, {}).get(key, [])]
            ax.scatter(i - 0.15 + 0.1 * jitter.random(len(values)), values, s=10, color="tab:gray", alpha=0.7)
            stats = summary["models"][name].get(key)
            if stats is not None:
                ax.errorbar(i + 0.15, stats["mean"], yerr=stats["std"], fmt="o", color="tab:blue", capsize=4)
        if key in LOG:
            ax.set_yscale("log")
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(x, models, rotation=30, fontsize=8)
        ax.set_ylabel(SHOWN[key])
    return fig


def seed_lines(summary: dict, points: dict, shown: list[str]) -> list[dict]:
    """The interactive figures of a sweep: for each metric, each model's value against the seed
    (markers; the errors on a log scale)."""
    few = len(summary["seeds"]) <= 30  # a tick per seed while they fit
    return [{"title": SHOWN[key], "x_label": "seed", "y_label": SHOWN[key], "log_y": key in LOG, "x_integers": few,
             "traces": [line(name, *zip(*points[name][key]), joined=False) for name in summary["models"]
                        if points.get(name, {}).get(key)]}
            for key in shown]
