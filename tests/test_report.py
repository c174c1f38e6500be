"""The report: figures and a self-contained, escaped HTML page from a run directory's files alone.

The page is parsed (html.parser) and its tables checked cell by cell against metrics.json; each
figure is checked to draw the files' data (its artists against the tables) and each inlined PNG
to show it (coloured pixels: the axes, labels and frame alone are black, white and grey).
"""

import base64
import io
import json
import os
import re
from html.parser import HTMLParser

import matplotlib.image
import numpy as np
import pytest
from matplotlib.container import BarContainer
from matplotlib.contour import ContourSet

from hybridlab.data import read_csv, write_csv
from hybridlab.report import build_report
from hybridlab.report.figures import load_metrics, plot_curves, plot_errors, plot_maps, plot_rmse

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
G = 9.81
SPEED_TRAIN, SPEED_EXTRAP = (5.0, 30.0), (30.0, 45.0)
ANGLE_TRAIN, ANGLE_EXTRAP = (20.0, 60.0), (10.0, 80.0)
EVIL = "<script>alert('pwned')</script>"
DASH = "—"


def vacuum_range(speed, angle):
    """Range (m) without drag for speed in m/s and angle in degrees."""
    return speed**2 * np.sin(np.deg2rad(2 * angle)) / G


def two_input_models(speed, angle):
    truth = vacuum_range(speed, angle)
    # The "mlp" runs away beyond 30 m/s, like a learner outside its data.
    return {"physics": truth * 1.002, "mlp": truth + 0.05 * np.maximum(speed - 30.0, 0.0) ** 2 + 0.1}


def metrics(scenario, inputs, output, units, models, train, extrap):
    return {
        "scenario": scenario, "seed": 7, "quick": True, "description": f"Synthetic {scenario} & <run>.",
        "inputs": inputs, "output": output, "units": units,
        "train_region": train, "extrap_region": extrap, "models": models,
    }


def model_metrics(**overrides):
    base = {"rmse_interp": 0.1234, "rmse_extrap": 5.678, "max_abs_err_interp": 0.4321, "fit_seconds": 0.0123,
            "n_params": 1201, "formula": None, "physics": None, "hessian_near_zero": None, "prior": None}
    return base | overrides


def make_run_2d(tmp_path):
    """A 2-input run: vacuum range over speed × angle, with a 'physics' and an 'mlp' model."""
    models = {
        "physics": model_metrics(rmse_interp=0.0021, rmse_extrap=0.0034, n_params=1, prior="drag law",
                                 physics={"k": {"value": 1.8012, "stderr": 0.0043},
                                          "mass": {"value": 2.0, "stderr": None}}, hessian_near_zero=0),
        "mlp": model_metrics(formula=EVIL, prior=EVIL),
    }
    units = {"speed": "m/s", "angle": "deg", "distance": "m"}
    regions = ({"speed": list(SPEED_TRAIN), "angle": list(ANGLE_TRAIN)},
               {"speed": list(SPEED_EXTRAP), "angle": list(ANGLE_EXTRAP)})
    summary = metrics("cannonball", ["speed", "angle"], "distance", units, models, *regions)
    (tmp_path / "metrics.json").write_text(json.dumps(summary))
    rng = np.random.default_rng(0)
    speed, angle = rng.uniform(5, 45, 30), rng.uniform(10, 80, 30)
    split = np.where((speed < 30) & (angle > 20) & (angle < 60), "train", "extrap")
    truth = vacuum_range(speed, angle)
    write_csv(tmp_path / "predictions.csv", {"split": split, "speed": speed, "angle": angle,
                                             "distance": truth + rng.normal(0, 0.1, 30), "true": truth,
                                             **two_input_models(speed, angle)})
    # The grid: speed varies slowest, as the runner writes it.
    speed, angle = (a.ravel() for a in np.meshgrid(np.linspace(5, 45, 15), np.linspace(10, 80, 12),
                                                   indexing="ij"))
    write_csv(tmp_path / "grid.csv", {"speed": speed, "angle": angle, "true": vacuum_range(speed, angle),
                                      **two_input_models(speed, angle)})
    speed, angle = np.tile(np.linspace(5, 45, 40), 3), np.repeat([30.0, 45.0, 60.0], 40)
    write_csv(tmp_path / "curves.csv", {"speed": speed, "angle": angle, "true": vacuum_range(speed, angle),
                                        **two_input_models(speed, angle)})
    return tmp_path


