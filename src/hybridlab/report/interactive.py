"""The interactive figures of a run's report, drawn in the reader's browser by Plotly from the
run's files alone: the maps of the truth, each model and each model's error, with hover values;
the curves with their predictive bands; the errors in and out of the training region; and a
launch explorer — sliders for speed and angle that move a marker across the maps and set every
model's predicted output beside the truth, a toggle per model, and the true trajectory of the chosen
launch (``trajectories.csv``).

The page stays one self-contained file that works offline: Plotly's library (from the
``plotly`` package) and the explorer's script (``interactive.js`` beside this module) are
inlined, and the page's Content-Security-Policy allows those two scripts by their SHA-256 and
nothing else. The data travel as JSON in a ``<script type="application/json">`` element, which
no browser executes; strings from the files are JSON-escaped there, set as text in the page, and
escaped before Plotly (which reads its labels as markup) sees them.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.resources
import json
import os

import numpy as np

from hybridlab.data.formats import read_csv
from hybridlab.report.schema import Metrics

#: The static figures the interactive ones stand for (their PNGs are still written to figures/).
REPLACES = ("maps.png", "errors.png", "curves.png", "rmse.png")
#: Significant digits of the numbers sent to the page (the table shows 4).
DIGITS = 10


def plotly_js() -> str:
    """Plotly's library, as the ``plotly`` package ships it (no network: the page works offline)."""
    return importlib.resources.files("plotly").joinpath("package_data/plotly.min.js").read_text(encoding="utf-8")


def explorer_js() -> str:
    """The script that draws the figures and wires the sliders and toggles (``interactive.js``)."""
    return importlib.resources.files("hybridlab.report").joinpath("interactive.js").read_text(encoding="utf-8")


def script_hash(script: str) -> str:
    """The CSP source that allows exactly this inline script: ``'sha256-…'``."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def _rounded(values) -> list:
    """Floats to :data:`DIGITS` significant digits; NaN and infinities as None (JSON has neither)."""
    array = np.asarray(values, dtype=float)
    return [float(f"{v:.{DIGITS}g}") if np.isfinite(v) else None for v in array.ravel()]


def _number(value) -> float | None:
    """A finite number from metrics.json, else None (null, NaN, text)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)
    return float(value) if ok else None


def _grid(metrics: Metrics, grid: dict) -> dict:
    """The map's values as rows by angle, columns by speed: {"speed", "angle", "layers": {name: (angle, speed)}}."""
    first, second = metrics["inputs"]
    xs, ys = np.unique(grid[first]), np.unique(grid[second])
    column, row = np.searchsorted(xs, grid[first]), np.searchsorted(ys, grid[second])
    names = ["true", *[name for name in metrics["models"] if name in grid]]
    layers = {}
    for name in names:
        values = np.full((ys.size, xs.size), np.nan)
        values[row, column] = grid[name]
        layers[name] = [_rounded(line) for line in values]
    return {"x": _rounded(xs), "y": _rounded(ys), "layers": layers}


def _curves(metrics: Metrics, curves: dict) -> dict:
    """Curves against the first input, grouped by the second one's value where there is one:
    [{"at": value or None, "x", "true", "models": {name: {"y", "low", "high"}}}]."""
    inputs = metrics["inputs"]
    groups = np.unique(curves[inputs[1]]) if len(inputs) == 2 else [None]
    out = []
    for value in groups:
        rows = np.ones(len(curves[inputs[0]]), bool) if value is None else curves[inputs[1]] == value
        models = {}
        for name in metrics["models"]:
            if name in curves:
                models[name] = {"y": _rounded(curves[name][rows])}
                if f"{name}:low" in curves:
                    models[name] |= {"low": _rounded(curves[f"{name}:low"][rows]),
                                     "high": _rounded(curves[f"{name}:high"][rows])}
        out.append({"at": None if value is None else float(value), "x": _rounded(curves[inputs[0]][rows]),
                    "true": _rounded(curves["true"][rows]), "models": models})
    return out


def _trajectories(metrics: Metrics, table: dict, grid: dict) -> list:
    """The true trajectory of every map launch, in the map's order (by angle, then speed): [[x…], [y…]]."""
    first, second = metrics["inputs"]
    xs, ys = grid["x"], grid["y"]
    keys = list(zip(table[first], table[second]))
    by_launch: dict = {}
    for key, x, y in zip(keys, table["x"], table["y"]):
        by_launch.setdefault(key, ([], []))
        by_launch[key][0].append(x)
        by_launch[key][1].append(y)
    found = {(float(f"{a:.{DIGITS}g}"), float(f"{b:.{DIGITS}g}")): value for (a, b), value in by_launch.items()}
    return [[_rounded(found[(x, y)][0]), _rounded(found[(x, y)][1])] if (x, y) in found else None
            for y in ys for x in xs]


def trajectories_file(run_dir: str) -> str:
    """The run's table of trajectories: ``trajectories.csv``, or ``paths.csv`` in a run directory
    written before the table was renamed (such a run can still be rebuilt)."""
    path = os.path.join(run_dir, "trajectories.csv")
    older = os.path.join(run_dir, "paths.csv")
    return older if not os.path.isfile(path) and os.path.isfile(older) else path


