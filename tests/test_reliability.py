"""Issue 9: every input a hostile user may give gets a right answer or one clear error (one line
on stderr, exit status 2, nothing written), and an interrupted command leaves nothing behind.
Each test reproduces a case of the probe and asserts the new behaviour."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hybridlab import Projectile
from hybridlab.cli import main
from hybridlab.data import read_csv, write_shots
from hybridlab.experiments.jobs import MAX_ROWS, fit_file
from hybridlab.files import new_directory, replace_atomically
from hybridlab.models import LinearRegression, PhysicsFit, load
from hybridlab.physics import LinearDrag


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def assert_refused(capsys, directory, *argv, says):
    """Exit 2, one line on stderr containing ``says``, nothing on stdout, nothing new in ``directory``."""
    before = sorted(os.listdir(directory))
    status, out, err = run(capsys, *argv)
    assert status == 2, err
    assert out == "" and err.count("\n") == 1 and err.startswith("hybridlab: error: "), err
    assert says in err, err
    assert sorted(os.listdir(directory)) == before
    return err


@pytest.fixture
def shots(tmp_path):
    """A small linear-drag data set (shot put), as a CSV file."""
    p = Projectile(LinearDrag(0.45), mass=7.26)
    rng = np.random.default_rng(0)
    speed, angle = rng.uniform(5, 20, 40), rng.uniform(0.2, 1.2, 40)
    path = tmp_path / "shots.csv"
    write_shots(path, {"speed": speed, "angle": angle, "distance": np.asarray(p.range(speed, angle))})
    return path


# --- §2: errors in the user's units, naming the user's paths -----------------------------------


@pytest.mark.parametrize("argv, says", [
    (["range", "--speed", "10", "--angle", "91"], "--angle 91: must be in [0, 90] degrees from the ground"),
    (["range", "--speed", "10", "--angle", "-5"], "--angle -5: must be in [0, 90] degrees"),
    (["range", "--speed", "10", "--angle", "-91", "--height", "2"], "--angle -91: must be in [-90, 90] degrees"),
    (["range", "--speed", "10", "--angle", "nan"], "--angle nan: must be in [0, 90] degrees"),
])
def test_angles_are_reported_in_degrees(tmp_path, capsys, argv, says):
    err = assert_refused(capsys, tmp_path, *argv, says=says)
    assert "rad" not in err and "1.58" not in err


def test_a_downward_throw_from_a_height_is_accepted(capsys):
    status, out, _ = run(capsys, "range", "--speed", "10", "--angle", "-30", "--height", "2")
    assert status == 0 and 0 < float(out) < 10 * 2 / 9.81 * 10


def test_messages_name_the_users_file_not_the_temporary_one(tmp_path):
    target = tmp_path / "out.csv"

    def fails(temporary):
        raise ValueError(f"cannot write {temporary}: disk on fire")

    with pytest.raises(ValueError, match="out.csv: disk on fire") as error:
        replace_atomically(target, fails)
    assert ".tmp-" not in str(error.value) and os.listdir(tmp_path) == []

    def os_error(temporary):
        raise OSError(28, "No space left on device", temporary)

    with pytest.raises(ValueError, match=r"cannot write .*out.csv: No space left on device") as error:
        replace_atomically(target, os_error)
    assert ".tmp-" not in str(error.value) and os.listdir(tmp_path) == []

    with pytest.raises(ValueError, match="run: No space") as error:
        with new_directory(tmp_path / "run") as work:
            raise OSError(28, "No space left on device", os.path.join(work, "models", "x.json"))
    assert "partial" not in str(error.value) and os.listdir(tmp_path) == []


# --- §3: resources and hostile files -------------------------------------------------------------


@pytest.mark.parametrize("argv, says", [
    (["trajectory", "--speed", "10", "--angle", "45", "--points", "1000000000000"],
     f"--points 1000000000000: must be between 2 and {MAX_ROWS}"),
    (["simulate", "--n", "100000000000"], f"--n 100000000000: must be between 1 and {MAX_ROWS}"),
    (["simulate", "--n", "0"], "--n 0: must be between 1"),
])
def test_sizes_that_cannot_fit_are_refused_up_front(tmp_path, capsys, argv, says):
    start = time.perf_counter()
    assert_refused(capsys, tmp_path, *argv, "--out", tmp_path / "out.csv", says=says)
    assert time.perf_counter() - start < 5


def _model_dir(tmp_path, shots, capsys):
    model = tmp_path / "model"
    assert run(capsys, "fit", shots, "--model", "linear", "--out", model)[0] == 0
    return model


def test_a_deeply_nested_model_file_is_one_line(tmp_path, shots, capsys):
    model = _model_dir(tmp_path, shots, capsys)
    (model / "model.json").write_text("[" * 200_000 + "]" * 200_000)
    assert_refused(capsys, tmp_path, "predict", model, shots, "--out", tmp_path / "p.csv",
                   says="model.json: not a saved hybridlab model (nested too deeply)")


@pytest.mark.parametrize("name", ["model.json", "arrays.eqx"])
def test_model_files_must_be_regular_files(tmp_path, shots, capsys, name):
    model = _model_dir(tmp_path, shots, capsys)
    (model / name).unlink()
    (model / name).symlink_to("/dev/zero")
    assert_refused(capsys, tmp_path, "predict", model, shots, "--out", tmp_path / "p.csv",
                   says=f"{name}: cannot read: not a regular file")


def test_a_fifo_is_refused_not_waited_on(tmp_path, shots, capsys):
    model = _model_dir(tmp_path, shots, capsys)
    (model / "model.json").unlink()
    os.mkfifo(model / "model.json")
    os.mkfifo(tmp_path / "fifo.csv")
    # In a child process with a timeout: a regression would hang, not fail.
    for argv in (["predict", model, shots], ["fit", tmp_path / "fifo.csv", "--model", "linear"]):
        result = subprocess.run([sys.executable, "-m", "hybridlab.cli", *map(str, argv), "--out",
                                 str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
        assert result.returncode == 2 and "not a regular file" in result.stderr
        assert result.stderr.count("\n") == 1 and not (tmp_path / "out").exists()


def test_a_shots_file_must_be_a_regular_file(tmp_path, capsys):
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    (tmp_path / "zero.parquet").symlink_to("/dev/zero")
    for name in ("zero.csv", "zero.parquet"):
        assert_refused(capsys, tmp_path, "fit", tmp_path / name, "--model", "linear", "--out", tmp_path / "m",
                       says=f"{name}: cannot read: not a regular file")


def test_a_shots_file_beyond_the_size_limit_is_refused(tmp_path, monkeypatch, shots, capsys):
    from hybridlab.data import formats

    monkeypatch.setattr(formats, "MAX_FILE_BYTES", 100)
    assert_refused(capsys, tmp_path, "fit", shots, "--model", "linear", "--out", tmp_path / "m",
                   says="more than the 100 bytes read at most")


# --- §4: interruption ----------------------------------------------------------------------------

# Two ways output can be cut short, each held open (in `wait`) until the signal arrives: a run
# whose directory exists under a temporary name, and a file write after its temporary file is
# created and written.
_SLOW = textwrap.dedent("""
    import gc, sys, time
    import hybridlab.data.formats as formats
    import hybridlab.experiments.runner as runner
    import hybridlab.files as files
    from hybridlab.cli import main

    def wait():
        print("waiting", flush=True)
        if sys.argv[1] in ("sleep", "apart"):
            time.sleep(60)
            return
        # JAX frees device buffers from a garbage-collection callback, where Python swallows
        # an exception: a signal that lands there must still stop the command.
        gc.callbacks.append(lambda phase, info: time.sleep(0.5) if phase == "start" else None)
        for _ in range(30):
            gc.collect()
            time.sleep(0.5)

    def slow_replace(path, write):
        def slow_write(temporary):
            write(temporary)
            wait()
        files.replace_atomically(path, slow_write)

    def slow_run(work, *arguments):
        with open(work + "/metrics.json", "w") as file:
            file.write("{")
        if sys.argv[1] != "apart":
            wait()
            return
        # A run's second process, still working when the signal lands: it must end with the run.
        from hybridlab.experiments.apart import Apart
        with Apart(time.sleep, 600) as second:
            print(f"second process {second._process.pid}", flush=True)
            wait()

    formats.replace_atomically = slow_replace
    runner._run_into = slow_run
    sys.exit(main(sys.argv[2:]))
