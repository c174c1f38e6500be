"""Figures of a run directory, drawn from its results files alone.

Every figure is a :class:`matplotlib.figure.Figure` on its own Agg canvas, never pyplot's global
state, so making a report opens no window and leaves the backend of a user's session alone.
Axes carry the input and output names with the units from ``metrics.json`` (SI; angles in
degrees, as in the CSV files).
"""

from __future__ import annotations

import io
import json
import math
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator, NullFormatter

from hybridlab.data.formats import read_csv
from hybridlab.files import write_bytes
from hybridlab.report.schema import Metrics, check_metrics

TRUTH_STYLE = {"color": "black", "linewidth": 2.4, "label": "true"}
TRAIN_OUTLINE = {"fill": False, "edgecolor": "black", "linestyle": "--", "linewidth": 1.4}
DPI = 110


def load_metrics(run_dir: str | os.PathLike) -> Metrics:
    """The run's ``metrics.json``, checked to hold the keys the report needs
    (:func:`~hybridlab.report.schema.check_metrics`); ValueError naming the path if it is
    missing or malformed, and the key if one is missing or of the wrong type."""
    path = os.path.join(os.fspath(run_dir), "metrics.json")
    if not os.path.isfile(path):
        raise ValueError(f"no metrics.json in the run directory: {path}")
    with open(path, encoding="utf-8") as handle:
        try:
            metrics = json.load(handle)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON: {error}") from error
    return check_metrics(metrics, path)


def _save(fig: Figure, directory: str, name: str) -> str:
    path = os.path.join(directory, name)
    write_figure(fig, path)
    return path