@pytest.fixture(scope="module")
def run_2d(tmp_path_factory):
    """make_run_2d's run directory with its report built, shared by the tests that only read it."""
    directory = make_run_2d(tmp_path_factory.mktemp("run_2d"))
    assert build_report(directory) == os.path.join(directory, "report.html")
    return directory


@pytest.fixture
def run_1d(tmp_path):
    """A 1-input run: y = sin x on [0, 3] for training, up to 5 for extrapolation; no grid.csv."""
    models = {"linear": model_metrics(n_params=2, formula="y = 0.5 + 0.1 x"), "basis": model_metrics()}
    (tmp_path / "metrics.json").write_text(json.dumps(metrics("sine", ["x"], "y", {}, models,
                                                              {"x": [0.0, 3.0]}, {"x": [3.0, 5.0]})))
    x = np.linspace(0, 5, 21)
    write_csv(tmp_path / "predictions.csv", {"split": np.where(x <= 3, "train", "extrap"), "x": x,
                                             "y": np.sin(x) + 0.05, "true": np.sin(x),
                                             "linear": 0.5 + 0.1 * x, "basis": np.sin(x) + 0.01 * x**3})
    x = np.linspace(0, 5, 60)
    write_csv(tmp_path / "curves.csv", {"x": x, "true": np.sin(x), "linear": 0.5 + 0.1 * x,
                                        "basis": np.sin(x) + 0.01 * x**3})
    return tmp_path


# --- the page, parsed ----------------------------------------------------------------------------