""")


# The script replaces the run's work by a half-written metrics.json (what is tested is the
# clean-up, not the work), so each case costs little more than importing JAX; the fast suite
# runs one per signal, per output and per place the signal lands.
@pytest.mark.parametrize("number, status, what, where", [
    (signal.SIGTERM, 143, "run", "sleep"), (signal.SIGINT, 130, "write", "gc"), (signal.SIGINT, 130, "run", "apart"),
    pytest.param(signal.SIGINT, 130, "run", "gc", marks=pytest.mark.slow),
    pytest.param(signal.SIGTERM, 143, "write", "sleep", marks=pytest.mark.slow)])
def test_a_signal_removes_unfinished_output(tmp_path, number, status, what, where):
    if what == "run":
        argv = ["run", "--quick", "--models", "nearest,linear", "--quiet", "--out", "r"]
        partial = ".r.partial-"
    else:
        argv = ["simulate", "--n", "20", "--out", "s.csv"]
        partial = ".tmp-"
    argv = [sys.executable, "-c", _SLOW, where, *argv]
    child = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = int(child.stdout.readline().split()[-1]) if where == "apart" else None
    # The signal lands while the output is half written, in the wait the script added.
    assert child.stdout.readline() == "waiting\n", child.communicate()
    assert any(name.startswith(partial) for name in os.listdir(tmp_path))
    time.sleep(0.2)
    child.send_signal(number)
    out, err = child.communicate(timeout=120)
    assert child.returncode == status, err
    assert err == f"hybridlab: stopped by {signal.Signals(number).name}; unfinished output removed\n"
    assert os.listdir(tmp_path) == []
    if second is not None:
        with pytest.raises(ProcessLookupError):
            os.kill(second, 0)


# --- §5: validation before work ------------------------------------------------------------------


@pytest.mark.parametrize("argv, says", [
    (["--angle", "5", "91"], "--angle 5 91: must be in [0, 90] degrees"),
    (["--speed", "-1", "85"], "--speed (-1, 85) m/s: the ends must be >= 0 m/s"),
    (["--speed", "10", "inf"], "the ends must be finite"),
    (["--speed", "85", "5"], "the lower end must not exceed the upper"),
])
def test_simulate_checks_its_ranges_before_drawing(tmp_path, capsys, argv, says):
    assert_refused(capsys, tmp_path, "simulate", "--n", "3", *argv, "--out", tmp_path / "s.csv", says=says)


def test_the_library_checks_simulated_ranges_against_the_projectile():
    from hybridlab.data import simulate_shots
    import jax

    with pytest.raises(ValueError, match=r"angle = .*the ends must lie within \[0, 1.5708\] rad \(from the ground\)"):
        simulate_shots(Projectile(), 3, (5.0, 85.0), (0.1, 1.6), 0.0, jax.random.key(0))
    with pytest.raises(ValueError, match=r"angle = .*\[-1.5708, 1.5708\] rad"):
        simulate_shots(Projectile(height=1.0), 3, (5.0, 85.0), (-1.6, 1.0), 0.0, jax.random.key(0))


@pytest.mark.parametrize("out", ["", ".", "..", "sub/..", "./"])
def test_fit_refuses_an_output_that_is_not_a_new_directory(tmp_path, monkeypatch, shots, capsys, out):
    work = tmp_path / "work"
    work.mkdir()
    (work / "sub").mkdir()
    monkeypatch.chdir(work)
    assert_refused(capsys, work, "fit", shots, "--model", "linear", "--out", out, says="not a new directory's name")
    assert work.is_dir() and sorted(os.listdir(work)) == ["sub"]


@pytest.mark.parametrize("command", [["trajectory", "--speed", "10", "--angle", "45"], ["simulate", "--n", "3"]])
@pytest.mark.parametrize("out", ["", ".", "sub/"])
def test_file_outputs_must_name_a_file(tmp_path, monkeypatch, capsys, command, out):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    assert_refused(capsys, tmp_path, *command, "--out", out, says="not a file name")


def test_a_fit_that_did_not_converge_is_an_error_unless_kept(tmp_path, shots):
    # One Levenberg–Marquardt step from a guess 100x off cannot converge.
    model = PhysicsFit({"drag": {"law": "linear", "k": 45.0}, "mass": 7.26}, unknown=("k",), steps=1)
    with pytest.raises(ValueError, match="the physics fit did not converge .*nothing was saved.*`keep_unconverged`"):
        fit_file(str(shots), model, str(tmp_path / "m"))
    assert not (tmp_path / "m").exists() and model.converged() is False
    summary, n = fit_file(str(shots), model, str(tmp_path / "m"), keep_unconverged=True)
    assert n == 40 and summary["diagnostics"]["converged"] is False
    assert load(tmp_path / "m").converged() is False


def test_converged_says_whether_the_optimiser_met_its_test(shots):
    from hybridlab.data import read_shots

    data = read_shots(shots)
    X = np.column_stack([data["speed"], data["angle"]])
    fit = PhysicsFit({"drag": "linear", "mass": 7.26}, unknown=("k",)).fit(X, data["distance"])
    assert fit.converged() is True
    assert fit.physics_estimates()["k"]["value"] == pytest.approx(0.45, rel=1e-8)
    assert LinearRegression().fit(X, data["distance"]).converged() is None


def test_the_command_says_the_fit_did_not_converge(tmp_path, shots, capsys):
    assert_refused(capsys, tmp_path, "fit", shots, "--model", "physics", "--drag", "linear", "--mass", "7.26",
                   "--k", "1e300", "--out", tmp_path / "m", says="did not converge")


def test_predict_checks_the_launch_height(tmp_path, shots, capsys):
    model = _model_dir(tmp_path, shots, capsys)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("speed,angle,height\n20,45,0\n20,45,50\n")
    assert_refused(capsys, tmp_path, "predict", model, mixed, "--out", tmp_path / "p.csv",
                   says="mixed.csv, data row 2, column 'height': 50 m, but the model was fitted on shots "
                        "launched from 0 m")
    assert json.loads((model / "model.json").read_text())["context"] == {"height": 0.0}
    same = tmp_path / "same.csv"
    same.write_text("speed,angle,height\n20,45,0\n")
    assert run(capsys, "predict", model, same, "--out", tmp_path / "p.csv")[0] == 0


def test_predict_copies_other_columns_through_untouched(tmp_path, shots, capsys):
    model = _model_dir(tmp_path, shots, capsys)
    rows = tmp_path / "rows.csv"
    rows.write_text('speed,note,angle,tag\n20,hello,45,1.50\n10,"a, quoted ""note""",30,\n')
    assert run(capsys, "predict", model, rows, "--out", tmp_path / "p.csv")[0] == 0
    back = read_csv(tmp_path / "p.csv", text=("note", "tag"))
    assert list(back) == ["speed", "note", "angle", "tag", "predicted"]
    assert back["note"].tolist() == ["hello", 'a, quoted "note"'] and back["tag"].tolist() == ["1.50", ""]
    expected = load(model).predict(np.column_stack([[20.0, 10.0], np.deg2rad([45.0, 30.0])]))
    assert back["predicted"].tolist() == expected.tolist()
    # Parquet in, Parquet out: a string column keeps its type and values, nulls included.
    table = pa.table({"speed": [20.0, 10.0], "angle": [45.0, 30.0], "note": ["hello", None]})
    pq.write_table(table, tmp_path / "rows.parquet")
    assert run(capsys, "predict", model, tmp_path / "rows.parquet", "--out", tmp_path / "p.parquet")[0] == 0
    written = pq.read_table(tmp_path / "p.parquet")
    assert written.column("note").to_pylist() == ["hello", None]
    assert written.column("predicted").to_pylist() == expected.tolist()


