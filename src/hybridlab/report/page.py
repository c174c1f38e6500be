"""The HTML report of a run directory: one self-contained page built from its results files alone.

Every string read from the files is passed through :func:`html.escape`, and the page forbids
scripts and every external resource (Content-Security-Policy), so a run directory from elsewhere
cannot make the page do anything but show itself.
"""

from __future__ import annotations

import base64
import html
import math
import os

from hybridlab.files import write_bytes
from hybridlab.report.figures import load_metrics, make_figures
from hybridlab.report.interactive import REPLACES, interactive_parts
from hybridlab.report.schema import Metrics, ModelMetrics

CAPTIONS = {
    "forecast_errors.png": "RMS position error of each rung against the horizon (log scale); dashed: the data-only "
    "rungs; the noise level and the noise band.",
    "forecast_errors_off.png": "The same, on the test tracks launched faster than any training track.",
    "forecast_tracks.png": "Test tracks: the observed points (filled), the measured rest (open circles), each rung's forecast "
    "with its predictive band.",
    "maps.png": "The true map beside each model's, on one colour scale; dashed: training region.",
    "errors.png": "Each model's error (model − true) on its own scale; red above the truth, blue below;"
    " dashed: training region.",
    "curves.png": "The output against the first input; shaded: its training range.",
    "rmse.png": "Root-mean-square error inside (interpolation) and outside (extrapolation) the"
    " training region.",
    "forces.png": "The drag force against the speed: the true law, and what each force-learning model (the"
    " UDE) learned from the ranges alone; shaded: the training launches' speeds.",
    "trajectories.png": "Each network's trajectory (dashed) over the exact one (solid), and its distance from it"
    " (log scale, right-hand axes).",
    "effects.png": "Three held-out winds and their effect on the trajectory (against the calm-air trajectory):"
    " the physics (solid) and each operator (dashed).",
    "losses.png": "The loss of each network during training: Adam every 100 epochs (each term of the"
    " inverse PINN apart), then L-BFGS, step by step; the Ritz action shifted by its final value.",
    "aim.png": "The learned aims flown by the true physics: how far each lands from its target, and how"
    " much faster than the least-speed shot it launches; shaded: the range of the training targets.",
}
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 80rem; margin: 2rem auto; padding: 0 1rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 2rem 0; }
img { max-width: 100%; }
code { white-space: pre-wrap; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; }
.plots > div { flex: 1 1 30rem; }
.slider { margin: 0.5rem 0; }
.slider label { display: inline-block; width: 5rem; }
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def csp(scripts: list[str] = ()) -> str:
    """The page's Content-Security-Policy: nothing external; inline styles; inline scripts only
    those whose hashes are given (``'sha256-…'``: the report's own and Plotly's)."""
    return CSP + (f"; script-src {' '.join(scripts)}" if scripts else "")
MISSING = "—"


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _num(value, spec: str = ".4g") -> str:
    """A number formatted by ``spec``; anything else (null, a string) escaped, or a dash."""
    if _is_number(value):
        return format(value, spec)
    return MISSING if value is None else html.escape(str(value))


def _plus_minus(name: str, fit) -> str:
    """``k = 1.801 ± 0.004``: the value to the decimal place of the standard error's first digit.
    A null standard error is an infinite one (JSON has no infinity): the data do not determine
    the parameter."""
    value, stderr = (fit or {}).get("value"), (fit or {}).get("stderr")
    if _is_number(value) and _is_number(stderr) and stderr > 0:
        decimals = min(max(0, -math.floor(math.log10(stderr))), 15)
        text = f"{value:.{decimals}f} ± {stderr:.{decimals}f}"
    elif stderr is None:
        text = f"{_num(value)} ± ∞ (not determined by the data)"
    else:
        text = f"{_num(value)} ± {_num(stderr)}"
    return f"{html.escape(name)} = {text}"


