"""Figures and the report of a recovered gust: ``hybridlab recover-wind`` (wind.csv,
lcurve.csv) and ``hybridlab run --scenario gust`` (winds.csv, lcurve.csv, metrics.json)."""

from __future__ import annotations

import json
import os

import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator

from hybridlab.data.formats import read_csv
from hybridlab.files import write_bytes
from hybridlab.report.figures import TRUTH_STYLE, panels, write_figure
from hybridlab.report.interactive import line, line_container, lines_parts
from hybridlab.report.page import fallback_html, html_page, html_table

#: Each method's penalty as an L-curve's axis says it (the learned ‖L(w − μ)‖ is in units of
#: the prior's spread: no unit); Tikhonov's first difference ‖∇w‖ otherwise.
_PENALTIES = {"tv": "‖∇w‖₁ (m/s)", "tikhonov-identity": "‖w‖ (m/s)", "learned": "‖L(w − μ)‖"}
_STYLES = {"least-squares": ":", "tikhonov": "--", "tikhonov-identity": "-.", "tv": "--", "learned": "--"}


def plot_winds(t: np.ndarray, winds: dict[str, dict[str, np.ndarray]]):
    """One panel per example: the true wind (if known) and each method's (m/s) against t (s).
    The axis is fitted to the truth and the regularised methods: least squares leaves it, and
    its largest |w| is said in its legend (it sets the axis when it is the only curve)."""
    fig, axes = panels(len(winds), width=5.2, height=3.6, ncols=2)
    for ax, (example, columns) in zip(axes, winds.items()):
        shown = [w for name, w in columns.items() if name != "least-squares"] or list(columns.values())
        low, high = min(np.min(w) for w in shown), max(np.max(w) for w in shown)
        margin = 0.15 * max(high - low, 1.0)
        for i, (name, wind) in enumerate(columns.items()):
            if name == "true":
                ax.plot(t, wind, **TRUTH_STYLE)
                continue
            faint = {"alpha": 0.45, "linewidth": 0.9} if name == "least-squares" else {}
            label = name if name != "least-squares" else f"least squares (|w| up to {np.max(np.abs(wind)):.3g})"
            ax.plot(t, wind, linestyle=_STYLES.get(name, "--"), color=f"C{i}", label=label, **faint)
        ax.set(title=example, xlabel="t (s)", ylabel="wind w (m/s)", ylim=(low - margin, high + margin))
        ax.legend(fontsize="x-small")
    return fig


def plot_lcurves(curves: dict[str, np.ndarray]):
    """One panel per example and method: log residual ‖PA w − Pd‖ (m) against log penalty,
    the λ chosen marked."""
    keys = sorted({(e, m) for e, m in zip(curves["example"], curves["method"])}, key=lambda k: (k[0], k[1]))
    fig, axes = panels(len(keys), width=3.8, height=3.2, ncols=3)
    for ax, (example, method) in zip(axes, keys):
        pick = (curves["example"] == example) & (curves["method"] == method)
        residual, penalty, chosen = curves["residual"][pick], curves["penalty"][pick], curves["chosen"][pick] > 0
        ax.loglog(residual, penalty, marker=".", color="C0")
        ax.loglog(residual[chosen], penalty[chosen], marker="o", markersize=9, linestyle="none", color="C3",
                  label=f"chosen: λ = {curves['lambda'][pick][chosen][0]:.2g}")
        what = _PENALTIES.get(method, "‖∇w‖ (m/s)")
        ax.set(title=f"{example}: {method}", xlabel="residual (m)", ylabel=what)
        # A residual spans less than a decade: label 1, 2 and 5 × 10^k only, so labels neither vanish nor crowd.
        ax.xaxis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda value, _: f"{value:.2g}"))
        ax.legend(fontsize="x-small")
    return fig


def plot_singular_values(values: np.ndarray):
    """The singular values of the projected forward map PA (m per m/s), largest first."""
    fig, (ax,) = panels(1, width=5.0, height=3.4)
    ax.semilogy(np.arange(1, len(values) + 1), values, marker="o", markersize=3)
    ax.set(title=f"forward map: condition number {values[0] / values[-1]:.3g}", xlabel="index",
           ylabel="singular value of PA (m per m/s)")
    return fig