def page_data(run_dir: str | os.PathLike, metrics: Metrics) -> dict | None:
    """What the page's script draws, from the run's grid.csv, curves.csv, trajectories.csv and
    metrics.json; None when the run has none of them."""
    run_dir = os.fspath(run_dir)
    units = metrics.get("units") or {}
    data = {"inputs": list(metrics["inputs"]), "output": metrics["output"], "units": units,
            "models": list(metrics["models"]), "train_region": metrics.get("train_region"),
            "extrap_region": metrics.get("extrap_region"),
            "rmse": {name: [_number((m or {}).get(key)) for key in ("rmse_interp", "rmse_extrap")]
                     for name, m in metrics["models"].items()}}
    grid_path, curves_path = os.path.join(run_dir, "grid.csv"), os.path.join(run_dir, "curves.csv")
    if len(metrics["inputs"]) == 2 and os.path.isfile(grid_path):
        data["grid"] = _grid(metrics, read_csv(grid_path))
        trajectories_path = trajectories_file(run_dir)
        if os.path.isfile(trajectories_path):
            data["trajectories"] = _trajectories(metrics, read_csv(trajectories_path), data["grid"])
    if os.path.isfile(curves_path):
        data["curves"] = _curves(metrics, read_csv(curves_path))
    return data if "grid" in data or "curves" in data else None


def data_element(data: dict) -> str:
    """The data as a JSON element no browser executes; ``<`` escaped so that no string from the
    files can close the element."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":")).replace("<", "\\u003c")
    return f'<script type="application/json" id="hybridlab-data">{text}</script>'


def section(data: dict) -> str:
    """The containers the script fills, in page order: only those the run has data for."""
    parts = []
    if "grid" in data:
        path = (" the trajectory is the true one" if "trajectories" in data else
                " (this run has no trajectories.csv: no trajectory is drawn)")
        parts += ["<h2>Explore</h2>",
                  "<p>Move the sliders to choose a launch: the marker moves across the map, the table gives every "
                  f"model's prediction beside the truth, and{path}. Hover over any map or curve for its values; a box "
                  "in the table or a click on a legend entry shows or hides a model.</p>",
                  '<div id="explorer"></div>', "<h2>Maps</h2>", '<div id="maps"></div>']
    if "curves" in data:
        parts += ["<h2>Curves</h2>", '<div id="curves"></div>']
    parts += ["<h2>Errors in and out of the training region</h2>", '<div id="rmse"></div>']
    return "\n".join(parts)


def interactive_parts(run_dir: str | os.PathLike, metrics: Metrics) -> tuple[list[str], list[str]]:
    """(HTML parts for the page, CSP sources for their scripts); nothing when the run has no
    data to draw."""
    data = page_data(run_dir, metrics)
    if data is None:
        return [], []
    return _drawn(section(data), data)


def line(name: str, x, y, dash: bool = False, colour: str | int | None = None, markers: bool = False,
         hidden: bool = False, joined: bool = True) -> dict:
    """One curve of a line figure: ``name`` (text, shown literally), x and y (finite values; NaN
    leaves a gap), dashed or not, an optional colour (CSS, or i: the page's i-th, as Matplotlib's
    "Ci"), markers at the points, ``hidden``
    (listed in the legend, drawn after a click on it), and ``joined`` (False: markers alone,
    for points that are not a curve)."""
    return {"name": str(name), "x": _rounded(x), "y": _rounded(y), "dash": dash, "colour": colour,
            "markers": markers, "hidden": hidden, "joined": joined}


def lines_parts(figures: list[dict]) -> tuple[list[str], list[str]]:
    """(HTML parts, CSP sources) of interactive line figures, each a dict: ``title``,
    ``x_label``, ``y_label``, ``traces`` (:func:`line`), and optionally ``log_x``, ``log_y``,
    ``equal`` (one scale on both axes), ``x_integers`` (a tick at each integer): hover values, a legend entry per curve that hides or
    shows it, zoom. The pages of the scenarios that are not a ladder draw theirs so."""
    if not figures:
        return [], []
    return _drawn("".join(line_container(i) for i in range(len(figures))), {"lines": figures})


def line_container(i: int) -> str:
    """Where the ``i``-th figure of :func:`lines_parts` is drawn: a page that spreads its
    figures over several sections places these itself and keeps the rest of the parts."""
    return f'<div id="lines-{i}"></div>'


@functools.lru_cache(maxsize=1)
def _scripts() -> tuple[tuple[str, str], tuple[str, str]]:
    """(Plotly's library and the page's script, their CSP sources): read and hashed once a process."""
    scripts = (plotly_js(), explorer_js())
    return scripts, tuple(script_hash(script) for script in scripts)


def _drawn(containers: str, data: dict) -> tuple[list[str], list[str]]:
    """(HTML parts, CSP sources) of a page section: its containers, its data, and the two scripts
    that draw the data into them."""
    (library, script), sources = _scripts()
    return [containers, data_element(data), f"<script>{library}</script>", f"<script>{script}</script>"], list(sources)