def test_predict_still_checks_the_shot_columns(tmp_path, shots, capsys):
    model = _model_dir(tmp_path, shots, capsys)
    rows = tmp_path / "rows.csv"
    rows.write_text("speed,angle,note\n20,hello,x\n")
    assert_refused(capsys, tmp_path, "predict", model, rows, "--out", tmp_path / "p.csv",
                   says="rows.csv, line 2, column 'angle': 'hello' is not a number")


def test_physics_fit_defaults_work_together(tmp_path, shots, capsys):
    assert_refused(capsys, tmp_path, "fit", shots, "--model", "physics", "--out", tmp_path / "m",
                   says="--drag none has no coefficient to fit: choose a drag law with --drag (linear or quadratic or polynomial)")
    status, out, err = run(capsys, "fit", shots, "--model", "physics", "--drag", "linear", "--mass", "7.26",
                           "--out", tmp_path / "m", "--json")
    assert status == 0 and json.loads(out)["physics"]["k"]["value"] == pytest.approx(0.45, rel=1e-8)


def test_trajectory_writes_parquet_or_refuses_the_suffix(tmp_path, capsys):
    argv = ["trajectory", "--speed", "20", "--angle", "45", "--points", "5"]
    assert run(capsys, *argv, "--out", tmp_path / "t.csv")[0] == 0
    assert run(capsys, *argv, "--out", tmp_path / "t.parquet")[0] == 0
    table = pq.read_table(tmp_path / "t.parquet")
    assert table.column_names == ["t", "x", "y"]
    csv_values = np.loadtxt(tmp_path / "t.csv", delimiter=",", skiprows=1)
    assert np.array_equal(np.column_stack([table.column(n).to_numpy() for n in "txy"]), csv_values)
    assert_refused(capsys, tmp_path, *argv, "--out", tmp_path / "t.txt", says="unknown file type '.txt'")