def _equation(model: ModelMetrics) -> str:
    """The model's formula and/or its fitted physical parameters, escaped, or a dash."""
    parts = []
    if model.get("formula"):
        parts.append(f"<code>{html.escape(str(model['formula']))}</code>")
    if isinstance(model.get("physics"), dict):
        parts.extend(_plus_minus(str(name), fit) for name, fit in model["physics"].items())
    return "<br>".join(parts) or MISSING


def _ratio(model: ModelMetrics) -> str:
    interp, extrap = model.get("rmse_interp"), model.get("rmse_extrap")
    return f"{extrap / interp:.3g}" if _is_number(interp) and _is_number(extrap) and interp > 0 else MISSING


def _count(value) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else _num(value)


def _model_row(name: str, model: ModelMetrics) -> str:
    prior = html.escape(str(model["prior"])) if model.get("prior") else MISSING
    numbers = [
        _num(model.get("rmse_interp")),
        _num(model.get("rmse_extrap")),
        _ratio(model),
        _num(model.get("max_abs_err_interp")),
        _num(model.get("fit_seconds"), ".3g"),
        _count(model.get("n_params")),
    ]
    cells = [
        f"<td>{html.escape(str(name))}</td><td>{prior}</td>",
        *(f'<td class="num">{text}</td>' for text in numbers),
        f"<td>{_equation(model)}</td>",
        f'<td class="num">{_count(model.get("hessian_near_zero"))}</td>',
    ]
    return "<tr>" + "".join(cells) + "</tr>"


def _models_table(metrics: Metrics) -> str:
    """One row per model; errors in the output's unit."""
    unit = (metrics.get("units") or {}).get(metrics["output"])
    u = f" ({html.escape(str(unit))})" if unit else ""
    heads = ["model", "prior", f"RMSE interp{u}", f"RMSE extrap{u}", "extrap / interp",
             f"max |err| interp{u}", "fit (s)", "parameters", "formula / fitted physics", "Hessian ≈ 0"]
    rows = [_model_row(name, model or {}) for name, model in metrics["models"].items()]
    return "<table><tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr>" + "".join(rows) + "</table>"


#: A 90 % interval that covers fewer of the measurements off the data than this is overconfident.
OVERCONFIDENT = 0.75


def _uncertainty_table(metrics: Metrics) -> str:
    """Each model's 90 % predictive interval: how it is made, its coverage of the held-out
    measurements and its mean width in and out of the training region, flagged where it covers
    far fewer than 90 % off the data."""
    unit = (metrics.get("units") or {}).get(metrics["output"])
    u = f" ({html.escape(str(unit))})" if unit else ""
    heads = ["rung", "interval", "coverage interp", "coverage extrap", f"width interp{u}", f"width extrap{u}", "trust off the data",
             "amplification interp", "amplification extrap"]
    rows = []
    for name, model in metrics["models"].items():
        model = model or {}
        extrap = model.get("coverage_extrap")
        flag = "<b>overconfident off the data</b>" if _is_number(extrap) and extrap < OVERCONFIDENT else ""
        numbers = [_num(model.get(key), ".3g") for key in ("coverage_interp", "coverage_extrap", "width_interp",
                                                          "width_extrap")]
        amplified = "".join(f'<td class="num">{_num(model.get(key), ".3g")}</td>'
                            for key in ("amplification_interp", "amplification_extrap"))
        rows.append(f"<tr><td>{html.escape(str(name))}</td><td>{html.escape(str(model.get('interval') or MISSING))}"
                    "</td>" + "".join(f'<td class="num">{text}</td>' for text in numbers) + f"<td>{flag}</td>"
                    + amplified + "</tr>")
    return ("<table><tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr>" + "".join(rows) + "</table>"
            f"<p>Nominal level 90 %; coverage is of the held-out measurements (noise included). A model is "
            f"flagged when its interval covers fewer than {OVERCONFIDENT:.0%} of them outside the training "
            "region. The bands in the curves are these intervals. Amplification: the largest change of the "
            "model's prediction when the launch moves by up to 0.5 m/s and 0.5°, over the physics' largest change "
            f"in the same box (median over 40 launches; 1 = as sensitive as the ball itself; found by "
            f"{html.escape(str(metrics.get('fragility', 'grid, then gradient ascent')))}).</p>")


