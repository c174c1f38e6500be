"""The runner and the claims of the model ladder, at --quick sizes with fixed seeds.

References: 1/g for the cannon's formula (the no-drag range v² sin 2θ / g), the true drag
coefficient k = 1.8 kg/s of the simulated shot put, the autograd lecture's Hessian finding.
"""

import csv
import json
import os
import stat

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reference import linear_drag

from hybridlab import Projectile
from hybridlab.cli import main
from hybridlab.data import read_shots
from hybridlab.experiments.runner import fitted_apart, run
from hybridlab.experiments.scenarios import LADDERS
from hybridlab.models import PhysicsFit, load

G = 9.81


@pytest.fixture(scope="module")
def shotput(tmp_path_factory):
    """A quick run of three rungs, the physics fit in a second process (as a run fits a UDE):
    the aiming section waits for it, and the tests below check what it sent back."""
    out = tmp_path_factory.mktemp("runs") / "shotput"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PhysicsFit, "compiles_for_long", True)
        lines = []
        metrics = run("shotput", 0, str(out), quick=True, models=["physics", "mlp", "hybrid"], echo=lines.append)
        apart = fitted_apart({"physics": PhysicsFit(), "mlp": None}) == ["physics"]  # 2+ cores, JAX on the CPU
    assert any(line.startswith("  physics") and line.endswith("(second process)") for line in lines) == apart
    return out, metrics