def test_basis_on_identical_rows_fits_a_constant_and_says_what_it_left_out(tmp_path, capsys):
    same = tmp_path / "same.csv"
    same.write_text("speed,angle,distance\n" + "20,45,30\n" * 50)
    status, out, _ = run(capsys, "fit", same, "--model", "basis", "--out", tmp_path / "m")
    assert status == 0 and "formula: 30\n" in out
    assert "left out: 19 terms these shots cannot tell apart" in out
    # As the linear model does: the constant, wherever it is asked.
    X = np.column_stack([[20.0, 5.0, 80.0], np.deg2rad([45.0, 10.0, 80.0])])
    assert load(tmp_path / "m").predict(X) == pytest.approx([30.0] * 3, rel=1e-12)


@pytest.mark.parametrize("compile", ["filter_jit", "jax.jit"])
def test_a_check_that_fires_in_compiled_code_is_one_readable_line(tmp_path, monkeypatch, capsys, compile):
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    from hybridlab.experiments import jobs

    def check(x):
        return eqx.error_if(x, x > 0, "the ODE solver reached its maximum number of steps")

    compiled = eqx.filter_jit(check) if compile == "filter_jit" else jax.jit(check)
    monkeypatch.setattr(jobs, "shot_summary", lambda *args: compiled(jnp.ones(())))
    err = assert_refused(capsys, tmp_path, "range", "--speed", "10", "--angle", "45", "--json",
                         says="hybridlab: error: the ODE solver reached its maximum number of steps\n")
    assert "Above is the stack" not in err and "CpuCallback" not in err