class Page(HTMLParser):
    """The parts of a report page the tests check: headings and paragraphs, each table as rows
    of cell texts (a ``<br>`` as a line break), and the images with their captions."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.texts: dict[str, list[str]] = {"h1": [], "p": [], "figcaption": []}
        self.tables: list[list[list[str]]] = []
        self.images: list[dict] = []
        self._open: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th", *self.texts):
            self._open = []
        elif tag == "br" and self._open is not None:
            self._open.append("\n")
        elif tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._open))
        elif tag in self.texts:
            self.texts[tag].append("".join(self._open))
        if tag in ("td", "th", *self.texts):
            self._open = None

    def handle_data(self, data):
        if self._open is not None:
            self._open.append(data)

    def table(self, first_heading: str) -> dict[str, dict[str, str]]:
        """The table whose first column is headed ``first_heading``: {first cell: {heading: cell}}."""
        (rows,) = [rows for rows in self.tables if rows[0][0] == first_heading]
        headings = rows[0]
        assert all(len(row) == len(headings) for row in rows)
        return {row[0]: dict(zip(headings, row)) for row in rows[1:]}

    def pngs(self) -> list[bytes]:
        """The inlined images, decoded."""
        prefix = "data:image/png;base64,"
        assert all(image["src"].startswith(prefix) for image in self.images)
        return [base64.b64decode(image["src"][len(prefix):], validate=True) for image in self.images]


def parse(path) -> Page:
    with open(path, encoding="utf-8") as handle:
        return Page(handle.read())


def expected_row(model: dict, unit: str) -> dict[str, str]:
    """A model's row as the page should show it: errors to 4 significant digits, the ratio and the
    fit time to 3, a dash for what metrics.json leaves null."""
    u = f" ({unit})" if unit else ""
    interp, extrap = model["rmse_interp"], model["rmse_extrap"]
    return {
        f"RMSE interp{u}": f"{interp:.4g}",
        f"RMSE extrap{u}": f"{extrap:.4g}",
        "extrap / interp": f"{extrap / interp:.3g}",
        f"max |err| interp{u}": f"{model['max_abs_err_interp']:.4g}",
        "fit (s)": f"{model['fit_seconds']:.3g}",
        "parameters": str(model["n_params"]),
        "prior": model["prior"] or DASH,
        "Hessian ≈ 0": DASH if model["hessian_near_zero"] is None else str(model["hessian_near_zero"]),
    }


def assert_models_table(page: Page, summary: dict) -> dict[str, dict[str, str]]:
    """Every model of metrics.json has one row, in its order, whose cells show its numbers."""
    table = page.table("model")
    assert list(table) == list(summary["models"])
    unit = summary["units"].get(summary["output"], "")
    for name, model in summary["models"].items():
        row = table[name]
        for heading, text in expected_row(model, unit).items():
            assert row[heading] == text, (name, heading)
    return table


def test_two_input_page_shows_metrics_json(run_2d):
    summary = json.loads((run_2d / "metrics.json").read_text())
    page = parse(run_2d / "report.html")
    assert page.texts["h1"] == ["cannonball — seed 7 (quick run)"]
    assert "Synthetic cannonball & <run>." in page.texts["p"]
    table = assert_models_table(page, summary)
    assert table["physics"]["extrap / interp"] == "1.62" and table["mlp"]["extrap / interp"] == "46"
    assert table["physics"]["formula / fitted physics"] == ("k = 1.801 ± 0.004\n"
                                                            "mass = 2 ± ∞ (not determined by the data)")
    assert table["mlp"]["formula / fitted physics"] == EVIL and table["mlp"]["prior"] == EVIL
    regions = page.table("input")
    assert list(regions) == ["speed", "angle"]
    for name, unit in (("speed", "m/s"), ("angle", "deg")):
        train, extrap = summary["train_region"][name], summary["extrap_region"][name]
        assert regions[name] == {"input": name, "unit": unit, "training region": f"[{train[0]:g}, {train[1]:g}]",
                                 "extrapolation region": f"[{extrap[0]:g}, {extrap[1]:g}]"}


def assert_coloured(png: bytes, at_least: float):
    """The PNG shows data: at least this fraction of its pixels is coloured (chroma > 0.25)."""
    assert png.startswith(PNG_MAGIC)
    rgb = matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3]
    coloured = np.mean(rgb.max(axis=-1) - rgb.min(axis=-1) > 0.25)
    assert coloured >= at_least, coloured


#: Per figure, the least fraction of coloured pixels it shows with its data drawn (about half what
#: these runs show). With its contours, curves or bars removed, what stays coloured (colour bars,
#: legend handles) is 0.6% of maps.png, 1.3% of errors.png, 0.02% of curves.png, 0.2% of rmse.png.
COLOURED = {"maps.png": 0.25, "errors.png": 0.08, "curves.png": 0.003, "rmse.png": 0.08}


def test_two_input_page_draws_its_figures_interactively_and_keeps_the_pngs(run_2d):
    """The maps, errors, curves and RMSE bars are drawn in the browser (tests/test_report_browser.py);
    their PNGs are still written, and show the data."""
    names = ["maps.png", "errors.png", "curves.png", "rmse.png"]
    assert sorted(os.listdir(run_2d / "figures")) == sorted(names)  # and no temporary file left behind
    page = parse(run_2d / "report.html")
    # Each one is stood for by an interactive figure, and shown only without JavaScript.
    assert page.pngs() == [(run_2d / "figures" / name).read_bytes() for name in names]
    assert (run_2d / "report.html").read_text().count("<noscript><figure>") == 4
    for name in names:
        assert_coloured((run_2d / "figures" / name).read_bytes(), COLOURED[name])
    data = page_data_of(run_2d)
    assert set(data) >= {"grid", "curves", "rmse"} and "trajectories" not in data  # no trajectories.csv in this run


def page_data_of(run):
    """The JSON the page's script draws, read back from the page."""
    text = (run / "report.html").read_text(encoding="utf-8")
    return json.loads(text.split('<script type="application/json" id="hybridlab-data">')[1].split("</script>")[0])


def test_the_interactive_maps_hold_the_grid_by_angle_and_speed(run_2d):
    data, grid = page_data_of(run_2d), read_csv(run_2d / "grid.csv")
    xs, ys = np.unique(grid["speed"]), np.unique(grid["angle"])
    assert data["grid"]["x"] == pytest.approx(xs) and data["grid"]["y"] == pytest.approx(ys)
    for name in ("true", "physics", "mlp"):
        layer = np.array(data["grid"]["layers"][name])
        assert layer.shape == (ys.size, xs.size)
        for speed, angle, value in zip(grid["speed"], grid["angle"], grid[name]):
            assert layer[np.searchsorted(ys, angle), np.searchsorted(xs, speed)] == pytest.approx(value, rel=1e-9)
    (at30, at45, at60) = data["curves"]
    assert (at30["at"], at45["at"], at60["at"]) == (30.0, 45.0, 60.0)
    assert at45["true"] == pytest.approx(vacuum_range(np.array(at45["x"]), 45.0), rel=1e-8)  # 10 digits sent


