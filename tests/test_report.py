"""The report: figures and a self-contained, escaped HTML page from a run directory's files alone."""

import base64
import csv
import json
import os
import re

import numpy as np
import pytest

from hybridlab.report import build_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
G = 9.81
SPEED_TRAIN, SPEED_EXTRAP = (5.0, 30.0), (30.0, 45.0)
ANGLE_TRAIN, ANGLE_EXTRAP = (20.0, 60.0), (10.0, 80.0)
EVIL = "<script>alert('pwned')</script>"


def write_table(path, columns):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(columns))
        writer.writerows(zip(*columns.values()))


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
    write_table(tmp_path / "predictions.csv", {"split": split, "speed": speed, "angle": angle,
                                               "distance": truth + rng.normal(0, 0.1, 30), "true": truth,
                                               **two_input_models(speed, angle)})
    # The grid: speed varies slowest, as the runner writes it.
    speed, angle = (a.ravel() for a in np.meshgrid(np.linspace(5, 45, 15), np.linspace(10, 80, 12),
                                                   indexing="ij"))
    write_table(tmp_path / "grid.csv", {"speed": speed, "angle": angle, "true": vacuum_range(speed, angle),
                                        **two_input_models(speed, angle)})
    speed, angle = np.tile(np.linspace(5, 45, 40), 3), np.repeat([30.0, 45.0, 60.0], 40)
    write_table(tmp_path / "curves.csv", {"speed": speed, "angle": angle, "true": vacuum_range(speed, angle),
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
    write_table(tmp_path / "predictions.csv", {"split": np.where(x <= 3, "train", "extrap"), "x": x,
                                               "y": np.sin(x) + 0.05, "true": np.sin(x),
                                               "linear": 0.5 + 0.1 * x, "basis": np.sin(x) + 0.01 * x**3})
    x = np.linspace(0, 5, 60)
    write_table(tmp_path / "curves.csv", {"x": x, "true": np.sin(x), "linear": 0.5 + 0.1 * x,
                                          "basis": np.sin(x) + 0.01 * x**3})
    return tmp_path


def assert_png(path):
    with open(path, "rb") as handle:
        assert handle.read(8) == PNG_MAGIC


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def inlined_pngs(page):
    uris = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    return [base64.b64decode(data) for data in uris]


def test_two_input_report(run_2d):
    names = ["maps.png", "errors.png", "curves.png", "rmse.png"]
    assert sorted(os.listdir(run_2d / "figures")) == sorted(names)  # and no temporary file left behind
    for name in names:
        assert_png(run_2d / "figures" / name)
    page = read(run_2d / "report.html")
    assert "cannonball — seed 7" in page
    assert "Synthetic cannonball &amp; &lt;run&gt;." in page
    for text in ["physics", "mlp", "0.0021", "0.0034", "1.62", "0.1234", "5.678", "46", "0.4321", "0.0123",
                 "1201", "k = 1.801 ± 0.004", "mass = 2 ± ∞ (not determined by the data)", "drag law",
                 "[5, 30]", "[30, 45]", "[20, 60]", "[10, 80]"]:
        assert text in page, text
    pngs = inlined_pngs(page)
    assert len(pngs) == 4 and all(png.startswith(PNG_MAGIC) for png in pngs)


def test_strings_from_files_are_escaped(run_2d):
    page = read(run_2d / "report.html")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page
    assert "http://" not in page and "https://" not in page  # self-contained


def test_one_input_report_skips_the_maps(run_1d):
    page = read(build_report(run_1d))
    assert sorted(os.listdir(run_1d / "figures")) == ["curves.png", "rmse.png"]
    for name in ["curves.png", "rmse.png"]:
        assert_png(run_1d / "figures" / name)
    assert len(inlined_pngs(page)) == 2
    assert "linear" in page and "basis" in page and "y = 0.5 + 0.1 x" in page


def test_missing_grid_leaves_out_the_maps(tmp_path):
    make_run_2d(tmp_path)
    os.remove(tmp_path / "grid.csv")
    page = read(build_report(tmp_path))
    assert sorted(os.listdir(tmp_path / "figures")) == ["curves.png", "rmse.png"]
    assert len(inlined_pngs(page)) == 2


def test_missing_metrics_is_a_value_error_naming_the_path(tmp_path):
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "metrics.json"))):
        build_report(tmp_path)