@pytest.fixture(scope="module")
def cuberoot(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "cuberoot"
    return out, run("cuberoot", 0, str(out), quick=True, models=["linear", "mlp-lm"],
                    echo=lambda line: None)


def test_run_directory_holds_every_result_file(shotput):
    out, metrics = shotput
    for name in ("metrics.json", "predictions.csv", "grid.csv", "curves.csv", "trajectories.csv", "report.html",
                 "figures/maps.png", "figures/errors.png", "figures/curves.png", "figures/rmse.png"):
        assert (out / name).is_file(), name
    assert sorted(os.listdir(out / "models")) == ["hybrid", "mlp", "physics"]
    assert not [p for p in os.listdir(out.parent) if ".partial-" in p]
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["scenario"] == "shotput" and on_disk["seed"] == 0
    keys = {"rmse_interp", "rmse_extrap", "max_abs_err_interp", "fit_seconds", "n_params", "formula",
            "physics", "hessian_near_zero"}
    for entry in on_disk["models"].values():
        assert keys <= set(entry)


def test_a_rung_fitted_in_the_second_process_is_the_rung_fitted_here(shotput):
    _, metrics = shotput
    spec = LADDERS["shotput"]
    splits = spec.splits(0, True)
    here = spec.ladder(True, 0)["physics"].fit(splits["train"].X, splits["train"].y)
    apart = metrics["models"]["physics"]
    assert apart["physics"]["k"] == here.summary()["physics"]["k"]
    interp = here.predict(splits["interp"].X)
    assert apart["rmse_interp"] == float(np.sqrt(np.mean((interp - splits["interp"].y) ** 2)))


def test_saved_models_reproduce_the_predictions_file(shotput):
    out, _ = shotput
    with open(out / "predictions.csv") as file:
        rows = list(csv.DictReader(file))
    X = np.array([[float(r["speed"]), np.deg2rad(float(r["angle"]))] for r in rows])
    for name in ("physics", "hybrid"):
        saved = np.array([float(r[name]) for r in rows])
        np.testing.assert_allclose(load(out / "models" / name).predict(X), saved, rtol=1e-12)


def test_rmse_matches_an_independent_computation(shotput):
    out, metrics = shotput
    with open(out / "predictions.csv") as file:
        rows = [r for r in csv.DictReader(file) if r["split"] == "extrap"]
    error = np.array([float(r["mlp"]) - float(r["distance"]) for r in rows])
    assert metrics["models"]["mlp"]["rmse_extrap"] == pytest.approx(np.sqrt(np.mean(error**2)), rel=1e-12)


def test_shotput_physics_fit_recovers_k_and_extrapolates(shotput):
    _, metrics = shotput
    physics = metrics["models"]["physics"]
    k = physics["physics"]["k"]
    assert abs(k["value"] - 1.8) < 0.01 * 1.8
    assert abs(k["value"] - 1.8) < 4 * k["stderr"] < 0.01  # the standard error is consistent with the true error
    assert physics["rmse_extrap"] < 2 * physics["rmse_interp"]


def test_shotput_hybrid_beats_the_black_box_in_extrapolation(shotput):
    _, metrics = shotput
    assert metrics["models"]["hybrid"]["prior"] == "no drag m=7.26 kg"
    assert metrics["models"]["hybrid"]["rmse_extrap"] < metrics["models"]["mlp"]["rmse_extrap"]


def test_cannon_basis_recovers_the_range_formula(tmp_path):
    metrics = run("cannon", 0, str(tmp_path / "cannon"), quick=True, models=["basis"],
                  echo=lambda line: None)
    summary = load(tmp_path / "cannon" / "models" / "basis").summary()
    assert list(summary["terms"]) == ["v**2*sin(2*theta)"]
    assert summary["terms"]["v**2*sin(2*theta)"] == pytest.approx(1 / G, rel=0.005)
    assert metrics["models"]["basis"]["formula"].endswith("*v**2*sin(2*theta)")


def test_cuberoot_hessian_has_unidentifiable_directions(cuberoot):
    out, metrics = cuberoot
    assert metrics["models"]["mlp-lm"]["hessian_near_zero"] >= 4
    assert metrics["models"]["linear"]["hessian_near_zero"] == 0
    restarts = load(out / "models" / "mlp-lm").summary()["diagnostics"]["restarts"]
    losses = np.array(restarts["losses"])
    assert losses.max() < 1.5 * losses.min()  # equal fits …
    assert restarts["parameter_spread"] > 0.1  # … with different parameters


def test_run_rejects_bad_requests_and_leaves_nothing(tmp_path, capsys):
    assert main(["run", "--scenario", "moon", "--out", str(tmp_path / "a")]) == 2
    assert main(["run", "--scenario", "cannon", "--models", "basis,oracle", "--out", str(tmp_path / "b")]) == 2
    (tmp_path / "c").mkdir()
    assert main(["run", "--scenario", "cannon", "--out", str(tmp_path / "c"), "--quick"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and "moon" in errors[0] and "oracle" in errors[1] and "exists" in errors[2]
    assert sorted(os.listdir(tmp_path)) == ["c"] and os.listdir(tmp_path / "c") == []


def test_cli_fit_and_predict_round_trip(tmp_path, capsys):
    shots = tmp_path / "shots.csv"
    assert main(["simulate", "--n", "200", "--drag", "linear", "--k", "1.8", "--mass", "7.26", "--noise", "0.1",
                 "--seed", "3", "--out", str(shots)]) == 0
    assert main(["fit", str(shots), "--model", "physics", "--drag", "linear", "--mass", "7.26",
                 "--unknown", "k", "--out", str(tmp_path / "model"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    k = summary["physics"]["k"]
    assert abs(k["value"] - 1.8) < 4 * k["stderr"] and k["stderr"] < 0.01
    assert main(["predict", str(tmp_path / "model"), str(shots), "--out", str(tmp_path / "p.csv")]) == 0
    with open(tmp_path / "p.csv") as file:
        rows = list(csv.DictReader(file))
    from hybridlab import LinearDrag, Projectile

    true = Projectile(LinearDrag(1.8), mass=7.26).range(
        np.array([float(r["speed"]) for r in rows]), np.deg2rad([float(r["angle"]) for r in rows]))
    predicted = np.array([float(r["predicted"]) for r in rows])
    assert np.max(np.abs(predicted - np.asarray(true))) < 0.1


def test_cli_fit_reports_the_bad_cell(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("speed,angle,distance\n10,45,3\n12,abc,4\n")
    assert main(["fit", str(bad), "--model", "linear", "--out", str(tmp_path / "m")]) == 2
    error = capsys.readouterr().err.strip()
    assert "bad.csv" in error and "line 3" in error and "'angle'" in error and "\n" not in error
    assert sorted(os.listdir(tmp_path)) == ["bad.csv"]


# The Parquet case in make test-all: Parquet reading and writing are tested in test_data.py.
@pytest.mark.parametrize("suffix", [".csv", pytest.param(".parquet", marks=pytest.mark.slow)])
def test_cli_predict_needs_only_speed_and_angle_and_passes_cells_through(tmp_path, capsys, suffix):
    train = tmp_path / "train.csv"
    train.write_text("speed,angle,distance\n" + "".join(
        f"{v},{a},{float(Projectile(mass=1.0).range(v, np.deg2rad(a)))!r}\n"
        for v in (5, 10, 15) for a in (20, 45, 70)))
    assert main(["fit", str(train), "--model", "physics", "--unknown", "g", "--out", str(tmp_path / "m")]) == 0
    launches = tmp_path / f"launches{suffix}"
    if suffix == ".csv":
        launches.write_text("speed,angle\n10,30\n12.5,45.123\n")
    else:
        pq.write_table(pa.table({"speed": [10.0, 12.5], "angle": [30.0, 45.123]}), launches)
    out = tmp_path / f"predicted{suffix}"
    assert main(["predict", str(tmp_path / "m"), str(launches), "--out", str(out)]) == 0
    got = read_shots(out, require=("speed", "angle"), file_units=True)
    assert got["speed"].tolist() == [10.0, 12.5] and got["angle"].tolist() == [30.0, 45.123]  # untouched
    # A fit of g on exact no-drag ranges: the prediction is the closed form v² sin 2θ / g.
    closed_form = np.array([10.0, 12.5]) ** 2 * np.sin(np.deg2rad([60.0, 90.246])) / 9.81
    np.testing.assert_allclose(got["predicted"], closed_form, rtol=1e-9)
    if suffix == ".csv":
        predicted = [repr(float(p)) for p in got["predicted"]]
        assert out.read_text().splitlines()[1:] == [f"10,30,{predicted[0]}", f"12.5,45.123,{predicted[1]}"]


@pytest.mark.parametrize(
    "argv,message",
    [
        (["fit", "HEIGHTS", "--model", "linear", "--out", "M"],
         "data row 2, column 'height': 2 m, but --height is 0 m"),
        (["fit", "SHOTS", "--model", "linear", "--out", "EXISTS"], "already exists"),
        (["fit", "SHOTS", "--model", "linear", "--out", "NOPARENT"], "no directory"),
        (["simulate", "--seed", "99999999999999999999", "--out", "M"], "--seed: 99999999999999999999 is outside"),
        (["simulate", "--seed", "-1", "--out", "M"], "--seed: -1 is outside"),
        (["run", "--models", ",", "--out", "M"], "--models: no model named"),
    ],
)
def test_cli_fit_and_run_reject_bad_requests_before_working(tmp_path, capsys, argv, message):
    (tmp_path / "heights.csv").write_text("speed,angle,distance,height\n10,45,3,0\n12,-10,2,2\n")
    (tmp_path / "shots.csv").write_text("speed,angle,distance\n10,45,3\n12,30,4\n")
    (tmp_path / "exists").mkdir()
    names = {"HEIGHTS": "heights.csv", "SHOTS": "shots.csv", "EXISTS": "exists", "M": "m", "NOPARENT": "no/m"}
    before = sorted(os.listdir(tmp_path))
    assert main([str(tmp_path / names[a]) if a in names else a for a in argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and message in err
    assert sorted(os.listdir(tmp_path)) == before and os.listdir(tmp_path / "exists") == []


def test_saved_files_have_the_usual_permissions(tmp_path, capsys):
    mask = os.umask(0o022)
    try:
        shots = tmp_path / "shots.csv"
        assert main(["simulate", "--n", "20", "--out", str(shots)]) == 0
        assert main(["fit", str(shots), "--model", "linear", "--out", str(tmp_path / "m")]) == 0
    finally:
        os.umask(mask)
    assert stat.S_IMODE(os.stat(shots).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(tmp_path / "m").st_mode) == 0o755
    assert {stat.S_IMODE(os.stat(p).st_mode) for p in (tmp_path / "m").iterdir()} == {0o644}


def test_run_creates_missing_parent_directories(tmp_path):
    out = tmp_path / "runs" / "nested" / "cuberoot"
    metrics = run("cuberoot", 0, str(out), quick=True, models=["linear"], echo=lambda line: None)
    assert metrics["directory"] == str(out) and (out / "metrics.json").is_file() and (out / "report.html").is_file()


def test_the_shotput_run_aims_exactly_and_through_both_decoders(shotput):
    out, metrics = shotput
    aiming = json.loads((out / "metrics.json").read_text())["aiming"]
    assert aiming["distance"] == 150.0
    # The lecture's (75.28 m/s, 11.88°) flown by the closed form at 60 digits.
    lecture = linear_drag(75.28, np.deg2rad(11.88), 1.8, 7.26)
    assert aiming["published"]["lands_at"] == pytest.approx(float(lecture["range"]), rel=1e-12)
    assert aiming["published"]["arcs_at_speed"]["low"] == pytest.approx(11.8997, abs=1e-4)
    least = aiming["exact"]["least_speed"]
    assert float(linear_drag(least["speed"], np.deg2rad(least["angle"]), 1.8, 7.26)["range"]) == pytest.approx(150, rel=1e-9)
    assert set(aiming["learned"]) == {"mlp", "physics"}  # the run fitted no other differentiable decoder
    for entry in aiming["learned"].values():
        assert entry["interp"]["miss"]["median"] < 0.01
        assert entry["shot"]["lands_at"] == pytest.approx(150, rel=0.01)
    with open(out / "aim.csv") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 200 and {"distance", "least_speed", "mlp_miss", "physics_angle"} <= set(rows[0])
    assert (out / "figures" / "aim.png").is_file()
    assert "<h2>Aiming</h2>" in (out / "report.html").read_text()