@pytest.mark.parametrize("table", ["trajectories.csv", "paths.csv"])  # paths.csv: a run written before the rename
def test_the_launch_explorer_has_the_true_trajectory_of_every_launch(tmp_path, table):
    directory = make_run_2d(tmp_path)
    grid = read_csv(directory / "grid.csv")
    points = 5
    t = np.linspace(0.0, 1.0, points)
    speed, angle = np.repeat(grid["speed"], points), np.repeat(grid["angle"], points)
    x = speed * np.cos(np.deg2rad(angle)) * np.tile(t, grid["speed"].size)
    write_csv(directory / table, {"speed": speed, "angle": angle, "t": np.tile(t, grid["speed"].size),
                                  "x": x, "y": np.zeros_like(x)})
    build_report(directory)
    data = page_data_of(directory)
    xs, ys = data["grid"]["x"], data["grid"]["y"]
    assert len(data["trajectories"]) == len(xs) * len(ys)
    j, i = 3, 7  # the trajectory at angle index j, speed index i is the one of that launch
    path_x, _ = data["trajectories"][j * len(xs) + i]
    assert path_x == pytest.approx(xs[i] * np.cos(np.deg2rad(ys[j])) * t)


def test_strings_from_files_are_escaped(run_2d):
    page = (run_2d / "report.html").read_text(encoding="utf-8")
    assert EVIL not in page and "alert('pwned')" not in page.replace("\\u003c", "<").split("</script>")[-1]
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page
    # Only the page's own scripts run: the JSON data (never executed), Plotly and the explorer,
    # each allowed by its hash; nothing external is loaded.
    assert page.count("<script") == 3 and page.count("'sha256-") == 2
    assert "default-src 'none'" in page
    head = page.split("<script")[0]
    assert "http://" not in head and "https://" not in head


def test_one_input_report_skips_the_maps(run_1d):
    page = parse(build_report(run_1d))
    assert sorted(os.listdir(run_1d / "figures")) == ["curves.png", "rmse.png"]
    table = assert_models_table(page, json.loads((run_1d / "metrics.json").read_text()))
    assert table["linear"]["formula / fitted physics"] == "y = 0.5 + 0.1 x"
    assert table["basis"]["formula / fitted physics"] == DASH
    # The curves and the bars are drawn in the browser; their PNGs only without JavaScript.
    assert page.pngs() == [(run_1d / "figures" / name).read_bytes() for name in ("curves.png", "rmse.png")]
    assert (run_1d / "report.html").read_text().count("<noscript><figure>") == 2
    for name in ("curves.png", "rmse.png"):
        assert_coloured((run_1d / "figures" / name).read_bytes(), COLOURED[name])
    data = page_data_of(run_1d)
    assert "grid" not in data and [group["at"] for group in data["curves"]] == [None]


def test_missing_grid_leaves_out_the_maps(tmp_path):
    make_run_2d(tmp_path)
    os.remove(tmp_path / "grid.csv")
    page = parse(build_report(tmp_path))
    assert sorted(os.listdir(tmp_path / "figures")) == ["curves.png", "rmse.png"]
    assert len(page.pngs()) == 2 and "grid" not in page_data_of(tmp_path)
    assert "<h2>Explore</h2>" not in (tmp_path / "report.html").read_text()  # no map: no explorer


# --- the figures draw the files' data -------------------------------------------------------------


def panels(fig) -> dict[str, object]:
    """The axes of a figure by title, colour bars left out."""
    return {ax.get_title(): ax for ax in fig.axes if ax.get_title()}


def contours(ax) -> ContourSet:
    (filled,) = [artist for artist in ax.collections if isinstance(artist, ContourSet)]
    assert sum(len(path.vertices) for path in filled.get_paths()) > 0
    return filled


def test_maps_fill_each_model_on_the_truths_scale(run_2d):
    summary, grid = load_metrics(run_2d), read_csv(run_2d / "grid.csv")
    axes = panels(plot_maps(summary, grid))
    assert list(axes) == ["true", "physics", "mlp"]
    truth = grid["true"]
    for name, ax in axes.items():
        levels = contours(ax).levels
        assert levels[0] <= truth.min() and truth.max() <= levels[-1]
        assert levels[-1] - levels[0] < 1.2 * np.ptp(truth)  # the truth's scale, not the mlp's
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("speed (m/s)", "angle (deg)")