def _interval(region: dict | None, name: str) -> str:
    bounds = (region or {}).get(name)
    if isinstance(bounds, list) and len(bounds) == 2:
        return f"[{_num(bounds[0])}, {_num(bounds[1])}]"
    return MISSING


def _regions_table(metrics: Metrics) -> str:
    """Training and extrapolation interval of every input, in the input's unit."""
    units = metrics.get("units") or {}
    rows = [
        f"<tr><td>{html.escape(str(name))}</td><td>{html.escape(str(units.get(name, '')))}</td>"
        f'<td class="num">{_interval(metrics.get("train_region"), name)}</td>'
        f'<td class="num">{_interval(metrics.get("extrap_region"), name)}</td></tr>'
        for name in metrics["inputs"]
    ]
    head = "<tr><th>input</th><th>unit</th><th>training region</th><th>extrapolation region</th></tr>"
    return "<table>" + head + "".join(rows) + "</table>"


def _shot(shot) -> str:
    """``59.83 m/s at 32.55°``, from a {speed, angle} object (angle in degrees)."""
    shot = shot if isinstance(shot, dict) else {}
    return f"{_num(shot.get('speed'), '.5g')} m/s at {_num(shot.get('angle'), '.4g')}°"


def _quantiles(stats) -> str:
    """median / 95th percentile / max of a {median, p95, max} object, as percentages."""
    stats = stats if isinstance(stats, dict) else {}
    return " / ".join(f"{100 * v:.3g} %" if _is_number(v) else MISSING
                      for v in (stats.get("median"), stats.get("p95"), stats.get("max")))


def _aiming(aiming) -> str:
    """The aiming section: exact shots, the published one checked, and each learned inverse."""
    if not isinstance(aiming, dict):
        return ""
    d = _num(aiming.get("distance"), "g")
    exact = (aiming.get("exact") or {}).get("least_speed")
    parts = ["<h2>Aiming</h2>", f"<p>Target {d} m downrange, on the ground. Exact least-speed shot: "
             f"<b>{_shot(exact)}</b>.</p>"]
    published = aiming.get("published")
    if isinstance(published, dict):
        arcs = published.get("arcs_at_speed") or {}
        parts.append(f"<p>The published shot, {_shot(published)}, really lands at {_num(published.get('lands_at'), '.6g')}"
                     f" m. At its speed the exact arcs are {_num(arcs.get('low'), '.6g')}° and "
                     f"{_num(arcs.get('high'), '.6g')}°; at its angle the exact speed is "
                     f"{_num(published.get('speed_at_angle'), '.6g')} m/s.</p>")
    learned = aiming.get("learned") or {}
    if learned:
        heads = ["decoder", f"shot for {d} m", "lands at (m)", "miss inside: median / 95 % / max",
                 "miss beyond", "speed above least, inside", "speed above least, beyond", "training (s)"]
        rows = []
        for name, entry in learned.items():
            entry = entry if isinstance(entry, dict) else {}
            inside, beyond = entry.get("interp") or {}, entry.get("beyond") or {}
            cells = [html.escape(str(name)), _shot(entry.get("shot")), _num((entry.get("shot") or {}).get("lands_at"), ".6g"),
                     _quantiles(inside.get("miss")), _quantiles(beyond.get("miss")),
                     _quantiles(inside.get("speed_excess")), _quantiles(beyond.get("speed_excess")),
                     _num(entry.get("train_seconds"), ".3g")]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        targets = aiming.get("targets") or {}
        parts.append(f"<p>Learned inverses (encoder through a frozen decoder, least-speed branch), trained on "
                     f"targets in {_interval(targets, 'train')} m, checked with the true physics on held-out "
                     f"targets inside that range and beyond it, in {_interval(targets, 'beyond')} m.</p>")
        parts.append("<table><tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr>" + "".join(rows) + "</table>")
    return "\n".join(parts)


