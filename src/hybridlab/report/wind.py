"""The report of ``hybridlab run --scenario wind``: each operator's error on the wind's effect
in and out of its training family, its speed against the physics, and three held-out winds."""

from __future__ import annotations

import json
import os

import numpy as np

from hybridlab.data.formats import read_csv
from hybridlab.files import write_bytes
from hybridlab.report.figures import plot_effects, write_figure
from hybridlab.report.interactive import line, lines_parts
from hybridlab.report.page import OVERCONFIDENT, fallback_html, html_page, html_table


def build_wind_report(run_dir: str) -> str:
    """Draw effects.png from effects.csv and write report.html."""
    with open(os.path.join(run_dir, "metrics.json"), encoding="utf-8") as handle:
        metrics = json.load(handle)
    figure = os.path.join(run_dir, "figures", "effects.png")
    os.makedirs(os.path.dirname(figure), exist_ok=True)
    effects = read_csv(os.path.join(run_dir, "effects.csv"))
    write_figure(plot_effects(effects), figure)
    parts, scripts = lines_parts(effect_lines(effects))
    rows = [[name, m["effect_test"], m["effect_shifted"], m.get("effect_fine", "—"), m["whole_test"], m["fit_s"],
             m["trajectories_per_s"]] for name, m in metrics["models"].items()]
    rows.append(["physics (Diffrax, batched)", 0.0, 0.0, 0.0, 0.0, "—", metrics["physics_trajectories_per_s"]])
    statistics = [(split, key) for split in ("test", "shifted") for key in ("mean", "median", "p90", "max")]
    tails = [[name, *(m[f"profiles_{split}"][key] for split, key in statistics)]
             for name, m in metrics["models"].items() if "profiles_test" in m]
    trust = [[name, m.get("interval", "—"), m.get("coverage_test", "—"), m.get("coverage_shifted", "—"), m.get("coverage_fine", "—"),
              m.get("width_test", "—"), m.get("width_shifted", "—"),
              "overconfident off the data" if m.get("coverage_shifted", 1.0) < OVERCONFIDENT else ""]
             for name, m in metrics["models"].items()]
    quick = " (quick run)" if metrics.get("quick") else ""
    (std, length), (shifted_std, shifted_length) = metrics["family"], metrics["shifted"]
    page = html_page(f"Neural operators: wind to trajectory — seed {metrics['seed']}{quick}", [
        f"<p>A baseball (40 m/s at 30°, quadratic drag) in a horizontal wind w(t) on [0, 2.5 s]; winds from a "
        f"Gaussian random field (std {std:g} m/s, length scale {length:g} s), {metrics['n']['train']} for "
        f"training and {metrics['n']['test']} held out. Errors are relative L2 errors of the wind's effect (the "
        f"trajectory minus the calm-air one) over a whole set; the rougher family has std {shifted_std:g} m/s and "
        f"length scale {shifted_length:g} s; 4× resolution is the held-out family at 256 samples, which only the "
        f"FNO can take. Speeds are warm, on the held-out batch.</p>",
        html_table(["operator", "relative error of the effect: held out", "rougher family", "4× resolution",
                    "relative error of the whole trajectory: held out", "fit (s)", "trajectories/s"], rows),
        "<h2>Error per wind</h2>",
        "<p>The pooled errors above weigh each wind by the size of its effect. Here each held-out wind's own "
        "relative error of the effect, ‖ŷ − y‖/‖y − y_calm‖: its mean, median, 90th percentile and maximum over the "
        "set — the tail where an operator cannot be trusted for one wind.</p>",
        html_table(["operator", "held out: mean", "median", "90th percentile", "max", "rougher family: mean", "median",
                    "90th percentile", "max"], tails),
        "<h2>Trust: 90 % predictive intervals</h2>",
        "<p>The share of the true trajectory's samples (every time, both coordinates) inside each operator's "
        "nominal 90 % interval, and the interval's mean width (m); each interval is a Laplace approximation in the "
        "operator's last linear map with a noise level per time sample (for the linear operator: the textbook "
        "least-squares interval). An operator "
        f"covering less than {OVERCONFIDENT:.0%} on the rougher family is flagged.</p>",
        html_table(["operator", "interval", "coverage: held out", "rougher family", "4× resolution", "width (m): held out",
                    "rougher family", "trust off the data"], trust),
        "<h2>Three held-out winds and their effect</h2>",
        "<p>Each wind, then its effect on x and on y against the calm-air path: the truth (black) and each "
        "operator's (dashed). A click on a legend entry hides or shows its curve.</p>",
        *parts, fallback_html(figure)], scripts)
    path = os.path.join(run_dir, "report.html")
    write_bytes(path, page.encode("utf-8"))
    return path


def effect_lines(table: dict[str, np.ndarray]) -> list[dict]:
    """The interactive figures of effects.csv (see :func:`~hybridlab.report.figures.plot_effects`):
    for each held-out wind, the wind (m/s), then its effect on x and on y (m), the truth solid and
    each operator dashed."""
    figures = []
    models = [key[:-3] for key in table if key.endswith("_dx")]
    for example in np.unique(table["example"]):
        pick = table["example"] == example
        t, label = table["t"][pick], f"held-out wind {int(example) + 1}"
        figures.append({"title": label, "x_label": "t (s)", "y_label": "w (m/s)",
                        "traces": [line("wind", t, table["wind"][pick])]})
        for axis in ("x", "y"):
            traces = [line(name, t, table[f"{name}_d{axis}"][pick], dash=name != "truth",
                           colour="black" if name == "truth" else None) for name in models]
            figures.append({"title": f"{label}: its effect on {axis}", "x_label": "t (s)", "y_label": f"Δ{axis} (m)",
                            "traces": traces})
    return figures