def test_errors_are_drawn_on_each_models_own_scale(run_2d):
    summary, grid = load_metrics(run_2d), read_csv(run_2d / "grid.csv")
    axes = panels(plot_errors(summary, grid))
    assert list(axes) == ["physics − true", "mlp − true"]
    for name in ("physics", "mlp"):
        largest = np.max(np.abs(grid[name] - grid["true"]))
        levels = contours(axes[f"{name} − true"]).levels
        assert levels[0] == -levels[-1] and largest <= levels[-1] < 1.5 * largest


def test_curves_draw_the_truth_and_every_model(run_2d):
    summary, curves = load_metrics(run_2d), read_csv(run_2d / "curves.csv")
    axes = panels(plot_curves(summary, curves))
    assert list(axes) == ["angle = 30 deg", "angle = 45 deg", "angle = 60 deg"]
    for angle, ax in zip((30.0, 45.0, 60.0), axes.values()):
        rows = curves["angle"] == angle
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert sorted(lines) == ["mlp", "physics", "true"]
        for name, line in lines.items():
            np.testing.assert_array_equal(line.get_xdata(), curves["speed"][rows])
            np.testing.assert_array_equal(line.get_ydata(), curves[name][rows])


def test_one_input_curves_show_the_training_measurements(run_1d):
    summary, curves = load_metrics(run_1d), read_csv(run_1d / "curves.csv")
    predictions = read_csv(run_1d / "predictions.csv", text=("split",))
    train = predictions["split"] == "train"
    observed = predictions["x"][train], predictions["y"][train]
    (ax,) = plot_curves(summary, curves, observed).axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert sorted(lines) == ["basis", "linear", "training data", "true"]
    x = np.linspace(0, 5, 21)[:13]  # x <= 3, as the fixture writes them
    np.testing.assert_array_equal(lines["training data"].get_xdata(), x)
    np.testing.assert_array_equal(lines["training data"].get_ydata(), np.sin(x) + 0.05)
    np.testing.assert_array_equal(lines["linear"].get_ydata(), 0.5 + 0.1 * np.linspace(0, 5, 60))


def test_rmse_bars_are_the_metrics(run_2d):
    summary = load_metrics(run_2d)
    (ax,) = plot_rmse(summary).axes
    bars = [container for container in ax.containers if isinstance(container, BarContainer)]
    assert [bar.get_label() for bar in bars] == ["interpolation", "extrapolation"]
    for container, key in zip(bars, ("rmse_interp", "rmse_extrap")):
        heights = [patch.get_height() for patch in container.patches]
        assert heights == [summary["models"][name][key] for name in ("physics", "mlp")]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["physics", "mlp"]


# --- metrics.json is checked against its schema ----------------------------------------------------


def test_missing_metrics_is_a_value_error_naming_the_path(tmp_path):
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "metrics.json"))):
        build_report(tmp_path)


@pytest.mark.parametrize("change,message", [
    (lambda m: m.pop("output"), "no key 'output'"),
    (lambda m: m.pop("models"), "no key 'models'"),
    (lambda m: m.update(inputs="speed"), "key 'inputs': expected a list of strings, found a string"),
    (lambda m: m.update(inputs=["speed", 2]), "key 'inputs': expected a list of strings, found a list"),
    (lambda m: m.update(models={"mlp": 3}), "key 'models': expected an object of objects, found an object"),
    (lambda m: m.update(scenario=None), "key 'scenario': expected a string, found null"),
])
def test_a_malformed_metrics_json_names_the_file_and_key(tmp_path, change, message):
    make_run_2d(tmp_path)
    summary = json.loads((tmp_path / "metrics.json").read_text())
    change(summary)
    (tmp_path / "metrics.json").write_text(json.dumps(summary))
    with pytest.raises(ValueError, match=f"^{re.escape(str(tmp_path / 'metrics.json'))}.*{re.escape(message)}"):
        build_report(tmp_path)
    assert not (tmp_path / "report.html").exists()


def test_metrics_json_that_is_not_an_object(tmp_path):
    (tmp_path / "metrics.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="metrics.json: expected a JSON object, found a list"):
        build_report(tmp_path)