def plot_aim_conditioning(aim: dict):
    """|dθ/dd| (degrees per m) of the low and the high arc against the target's distance short
    of the farthest reach (m), log–log: slope −1/2 near it (the reach is a maximum in θ)."""
    fig, (ax,) = panels(1, width=5.0, height=3.4)
    for arc, style in (("low", "-"), ("high", "--")):
        ax.loglog(aim["gap"], np.abs(aim[arc]), linestyle=style, label=f"{arc} arc")
    ax.set(title=f"aiming at {aim['speed']:g} m/s: reach {aim['reach']:.4g} m", xlabel="reach − distance (m)",
           ylabel="|dθ/dd| (degrees per m)")
    ax.legend(fontsize="x-small")
    return fig


def draw_recovery(directory: str) -> None:
    """figures/wind.png and, where lcurve.csv is (a regularised method ran), figures/lcurve.png
    of a recover-wind directory."""
    table = read_csv(os.path.join(directory, "wind.csv"))
    figures = os.path.join(directory, "figures")
    os.makedirs(figures, exist_ok=True)
    write_figure(plot_winds(table["t"], {"recovered wind": {k: v for k, v in table.items() if k != "t"}}),
                 os.path.join(figures, "wind.png"))
    if os.path.exists(os.path.join(directory, "lcurve.csv")):
        curves = read_csv(os.path.join(directory, "lcurve.csv"), text=("example", "method"))
        write_figure(plot_lcurves(curves), os.path.join(figures, "lcurve.png"))


def _wind_lines(t: np.ndarray, example: str, columns: dict[str, np.ndarray]) -> dict:
    """The interactive figure of one example's winds: the truth (if known) and each method's;
    least squares listed but hidden (its swings would set the scale), a click draws it."""
    traces = [line("true" if name == "true" else name, t, wind, dash=name not in ("true", "least-squares"),
                   colour="black" if name == "true" else None, hidden=name == "least-squares")
              for name, wind in columns.items()]
    return {"title": f"{example} gust: the wind each method recovers", "x_label": "t (s)",
            "y_label": "wind w (m/s)", "traces": traces}


def lcurve_lines(curves: dict[str, np.ndarray]) -> list[dict]:
    """The interactive L-curves of lcurve.csv (see :func:`plot_lcurves`): one figure per method
    (its penalty's unit is its own), a curve per example and the λ its rule chose as a point."""
    figures = []
    for method in dict.fromkeys(curves["method"]):
        traces = []
        for example in dict.fromkeys(curves["example"][curves["method"] == method]):
            pick = (curves["example"] == example) & (curves["method"] == method)
            chosen = pick & (curves["chosen"] > 0)
            traces += [line(example, curves["residual"][pick], curves["penalty"][pick], markers=True),
                       line(f"{example}: chosen λ = {curves['lambda'][chosen][0]:.2g}", curves["residual"][chosen],
                            curves["penalty"][chosen], joined=False)]
        figures.append({"title": f"L-curve: {method}", "x_label": "residual (m)", "y_label": _PENALTIES.get(
            method, "‖∇w‖ (m/s)"), "log_x": True, "log_y": True, "traces": traces})
    return figures


def conditioning_lines(metrics: dict) -> list[dict]:
    """The interactive twins of :func:`plot_singular_values` and :func:`plot_aim_conditioning`."""
    values, aim = np.asarray(metrics["singular_values"]), metrics["aim"]
    return [{"title": f"forward map: condition number {values[0] / values[-1]:.3g}", "x_label": "index",
             "y_label": "singular value of PA (m per m/s)", "log_y": True,
             "traces": [line("singular value", np.arange(1, len(values) + 1), values, markers=True)]},
            {"title": f"aiming at {aim['speed']:g} m/s: reach {aim['reach']:.4g} m", "x_label": "reach − distance (m)",
             "y_label": "|dθ/dd| (degrees per m)", "log_x": True, "log_y": True,
             "traces": [line(f"{arc} arc", aim["gap"], np.abs(aim[arc]), dash=arc == "high") for arc in ("low", "high")]}]