# --- §1 at the command line: right answers or one line, never NaN or Infinity ----------------------


@pytest.mark.parametrize("argv, expected", [
    # Linear drag from 1e308 m: the ball reaches its terminal speed g m/k and falls for h k/(m g).
    (["--height", "1e308", "--drag", "linear", "--k", "1"],
     {"range": 10 * np.cos(np.pi / 4), "flight_time": 1e308 / 9.81, "impact": {"speed": 9.81, "angle": 90.0}}),
    # k = 1e300 kg/s: stopped at once, x = v cos θ m/k; then a fall at the terminal speed 9.81e-300.
    (["--drag", "linear", "--k", "1e300"],
     {"range": 10 * np.cos(np.pi / 4) * 1e-300, "impact": {"speed": 9.81e-300, "angle": 90.0}}),
    # 1e308 m/s without drag: T = 2 v sin θ / g and the impact mirrors the launch (45°, 1e308 m/s);
    # the range, 1e615 m, is beyond float64, so the command refuses it in one line.
    (["--speed", "1e308", "--drag", "linear", "--k", "1"],
     {"range": 1e308 * np.cos(np.pi / 4), "impact": {"speed": 9.81, "angle": 90.0}}),
])
def test_extreme_launches_give_finite_json(capsys, argv, expected):
    argv = ["--speed", "10", *argv] if "--speed" not in argv else argv
    status, out, err = run(capsys, "range", "--angle", "45", *argv, "--json")
    assert status == 0, err
    summary = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    for key, value in expected.items():
        if isinstance(value, dict):
            for inner, number in value.items():
                assert summary[key][inner] == pytest.approx(number, rel=1e-6)
        else:
            assert summary[key] == pytest.approx(value, rel=1e-6)