def html_table(header: list[str], rows: list[list]) -> str:
    """A plain HTML table: floats to 4 significant digits (right-aligned), anything else as text."""
    def cell(value):
        if isinstance(value, float):
            return f'<td class="num">{value:.4g}</td>'
        return f"<td>{html.escape(str(value))}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def html_page(title: str, parts: list[str], scripts: list[str] = ()) -> str:
    """A self-contained report page (no external resources: the CSP forbids them) titled
    ``title`` (text) with ``parts`` (HTML) as its body, after an h1 of the title; ``scripts``:
    the CSP sources of the inline scripts it may run (:func:`interactive.lines_parts`)."""
    title = html.escape(title)
    return "\n".join(["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
                      f'<meta http-equiv="Content-Security-Policy" content="{csp(scripts)}">',
                      f"<title>{title}</title><style>{STYLE}</style></head><body>", f"<h1>{title}</h1>",
                      *parts, "</body></html>"])


def figure_html(path: str) -> str:
    """The PNG at ``path`` inlined as a base64 data URI, with its caption."""
    with open(path, "rb") as handle:
        data = base64.b64encode(handle.read()).decode("ascii")
    caption = html.escape(CAPTIONS.get(os.path.basename(path), os.path.basename(path)))
    image = f'<img src="data:image/png;base64,{data}" alt="{caption}">'
    return f"<figure>{image}<figcaption>{caption}</figcaption></figure>"


def fallback_html(path: str) -> str:
    """The PNG at ``path`` (:func:`figure_html`) shown only without JavaScript: the static twin of
    a figure the page draws interactively."""
    return f"<noscript>{figure_html(path)}</noscript>"


def render(metrics: Metrics, figures: list[str], interactive: tuple[list[str], list[str]] = ([], [])) -> str:
    """The report page as a string: title, description, regions, models table, the interactive
    figures (``interactive``: their HTML parts and their scripts' CSP sources), then the inlined
    PNG figures (those the interactive ones stand for left out)."""
    parts, scripts = interactive
    static = [path for path in figures if not parts or os.path.basename(path) not in REPLACES]
    # Without JavaScript, the PNGs the interactive figures stand for are shown instead.
    fallback = [fallback_html(path) for path in figures if path not in static]
    title = html.escape(f"{metrics['scenario']} — seed {metrics.get('seed', '?')}")
    quick = " (quick run)" if metrics.get("quick") else ""
    output = html.escape(str(metrics["output"]))
    inputs = html.escape(", ".join(map(str, metrics["inputs"])))
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{csp(scripts)}">',
            f"<title>{title}</title><style>{STYLE}</style></head><body>",
            f"<h1>{title}{quick}</h1>",
            f"<p>{html.escape(str(metrics.get('description', '')))}</p>",
            f"<p>Output <b>{output}</b> from inputs <b>{inputs}</b>.</p>",
            "<h2>Regions</h2>",
            _regions_table(metrics),
            "<h2>Models</h2>",
            _models_table(metrics),
            "<h2>Trust: 90 % predictive intervals and fragility</h2>",
            _uncertainty_table(metrics),
            _aiming(metrics.get("aiming")),
            *parts,
            "<h2>Figures</h2>",
            *fallback,
            *(figure_html(path) for path in static),
            "</body></html>",
        ]
    )


def build_report(run_dir: str | os.PathLike) -> str:
    """Make the figures and write ``<run_dir>/report.html`` (atomically); return its path.

    Raises ValueError naming the path if ``metrics.json`` is missing; a missing grid.csv or
    curves.csv only leaves out the figures drawn from it.
    """
    run_dir = os.fspath(run_dir)
    metrics = load_metrics(run_dir)
    page = render(metrics, make_figures(run_dir, metrics), interactive_parts(run_dir, metrics))
    path = os.path.join(run_dir, "report.html")
    write_bytes(path, page.encode("utf-8"))
    return path