def _by_example(table: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """winds.csv's columns "<example>:<method>" as {example: {method: wind}}."""
    winds: dict[str, dict[str, np.ndarray]] = {}
    for key, values in table.items():
        if key != "t":
            example, method = key.split(":", 1)
            winds.setdefault(example, {})[method] = values
    return winds


def build_gust_report(run_dir: str) -> str:
    """Draw the figures from winds.csv, lcurve.csv and metrics.json; write report.html."""
    with open(os.path.join(run_dir, "metrics.json"), encoding="utf-8") as handle:
        metrics = json.load(handle)
    table = read_csv(os.path.join(run_dir, "winds.csv"))
    winds = _by_example(table)
    figures = os.path.join(run_dir, "figures")
    os.makedirs(figures, exist_ok=True)
    paths = [os.path.join(figures, name) for name in ("winds.png", "lcurve.png", "singular_values.png",
                                                      "aim_conditioning.png")]
    write_figure(plot_winds(table["t"], winds), paths[0])
    curves = read_csv(os.path.join(run_dir, "lcurve.csv"), text=("example", "method"))
    drawn = ([_wind_lines(table["t"], example, columns) for example, columns in winds.items()], lcurve_lines(curves),
             conditioning_lines(metrics))
    parts, scripts = lines_parts([figure for group in drawn for figure in group])
    starts = np.cumsum([0, *map(len, drawn)])  # each group's first figure: its containers go to its section
    shown = [[line_container(i) for i in range(starts[g], starts[g + 1])] for g in range(len(drawn))]
    write_figure(plot_lcurves(curves), paths[1])
    write_figure(plot_singular_values(np.asarray(metrics["singular_values"])), paths[2])
    write_figure(plot_aim_conditioning(metrics["aim"]), paths[3])
    methods = list(next(iter(metrics["examples"].values())))
    rows = [[method] + [metrics["examples"][e][method]["relative_error"] for e in metrics["examples"]]
            + [metrics["families"][f][method][s] for f in metrics["families"] for s in ("median", "mean")]
            for method in methods]
    setup, aim, values = metrics["setup"], metrics["aim"], metrics["singular_values"]
    quick = " (quick run)" if metrics.get("quick") else ""
    first = next(iter(metrics["examples"].values()))
    used = {m: e["rule"] for m, e in first.items() if e.get("rule")}
    rules = (f"{next(iter(used.values()))} for every method" if len(set(used.values())) == 1
             else ", ".join(f"{m}: {r}" for m, r in used.items()))
    page = html_page(f"Recovering a gust from a track — seed {metrics['seed']}{quick}", [
        f"<p>A ball of {setup['mass']:g} kg under linear drag (k = {setup['k']:g} kg/s) launched at "
        f"{setup['speed']:g} m/s, {setup['angle_deg']:g}°, tracked at {setup['points']} times with "
        f"{metrics['noise'] * 100:g} cm of noise; the wind w(t) is recovered on {setup['samples']} samples, "
        f"the launch velocity fitted with it (unregularised). Tracks are simulated with the wind four times "
        f"finer. λ is chosen by each method's own rule ({rules}; chosen on the λ benchmark's random gusts), "
        f"never from the truth; the learned regulariser "
        f"was trained on 200 other gusts (half smooth, half steps) and is scored on held-out ones only. "
        f"Errors are relative L2 errors of the wind on its grid.</p>",
        html_table(["method"] + [f"{e} gust" for e in metrics["examples"]]
                   + [f"held-out {f} gusts ({metrics['held_out']}): {s}" for f in metrics["families"]
                      for s in ("median", "mean")], rows),
        "<p>Early winds and the launch velocity move the track alike (both add a multiple of "
        "1 − e<sup>−βt</sup> early on), and the last samples barely move it before it ends: there no "
        "method can do better than its regulariser's guess.</p>",
        "<h2>The recovered winds</h2>", *shown[0], fallback_html(paths[0]),
        "<h2>The L-curves</h2>", "<p>Each method's residual against its penalty along its path of λ (log–log), "
        "the λ its rule chose marked.</p>", *shown[1], fallback_html(paths[1]),
        "<h2>Conditioning of the inverse problems</h2>",
        f"<p>The wind problem: the singular values of the forward map (the launch projected out) fall by a "
        f"factor {values[0] / values[-1]:.3g}; least squares divides the noise by the smallest. Aiming: a target "
        f"{aim['gap'][0]:.2g} m short of the reach at {aim['speed']:g} m/s moves the angle by "
        f"{abs(aim['low'][0]):.3g}° per m of distance error, one {aim['gap'][-1]:.3g} m short by "
        f"{abs(aim['low'][-1]):.3g}° per m: near the maximum range, aim is ill-conditioned.</p>",
        *shown[2], *[fallback_html(path) for path in paths[2:]], *parts[1:]], scripts)
    path = os.path.join(run_dir, "report.html")
    write_bytes(path, page.encode("utf-8"))
    return path
