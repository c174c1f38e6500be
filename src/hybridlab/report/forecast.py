"""The report of ``hybridlab run --scenario forecast``, from the run's files alone: the error of
each rung against the horizon, forecast tracks with their bands, and where each can be trusted."""

from __future__ import annotations

import json
import os

import numpy as np
from scipy import stats

from hybridlab.data.formats import read_csv
from hybridlab.files import write_bytes
from hybridlab.report.figures import panels, write_figure
from hybridlab.report.interactive import line, line_container, lines_parts
from hybridlab.report.page import fallback_html, html_page, html_table

#: Test tracks drawn with every rung's forecast.
SHOWN = 3
#: Dashed: data only; solid: the equations of motion inside.
DATA_ONLY = ("constant acceleration", "echo state network", "LSTM")


def plot_horizon_errors(errors: dict, noise: float, band: float):
    """RMS error (log) against the horizon, one line per rung, the noise level and band."""
    fig, (ax,) = panels(1, width=7.5, height=4.6, ncols=1)
    for i, rung in enumerate(dict.fromkeys(errors["rung"])):
        rows = errors["rung"] == rung
        ax.plot(errors["horizon_s"][rows], errors["rmse"][rows], color=f"C{i}", label=rung,
                linestyle="--" if rung in DATA_ONLY else "-", linewidth=1.8)
    ax.axhline(noise, color="black", linewidth=1, label=f"noise σ = {noise:g} m")
    ax.axhline(band * noise, color="black", linewidth=1, linestyle=":", label=f"noise band {band:g}σ")
    ax.set_yscale("log")
    ax.set_xlabel("horizon: time after the last observed point (s)")
    ax.set_ylabel("RMS position error (m)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return fig


def plot_forecast_tracks(tracks: dict, forecasts: dict, level_z: float):
    """Height against time for SHOWN test tracks (the last one launched off the training
    launches, where there are such): observed points, the measured rest, each rung's forecast
    with its band ŷ ± z·s."""
    names = _shown(tracks)
    fig, axes = panels(len(names), width=5.0, height=3.8)
    for ax, name in zip(axes, names):
        for part, style in (("observed", {"color": "black", "s": 14}),
                            ("later", {"facecolors": "none", "edgecolors": "black", "s": 22, "linewidths": 0.9})):
            rows = (tracks["track"] == name) & (tracks["part"] == part)
            ax.scatter(tracks["t"][rows], tracks["y"][rows], label=f"measured ({part})", zorder=5, **style)
        for i, rung in enumerate(dict.fromkeys(forecasts["rung"])):
            rows = (forecasts["track"] == name) & (forecasts["rung"] == rung)
            t, y, s = (forecasts[key][rows] for key in ("t", "y", "std_y"))
            ax.plot(t, y, color=f"C{i}", label=rung, linestyle="--" if rung in DATA_ONLY else "-", linewidth=1.3)
            ax.fill_between(t, y - level_z * s, y + level_z * s, color=f"C{i}", alpha=0.08, linewidth=0)
        ax.set_title(f"track {name}")
        ax.set_xlabel("t (s)")
        ax.set_ylabel("height y (m)")
        top = np.max(tracks["y"][tracks["track"] == name])
        ax.set_ylim(-0.15 * top, 1.25 * top)
    axes[0].legend(fontsize=7)
    return fig


def _shown(tracks: dict) -> list[str]:
    """The test tracks the figures show: the first :data:`SHOWN`, the last of them launched off
    the training launches where there are such."""
    names = list(dict.fromkeys(tracks["track"]))
    off = [name for name in names if name.startswith("off/")]
    return [name for name in names if name not in off][:SHOWN - min(1, len(off))] + off[:1]


def track_lines(tracks: dict, forecasts: dict, level_z: float) -> list[dict]:
    """The interactive twin of :func:`plot_forecast_tracks`: for each shown track, the observed
    and the later measured points, each rung's forecast (dashed: the data-only ones) and, listed
    but hidden until clicked, the outline of its band ŷ ± z·s."""
    figures = []
    for name in _shown(tracks):
        traces = []
        for part, colour in (("observed", "black"), ("later", "gray")):
            rows = (tracks["track"] == name) & (tracks["part"] == part)
            traces.append(line(f"measured ({part})", tracks["t"][rows], tracks["y"][rows], colour=colour,
                               joined=False))
        for i, rung in enumerate(dict.fromkeys(forecasts["rung"])):
            rows = (forecasts["track"] == name) & (forecasts["rung"] == rung)
            t, y, s = (forecasts[key][rows] for key in ("t", "y", "std_y"))
            # A rung and its band in one colour, the rung's in the PNG (Matplotlib's "Ci").
            traces += [line(rung, t, y, dash=rung in DATA_ONLY, colour=i),
                       line(f"{rung}: band", np.r_[t, t[::-1]], np.r_[y + level_z * s, (y - level_z * s)[::-1]],
                            dash=True, colour=i, hidden=True)]
        figures.append({"title": f"track {name}", "x_label": "t (s)", "y_label": "height y (m)", "traces": traces})
    return figures


def _rung_rows(metrics: dict) -> list[list]:
    rows = []
    for name, m in metrics["rungs"].items():
        leaves = "stays inside" if m["leaves_band_s"] is None else m["leaves_band_s"]
        coverage = "none" if m["coverage"] is None else m["coverage"]
        errors = ["not forecast" if m[key] is None else m[key] for key in ("rmse_first", "rmse_last")]
        rows.append([name, *errors, leaves, coverage, m["forecast_share"], m["fit_s"], m["forecast_s"]])
    return rows


def trust_words(metrics: dict) -> str:
    """Where each rung can be trusted, in words drawn from the run's numbers."""
    rungs, band = metrics["rungs"], metrics["band"] * metrics["noise"]
    near = [name for name, m in rungs.items() if m["rmse_first"] is not None and m["rmse_first"] <= band]
    last = min(m["last_s"] for m in rungs.values())
    error = {name: np.inf if m["rmse_last"] is None else m["rmse_last"] for name, m in rungs.items()}  # null: refused
    best = min(error, key=error.get)
    far = ", ".join(f"{name} " + (f"{error[name] / error[best]:.3g}×" if np.isfinite(error[name]) else "(not forecast)")
                    for name in rungs if name != best)
    kept = [name for name, m in rungs.items() if m["leaves_band_s"] is None]
    honest = [name for name, m in rungs.items() if m["coverage"] is not None
              and abs(m["coverage"] - metrics["level"]) <= 0.05]
    refused = [name for name, m in rungs.items() if m["forecast_share"] < 1]
    parts = [f"One step ({metrics['step']:g} s) ahead, within the noise band ({metrics['band']:g}σ): "
             f"{', '.join(near) or 'none'}.",
             f"{last:g} s ahead the smallest error is the {best}'s; the others' are {far} as large.",
             f"Within the noise band all the way: {', '.join(kept) or 'none'}.",
             f"Intervals that cover within 5 points of {metrics['level']:.0%}: {', '.join(honest) or 'none'}; "
             "the others' are too narrow or too wide here, and every interval speaks for launches like the "
             "training ones only."]
    if refused:
        parts.append(f"Refused past the horizon they were checked on: {', '.join(refused)} (share forecast < 1).")
    return " ".join(parts)


def _error_lines(errors: dict, noise: float, band: float, title: str) -> dict:
    """The interactive figure of RMS error (log) against the horizon: a line per rung (dashed:
    the data-only ones), the noise level and band."""
    traces = [line(rung, errors["horizon_s"][errors["rung"] == rung], errors["rmse"][errors["rung"] == rung],
                   dash=rung in DATA_ONLY, markers=True) for rung in dict.fromkeys(errors["rung"])]
    span = [float(np.min(errors["horizon_s"])), float(np.max(errors["horizon_s"]))]
    traces += [line(f"noise σ = {noise:g} m", span, [noise, noise], colour="black"),
               line(f"noise band {band:g}σ", span, [band * noise] * 2, dash=True, colour="black")]
    return {"title": f"RMS position error {title}", "x_label": "horizon: time after the last observed point (s)",
            "y_label": "RMS position error (m)", "log_y": True, "traces": traces}


def _of_set(errors: dict, label: str) -> dict:
    rows = errors["set"] == label
    return {key: values[rows] for key, values in errors.items()}


def _off_part(metrics: dict) -> list[str]:
    """The table of the test tracks launched faster than any training track (none: nothing)."""
    rungs = {name: m["off"] for name, m in metrics["rungs"].items() if "off" in m}
    if not rungs:
        return []
    low, high = metrics["off_speeds"]
    rows = [[name, *("not forecast" if m[key] is None else m[key] for key in ("rmse_first", "rmse_last")),
             "stays inside" if m["leaves_band_s"] is None else m["leaves_band_s"],
             "none" if m["coverage"] is None else m["coverage"], m["forecast_share"]] for name, m in rungs.items()]
    last = min(m["last_s"] for m in rungs.values())
    return [f"<h2>Off the training launches</h2><p>{metrics['tracks']['off']} more test tracks launched at "
            f"{low:g}–{high:g} m/s, faster than any training track ({metrics['speeds'][0]:g}–"
            f"{metrics['speeds'][1]:g} m/s), forecast by the same fitted rungs.</p>",
            html_table(["rung", f"RMS error {metrics['step']:g} s ahead (m)", f"RMS error {last:g} s ahead (m)",
                        f"leaves the {metrics['band']:g}σ noise band (s ahead)",
                        f"{metrics['level']:.0%} interval coverage", "share forecast"], rows)]


def build_forecast_report(run_dir: str) -> str:
    """Draw forecast_errors.png and forecast_tracks.png from the run's files and write report.html."""
    with open(os.path.join(run_dir, "metrics.json"), encoding="utf-8") as handle:
        metrics = json.load(handle)
    errors = read_csv(os.path.join(run_dir, "errors.csv"), text=("rung", "set"))
    tracks = read_csv(os.path.join(run_dir, "tracks.csv"), text=("part", "track"))
    forecasts = read_csv(os.path.join(run_dir, "forecasts.csv"), text=("rung", "track"))
    z = float(stats.norm.ppf(0.5 + metrics["level"] / 2))
    os.makedirs(os.path.join(run_dir, "figures"), exist_ok=True)
    figures = []
    drawn = [("forecast_errors.png", plot_horizon_errors(_of_set(errors, "family"), metrics["noise"], metrics["band"])),
             ("forecast_tracks.png", plot_forecast_tracks(tracks, forecasts, z))]
    if np.any(errors["set"] == "off"):
        drawn.append(("forecast_errors_off.png", plot_horizon_errors(_of_set(errors, "off"), metrics["noise"],
                                                                     metrics["band"])))
    for name, fig in drawn:
        figures.append(os.path.join(run_dir, "figures", name))
        write_figure(fig, figures[-1])
    sets = [("family", "on test tracks like the training ones")] + (
        [("off", "on test tracks launched faster than any training one")] if np.any(errors["set"] == "off") else [])
    lines = [_error_lines(_of_set(errors, label), metrics["noise"], metrics["band"], title) for label, title in sets]
    parts, scripts = lines_parts(lines + track_lines(tracks, forecasts, z))
    errors_shown = [line_container(i) for i in range(len(lines))]
    tracks_shown = [line_container(i) for i in range(len(lines), len(lines) + len(_shown(tracks)))]
    last = min(m["last_s"] for m in metrics["rungs"].values())
    quick = " (quick run)" if metrics.get("quick") else ""
    page = html_page(f"Forecasting a track from its past — seed {metrics['seed']}{quick}", [
        f"<p>{metrics['tracks']['test']} simulated baseball tracks (quadratic drag, noise σ = {metrics['noise']:g} m, "
        f"a point every {metrics['step']:g} s) are observed up to a cut and forecast after it. Every rung sees the "
        f"same data: {metrics['tracks']['train']} training tracks and the observed parts. The data-only rungs "
        "(dashed in the figures) learn the next step; the others have the equations of motion inside.</p>",
        html_table(["rung", f"RMS error {metrics['step']:g} s ahead (m)", f"RMS error {last:g} s ahead (m)",
                    f"leaves the {metrics['band']:g}σ noise band (s ahead)",
                    f"{metrics['level']:.0%} interval coverage", "share forecast", "fit (s)", "forecast (s)"],
                   _rung_rows(metrics)),
        f"<p><b>Where each can be trusted.</b> {trust_words(metrics)}</p>",
        *_off_part(metrics),
        "<h2>RMS error against the horizon</h2>", *errors_shown,
        "<h2>Forecast tracks</h2>", "<p>A click on a rung's band in the legend draws its outline.</p>", *tracks_shown,
        *(fallback_html(path) for path in figures), *parts[1:]], scripts)
    path = os.path.join(run_dir, "report.html")
    write_bytes(path, page.encode("utf-8"))
    return path