def test_a_range_beyond_float64_is_one_line(tmp_path, capsys):
    assert_refused(capsys, tmp_path, "range", "--speed", "1e308", "--angle", "45",
                   says="no drag: range overflows float64 (beyond 1.8e+308 m), for --speed 1e+308 m/s, --mass 1 kg")


def test_an_overflowing_trajectory_is_one_line_without_warnings(tmp_path):
    # In a child process: Python's warnings (a NumPy RuntimeWarning was printed here) reach stderr.
    result = subprocess.run([sys.executable, "-m", "hybridlab.cli", "trajectory", "--speed", "1e308", "--angle",
                             "45", "--points", "3", "--out", str(tmp_path / "t.csv")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == "" and os.listdir(tmp_path) == []
    assert result.stderr.startswith("hybridlab: error: no drag: position x overflows float64")
    assert result.stderr.count("\n") == 1, result.stderr


@pytest.mark.slow  # ~20 s: an extreme coefficient
def test_quadratic_drag_of_1e100_lands_straight_down_at_the_terminal_speed(tmp_path, capsys):
    status, out, err = run(capsys, "range", "--speed", "10", "--angle", "45", "--drag", "quadratic",
                           "--c", "1e100", "--json")
    assert status == 0, err
    summary = json.loads(out)
    # Drag alone first (gravity is 1e-101 of it): the path is (m/c) ln(1 + c v t/m) along 45°,
    # of order (m/c) ln(c v²/(m g)) ~ 2.3e-98 m; the ball then falls at v_t = √(m g/c) = 3.13e-50.
    assert 0 < summary["range"] < 2.4e-98 * np.cos(np.pi / 4) and summary["flight_time"] > 0
    assert summary["impact"]["speed"] == pytest.approx(np.sqrt(9.81 / 1e100), rel=1e-6)
    assert summary["impact"]["angle"] == pytest.approx(90.0, abs=1e-6)
    # The trajectory no longer meets a negative flight time (`t[1] = -9.4e-87`).
    assert run(capsys, "trajectory", "--speed", "10", "--angle", "45", "--drag", "quadratic", "--c", "1e100",
               "--points", "3", "--out", tmp_path / "t.csv")[0] == 0
    t, x, y = np.loadtxt(tmp_path / "t.csv", delimiter=",", skiprows=1).T
    assert (np.diff(t) > 0).all() and (x >= 0).all() and abs(y[-1]) < 1e-3 * y.max()


def test_the_range_alone_is_given_where_the_apex_overflows(capsys):
    # Straight up at 1e155 m/s: the apex, v²/2g = 5e308 m, is beyond float64; the range,
    # 2 (v cos θ)(v sin θ)/g with cos(fl(π/2)) = 6.1e-17, is 1.2e293 m.
    status, out, err = run(capsys, "range", "--speed", "1e155", "--angle", "90")
    theta = np.deg2rad(90.0)
    assert status == 0, err
    assert float(out) == pytest.approx(2 * (1e155 * np.cos(theta)) * (1e155 * np.sin(theta)) / 9.81, rel=1e-12)
    status, _, err = run(capsys, "range", "--speed", "1e155", "--angle", "90", "--json")
    assert status == 2 and "apex height overflows float64" in err