def panels(n: int, width: float = 4.2, height: float = 3.4, ncols: int = 3) -> tuple[Figure, list]:
    """A constrained-layout figure with n axes on a grid of at most ``ncols`` columns."""
    ncols = min(n, ncols)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = list(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[n:]:
        fig.delaxes(ax)
    return fig, axes[:n]


def _unit(metrics: Metrics, name: str) -> str:
    """The unit metrics.json gives for an input or output, or ''."""
    return str((metrics.get("units") or {}).get(name) or "")


def _label(metrics: Metrics, name: str) -> str:
    """``name (unit)``, or the bare name where metrics.json gives no unit."""
    unit = _unit(metrics, name)
    return f"{name} ({unit})" if unit else name


def _models(metrics: Metrics, table: dict) -> list[str]:
    """The models of metrics.json that have a column in the table, in metrics.json's order."""
    return [name for name in metrics["models"] if name in table]


def _colour(metrics: Metrics, name: str) -> str:
    """One colour per model, the same in every figure."""
    return f"C{list(metrics['models']).index(name) % 10}"


def _on_grid(grid: dict, inputs: list[str], column: str) -> tuple[np.ndarray, np.ndarray, np.ma.MaskedArray]:
    """Unique values u0, u1 of the two inputs and the column as a masked (len u0, len u1) array."""
    u0, i0 = np.unique(grid[inputs[0]], return_inverse=True)
    u1, i1 = np.unique(grid[inputs[1]], return_inverse=True)
    values = np.full((u0.size, u1.size), np.nan)
    values[i0, i1] = grid[column]
    return u0, u1, np.ma.masked_invalid(values)


def _outline_training(ax, metrics: Metrics) -> None:
    """Dashed rectangle around the training region of the two inputs."""
    region, (first, second) = metrics.get("train_region") or {}, metrics["inputs"]
    if first in region and second in region:
        (lo0, hi0), (lo1, hi1) = region[first], region[second]
        ax.add_patch(Rectangle((lo0, lo1), hi0 - lo0, hi1 - lo1, **TRAIN_OUTLINE))


def _map_axes(ax, metrics: Metrics, title: str) -> None:
    _outline_training(ax, metrics)
    ax.set_title(title)
    ax.set_xlabel(_label(metrics, metrics["inputs"][0]))
    ax.set_ylabel(_label(metrics, metrics["inputs"][1]))


def plot_maps(metrics: Metrics, grid: dict) -> Figure:
    """Filled contours of the output (e.g. distance in m) over the two inputs: the truth, then each
    model, all on the truth's colour scale (values beyond it saturate); training region dashed."""
    inputs, models = metrics["inputs"], _models(metrics, grid)
    u0, u1, truth = _on_grid(grid, inputs, "true")
    lo, hi = float(truth.min()), float(truth.max())
    levels = MaxNLocator(20).tick_values(lo, hi if hi > lo else lo + 1.0)  # round numbers on the bar
    fig, axes = panels(1 + len(models))
    for ax, name in zip(axes, ["true", *models]):
        values = _on_grid(grid, inputs, name)[2]
        filled = ax.contourf(u0, u1, values.T, levels=levels, cmap="viridis", extend="both")
        _map_axes(ax, metrics, name)
    rows = math.ceil(len(axes) / 3)  # one bar spans every row; keep its width that of one row's
    fig.colorbar(filled, ax=axes, aspect=20 * rows, label=_label(metrics, metrics["output"]))
    fig.suptitle(f"{metrics['output']} over the inputs (dashed: training region)")
    return fig


def plot_errors(metrics: Metrics, grid: dict) -> Figure:
    """Each model's error (model − true, in the output's unit) over the two inputs, on a diverging
    colour scale symmetric about 0 reaching that model's largest |error|; training region dashed."""
    inputs, models = metrics["inputs"], _models(metrics, grid)
    u0, u1, truth = _on_grid(grid, inputs, "true")
    unit = _unit(metrics, metrics["output"])
    fig, axes = panels(len(models))
    for ax, name in zip(axes, models):
        error = _on_grid(grid, inputs, name)[2] - truth
        limit = float(np.abs(error).max()) if error.count() else 0.0
        limit = limit if math.isfinite(limit) and limit > 0 else 1.0
        levels = MaxNLocator(20, symmetric=True).tick_values(-limit, limit)
        filled = ax.contourf(u0, u1, error.T, levels=levels, cmap="RdBu_r", extend="both")
        fig.colorbar(filled, ax=ax, label=f"error ({unit})" if unit else "error")
        _map_axes(ax, metrics, f"{name} − true")
    fig.suptitle(f"error in {metrics['output']} (dashed: training region)")
    return fig


def _curve_limits(truth: np.ndarray, curves: list[np.ndarray]) -> tuple[float, float]:
    """y-limits around the truth, widened for the models by at most half the truth's span, so one
    model that runs away outside the training range does not flatten every other curve."""
    lo, hi = float(np.nanmin(truth)), float(np.nanmax(truth))
    margin = 0.5 * (hi - lo) or 1.0
    finite = np.concatenate([c[np.isfinite(c)] for c in [truth, *curves]])
    pad = 0.05 * margin
    return max(float(finite.min()), lo - margin) - pad, min(float(finite.max()), hi + margin) + pad


def _curve_panels(metrics: Metrics, curves: dict) -> list[tuple[str, np.ndarray]]:
    """(title, row mask) per panel: one per fixed value of the second input, or one for 1-input."""
    inputs = metrics["inputs"]
    if len(inputs) < 2:
        return [("", np.ones(curves[inputs[0]].size, dtype=bool))]
    second, unit = curves[inputs[1]], _unit(metrics, inputs[1])
    return [(f"{inputs[1]} = {v:g} {unit}".strip(), second == v) for v in np.unique(second)]


def plot_curves(metrics: Metrics, curves: dict, observed: tuple[np.ndarray, ...] | None = None) -> Figure:
    """The output (e.g. distance in m) against the first input, one panel per fixed value of the
    second input: the truth (black), every model, the training range of the first input shaded, and
    for 1-input scenarios the ``observed`` (x, y) training measurements as dots."""
    first, models = metrics["inputs"][0], _models(metrics, curves)
    train = (metrics.get("train_region") or {}).get(first)
    layout = _curve_panels(metrics, curves)
    fig, axes = panels(len(layout), width=4.4 if len(layout) > 1 else 6.0, height=3.4)
    for ax, (title, mask) in zip(axes, layout):
        order = np.argsort(curves[first][mask])
        x = curves[first][mask][order]
        if train:
            ax.axvspan(*train, color="0.88", label="training range")
        if observed is not None:
            ax.plot(*observed, "o", color="0.4", markersize=3, label="training data")
        ax.plot(x, curves["true"][mask][order], **TRUTH_STYLE)
        ys = [curves[name][mask][order] for name in models]
        for name, y in zip(models, ys):
            ax.plot(x, y, color=_colour(metrics, name), linewidth=1.4, label=name)
            if f"{name}:low" in curves:  # its 90 % predictive interval
                ax.fill_between(x, curves[f"{name}:low"][mask][order], curves[f"{name}:high"][mask][order],
                                color=_colour(metrics, name), alpha=0.15, linewidth=0)
        ax.set_ylim(*_curve_limits(curves["true"][mask], ys))
        ax.set(title=title, xlabel=_label(metrics, first), ylabel=_label(metrics, metrics["output"]))
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right upper", fontsize="small")
    return fig


def _rmse(metrics: Metrics, key: str) -> list[float]:
    values = [metrics["models"][name].get(key) for name in metrics["models"]]
    return [float(v) if isinstance(v, int | float) and not isinstance(v, bool) else math.nan for v in values]


def _decades(values: list[float]) -> tuple[float, float]:
    """Whole decades around the positive values, at least one apart, with room for the bar labels
    above, so a log axis always shows labelled powers of ten."""
    positive = [v for v in values if math.isfinite(v) and v > 0] or [1.0]
    lo, hi = math.floor(math.log10(min(positive))), math.ceil(math.log10(2 * max(positive)))
    return 10.0**lo, 10.0 ** max(hi, lo + 1)


def plot_rmse(metrics: Metrics) -> Figure:
    """Bars of each model's RMSE (output's unit, log scale) inside (interpolation) and outside
    (extrapolation) the training region, each bar labelled with its value."""
    models = list(metrics["models"])
    x, width = np.arange(len(models)), 0.4
    fig, (ax,) = panels(1, width=max(5.0, 1.0 * len(models) + 2.0), height=3.8)
    for offset, key, label in [(-0.5, "rmse_interp", "interpolation"), (0.5, "rmse_extrap", "extrapolation")]:
        heights = _rmse(metrics, key)
        bars = ax.bar(x + offset * width, heights, width, label=label)
        ax.bar_label(bars, labels=[f"{h:.2g}" if math.isfinite(h) else "" for h in heights], fontsize=7)
    ax.set_yscale("log")
    ax.set_ylim(*_decades(_rmse(metrics, "rmse_interp") + _rmse(metrics, "rmse_extrap")))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(x, models)
    ax.set_ylabel(f"RMSE of {_label(metrics, metrics['output'])}")
    ax.set_title("error inside and outside the training region")
    ax.legend(fontsize="small")
    return fig


def plot_forces(metrics: Metrics, forces: dict) -> Figure:
    """The drag force magnitude (N) each force-learning rung found, against the speed (m/s),
    beside the true law's; shaded: the training launches' speeds (the flights also pass through
    slower speeds, down to the apex's)."""
    fig, (ax,) = panels(1, width=6.4, height=4.2)
    train = (metrics.get("train_region") or {}).get("speed")
    if train:
        ax.axvspan(*train, color="0.88", label="launch speeds trained on")
    ax.plot(forces["speed"], forces["true"], **TRUTH_STYLE)
    for name in _models(metrics, forces):
        ax.plot(forces["speed"], forces[name], color=_colour(metrics, name), linewidth=1.6, linestyle="--",
                label=f"{name} (learned)")
    ax.set(xlabel="speed |v| (m/s)", ylabel="drag force |F| (N)", title="the drag force, learned from ranges alone")
    ax.legend(fontsize="small")
    return fig


def plot_aiming(metrics: Metrics, table: dict) -> Figure:
    """The learned aims checked on the truth, against the target distance (m): the relative
    miss |D_true(P(d)) − d|/d (log scale) and the speed above the exact least speed (%), one
    line per decoder; shaded: the training targets' range."""
    aiming = metrics["aiming"]
    fig, axes = panels(2, width=5.4, height=3.8, ncols=2)
    order = np.argsort(table["distance"])
    near, far = aiming["targets"]["train"]
    for ax in axes:
        ax.axvspan(near, far, color="0.92", label="training targets")
    for i, name in enumerate(aiming["learned"]):
        if f"{name}_miss" not in table:
            continue
        style = {"color": f"C{i}", "marker": ".", "markersize": 3, "linewidth": 1, "label": f"decoder: {name}"}
        miss = np.maximum(table[f"{name}_miss"][order], 1e-16)  # a log axis cannot show an exact 0
        axes[0].plot(table["distance"][order], miss, **style)
        excess = 100 * (table[f"{name}_speed"][order] / table["least_speed"][order] - 1)
        axes[1].plot(table["distance"][order], excess, **style)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("relative miss |D_true(P(d)) − d| / d")
    axes[0].set_title("where the learned aim really lands")
    axes[1].set_ylabel("speed above the least speed (%)")
    axes[1].set_title("how far from the least-speed shot")
    for ax in axes:
        ax.set_xlabel("target distance d (m)")
        ax.legend(fontsize="small")
    return fig


def plot_aim(target: tuple[float, float], trajectories: dict[str, tuple[np.ndarray, np.ndarray, bool]]) -> Figure:
    """The shots that aim at ``target`` (distance, height above the ground, m): for each label,
    its trajectory (x, y in m) from launch to landing, dashed where it is not a hit (the least-speed
    shot beside other solutions, or the closest approach to a target out of reach)."""
    fig, (ax,) = panels(1, width=7.0, height=4.2)
    for label, (x, y, hit) in trajectories.items():
        ax.plot(x, y, linestyle="-" if hit else "--", label=label)
    ax.plot(*target, marker="*", markersize=14, color="black", linestyle="none", label="target")
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    ax.set_xlabel("distance downrange (m)")
    ax.set_ylabel("height above the ground (m)")
    ax.set_title("aiming at the target")
    ax.legend(fontsize="small")
    return fig


def write_figure(fig: Figure, path: str | os.PathLike) -> None:
    """``fig`` as a PNG file at ``path``, written whole or not at all."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    write_bytes(path, buffer.getvalue())


def _observed(run_dir: str, metrics: Metrics) -> tuple[np.ndarray, np.ndarray] | None:
    """(input, measured output) of the training rows of predictions.csv, if it exists."""
    path = os.path.join(run_dir, "predictions.csv")
    if not os.path.isfile(path):
        return None
    table, (first, output) = read_csv(path, text=("split",)), (metrics["inputs"][0], metrics["output"])
    if first not in table or output not in table:
        return None
    train = table["split"] == "train" if "split" in table else slice(None)
    return table[first][train], table[output][train]


def make_figures(run_dir: str | os.PathLike, metrics: Metrics | None = None) -> list[str]:
    """Write maps.png and errors.png (2-input runs with a grid.csv), curves.png (with a curves.csv),
    rmse.png, forces.png (with a forces.csv) and aim.png (with an aiming section and aim.csv) into ``<run_dir>/figures/``; return the paths written."""
    run_dir = os.fspath(run_dir)
    metrics = metrics if metrics is not None else load_metrics(run_dir)
    out = os.path.join(run_dir, "figures")
    os.makedirs(out, exist_ok=True)
    written = []
    grid_path, curves_path = os.path.join(run_dir, "grid.csv"), os.path.join(run_dir, "curves.csv")
    if len(metrics["inputs"]) == 2 and os.path.isfile(grid_path):
        grid = read_csv(grid_path)
        written.append(_save(plot_maps(metrics, grid), out, "maps.png"))
        if _models(metrics, grid):
            written.append(_save(plot_errors(metrics, grid), out, "errors.png"))
    if os.path.isfile(curves_path):
        observed = _observed(run_dir, metrics) if len(metrics["inputs"]) == 1 else None
        written.append(_save(plot_curves(metrics, read_csv(curves_path), observed), out, "curves.png"))
    if metrics["models"]:
        written.append(_save(plot_rmse(metrics), out, "rmse.png"))
    forces_path = os.path.join(run_dir, "forces.csv")
    if os.path.isfile(forces_path):
        written.append(_save(plot_forces(metrics, read_csv(forces_path)), out, "forces.png"))
    aim_path = os.path.join(run_dir, "aim.csv")
    if isinstance(metrics.get("aiming"), dict) and os.path.isfile(aim_path):
        written.append(_save(plot_aiming(metrics, read_csv(aim_path, text=("split",))), out, "aim.png"))
    return written


def plot_tracks(tracks, dense: dict[str, tuple[np.ndarray, np.ndarray]], train_until: float | None,
                title: str) -> Figure:
    """Measured tracks (dots; hollow where held out, t > ``train_until`` s) beside a model's
    (``dense``: for each track name, times in s and positions in m): height over time for
    drops, height over distance for shots."""
    fig, (ax,) = panels(1, width=7.0, height=4.4)
    for i, name in enumerate(dense):
        rows = tracks.rows(name)
        colour = f"C{i % 10}"
        later = tracks.t[rows] > train_until if train_until is not None else np.zeros(rows.size, bool)
        x = tracks.t[rows] if tracks.dim == 1 else tracks.position[rows, 0]
        y = tracks.position[rows, -1]
        ax.plot(x[~later], y[~later], "o", color=colour, markersize=3.5, label=f"{name} measured")
        if later.any():
            ax.plot(x[later], y[later], "o", color=colour, markersize=4.5, markerfacecolor="none",
                    label=f"{name} held out")
        t, position = dense[name]
        ax.plot(t if tracks.dim == 1 else position[:, 0], position[:, -1], "-", color=colour, linewidth=1.4,
                label=f"{name} model")
    if train_until is not None and tracks.dim == 1:
        ax.axvline(train_until, color="0.5", linestyle="--", linewidth=1.0)
    ax.set_xlabel("time (s)" if tracks.dim == 1 else "distance downrange x (m)")
    ax.set_ylabel("height (m)")
    ax.set_title(title)
    ax.legend(fontsize="x-small", ncol=2)
    return fig


def plot_force(speed: np.ndarray, curves: dict[str, np.ndarray], title: str) -> Figure:
    """Drag force magnitudes (N) over ``speed`` (m/s): one line per label (a learned force, a
    discovered or fitted law)."""
    fig, (ax,) = panels(1, width=6.0, height=4.2)
    for i, (label, force) in enumerate(curves.items()):
        ax.plot(speed, force, linestyle="-" if i == 0 else "--", linewidth=2.0 if i == 0 else 1.6, label=label)
    ax.set_xlabel("speed |v| (m/s)")
    ax.set_ylabel("drag force |F| (N)")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return fig


def plot_trajectories(trajectories: dict[str, dict[str, np.ndarray]]) -> Figure:
    """One panel per run ({label: {"x", "y", "exact_x", "exact_y", "t"}} in m and s): the
    network's trajectory dashed over the exact one, and on a twin axis the distance between them
    against time (log scale)."""
    fig, axes = panels(len(trajectories), width=4.6, height=3.6)
    for ax, (label, run) in zip(axes, trajectories.items()):
        ax.plot(run["exact_x"], run["exact_y"], **TRUTH_STYLE)
        ax.plot(run["x"], run["y"], "--", color="C1", label="network")
        ax.set(title=label, xlabel="x (m)", ylabel="y (m)")
        ax.legend(loc="lower center", fontsize="small")
        gap = np.hypot(run["x"] - run["exact_x"], run["y"] - run["exact_y"])
        twin = ax.twinx()
        twin.semilogy(run["exact_x"], np.maximum(gap, 1e-16), color="C2", linewidth=0.8)
        twin.set_ylabel("distance from exact (m)", color="C2")
    return fig


def plot_losses(losses: dict[str, list[tuple[str, np.ndarray, np.ndarray]]]) -> Figure:
    """One panel per run ({label: [(curve label, step, value)]}): each loss curve against its
    step (Adam's epochs, then L-BFGS's steps after them), log scale."""
    fig, axes = panels(len(losses), width=4.2, height=3.2)
    for ax, (label, curves) in zip(axes, losses.items()):
        for name, step, value in curves:
            shown = value > 0  # a shifted action ends at 0, which a log scale cannot show
            ax.semilogy(step[shown], value[shown], marker="." if len(step) < 50 else None, label=name)
        ax.set(title=label, xlabel="step (Adam epochs, then L-BFGS steps)", ylabel="loss")
        ax.legend(fontsize="small")
    return fig


def plot_effects(table: dict[str, np.ndarray]) -> Figure:
    """For each example wind (rows of ``table``: example, t, wind, <model>_dx, <model>_dy, …,
    "truth" among the models): the wind, then its effect on x and on y (m, against the calm
    path), the truth solid and each operator dashed."""
    examples = np.unique(table["example"])
    models = [key[:-3] for key in table if key.endswith("_dx")]
    fig, axes = panels(3 * len(examples), width=4.0, height=2.8)
    for row, example in enumerate(examples):
        pick = table["example"] == example
        t = table["t"][pick]
        axes[3 * row].plot(t, table["wind"][pick], color="C0")
        axes[3 * row].set(title=f"held-out wind {int(example) + 1}", xlabel="t (s)", ylabel="w (m/s)")
        for column, axis in ((1, "x"), (2, "y")):
            ax = axes[3 * row + column]
            for i, name in enumerate(models):
                style = TRUTH_STYLE if name == "truth" else {"linestyle": "--", "color": f"C{i + 1}", "label": name}
                ax.plot(t, table[f"{name}_d{axis}"][pick], **style)
            ax.set(title=f"effect on {axis}", xlabel="t (s)", ylabel=f"Δ{axis} (m)")
            ax.legend(fontsize="x-small")
    return fig
