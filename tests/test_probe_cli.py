"""Issue 28, round three of the reliability probe: the physics at its edges, models and files,
signals, sweeps. Each case replays an input of the probe (and of the earlier rounds, in
test_reliability.py) and asserts the right answer against an independent reference, or a
one-line refusal (exit status 2, nothing written)."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from reference import quadratic_mpmath
from test_reliability import assert_refused, run

from hybridlab import Projectile, QuadraticDrag
from hybridlab.data import write_shots
from hybridlab.models import MLP

# --- the physics: shallow shots under quadratic drag ----------------------------------------------


@pytest.mark.parametrize("degrees", [0.1, 0.01, 1e-4])
def test_a_shallow_shot_under_quadratic_drag_lands(capsys, degrees):
    """The probe's `range --speed 15 --angle 0.1 --drag quadratic --c 0.001` reached the solver's
    step limit: a first step past the whole flight missed the landing."""
    status, out, err = run(capsys, "range", "--speed", 15, "--angle", degrees, "--drag", "quadratic", "--c", 0.001)
    assert status == 0, err
    _, expected = quadratic_mpmath(15.0, np.deg2rad(degrees), 0.001, 1.0, dps=20)
    assert float(out) == pytest.approx(float(expected), rel=1e-12)


def test_flights_too_short_for_the_solver_land_where_the_vacuum_says():
    """Below ~1e-9 rad the flight is taken in closed form; the drag changes it by a relative
    O(θ), so the vacuum's v² sin 2θ / g is the answer to 1e-13 and below."""
    theta = np.array([1e-9, 1e-12, 1e-20, 1e-100, 1e-300])
    ball = Projectile(QuadraticDrag(c=0.001), mass=1.0)
    vacuum = 15.0**2 * np.sin(2 * theta) / 9.81
    assert np.asarray(ball.range(np.full(5, 15.0), theta)) == pytest.approx(vacuum, rel=1e-8)
    assert np.asarray(ball.flight_time(np.full(5, 15.0), theta)) == pytest.approx(2 * 15.0 * np.sin(theta) / 9.81,
                                                                                     rel=1e-8)


# --- models and their files ------------------------------------------------------------------------


def _shots_file(path, speed, angle, distance):
    write_shots(path, {"speed": np.asarray(speed, float), "angle": np.asarray(angle, float),
                       "distance": np.asarray(distance, float)})
    return path


def test_nearest_on_one_shot_is_refused(tmp_path, capsys):
    shots = _shots_file(tmp_path / "one.csv", [10.0], [0.7], [3.0])
    err = assert_refused(capsys, tmp_path, "fit", shots, "--model", "nearest", "--out", tmp_path / "m",
                         says="needs k + 1 = 2 training shots or more")
    assert "--k" not in err  # the drag coefficient's flag is not the neighbours' k


@pytest.mark.parametrize("rows", [1, 3])
def test_a_linear_fit_without_residual_degrees_of_freedom_is_refused(tmp_path, capsys, rows):
    """Three parameters (b, w_v, w_θ) through three or fewer shots leave no residual to estimate
    the noise of the prediction interval from."""
    shots = _shots_file(tmp_path / "few.csv", [10.0, 12.0, 14.0][:rows], [0.35, 0.52, 0.7][:rows],
                        [6.0, 11.0, 17.0][:rows])
    assert_refused(capsys, tmp_path, "fit", shots, "--model", "linear", "--out", tmp_path / "m",
                   says=f"a linear model with 3 parameters needs at least 4 training shots (its interval estimates "
                        f"the noise from the n − 3 left over); got {rows}")


def test_a_fit_that_overflows_float64_is_refused():
    X = np.column_stack([np.linspace(1e300, 3e300, 8), np.linspace(0.2, 1.2, 8)])
    y = np.linspace(1e300, 2e300, 8)
    with pytest.raises(ValueError, match="overflowed float64.*reach 3e\\+300"):
        MLP(widths=(4,), epochs=3).fit(X, y)


def test_flags_that_do_nothing_are_refused(tmp_path, capsys):
    shots = _shots_file(tmp_path / "s.csv", [10.0, 12.0, 14.0], [0.7, 0.6, 0.5], [3.0, 5.0, 6.0])
    assert_refused(capsys, tmp_path, "fit", shots, "--model", "linear", "--unknown", "k", "--out", tmp_path / "m",
                   says="--unknown k: the linear model fits no physical parameter (only physics does)")


@pytest.fixture
def nearest_model(tmp_path, capsys):
    shots = _shots_file(tmp_path / "s.csv", [10.0, 12.0, 14.0], [0.7, 0.6, 0.5], [3.0, 5.0, 6.0])
    assert run(capsys, "fit", shots, "--model", "nearest", "--out", tmp_path / "model")[0] == 0
    return tmp_path / "model", shots


def _nested(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("change, says", [
    (lambda r: r["context"].update(height=[1]), "context height = [1]: must be a finite number (m)"),
    (lambda r: r["context"].update(height={}), "context height = {}: must be a finite number (m)"),
    (lambda r: r["context"].update(height=None), "context height = None: must be a finite number (m)"),
    (lambda r: r["params"].update(k=50), "k = 50: more neighbours than the 3 training shots"),
    (lambda r: r["params"].update(k=_nested(450)), "nested more than 32 levels deep"),
    (lambda r: r.update(format=99), "a model saved in format 99; this hybridlab reads format 3"),
])
def test_a_hostile_model_file_is_one_line(tmp_path, capsys, nearest_model, change, says):
    model, shots = nearest_model
    record = json.loads((model / "model.json").read_text())
    change(record)
    (model / "model.json").write_text(json.dumps(record))
    err = assert_refused(capsys, tmp_path, "predict", model, shots, "--out", tmp_path / "p.csv", says=says)
    assert "damaged" not in err or "format" not in err and len(err) < 300


def test_predict_refuses_a_model_that_is_not_a_rung_in_one_line(tmp_path, capsys, nearest_model):
    from hybridlab.operators import LinearOperator

    _, shots = nearest_model
    rng = np.random.default_rng(0)
    W = rng.normal(size=(6, 4))
    LinearOperator().fit(W, np.stack([W, 2 * W], axis=-1)).save(tmp_path / "operator")
    assert_refused(capsys, tmp_path, "predict", tmp_path / "operator", shots, "--out", tmp_path / "p.csv",
                   says="a saved 'linear-operator' model, which does not predict ranges from launches")


@pytest.mark.parametrize("argv, says", [
    (["simulate", "--tracks", "2", "--points", "0", "--out", "t.csv"], "--points 0: must be >= 2"),
    (["run", "--out", "", "--quick"], "--out '': not a new directory's name"),
    (["run", "--scenario", "moon"], "choose from cannon, shotput, baseball, cuberoot, equations, wind, gust"),
    (["sweep", "--seeds", "1000000000", "--out", "s"], "--seeds 1000000000: at most 10000 in one sweep"),
    (["sweep", "--seeds", "2", "--first-seed", str(2**63 - 1), "--out", "s"], "is not below 2**63"),
    (["sweep", "--seeds", "1", "--address", "nowhere", "--out", "s"], "--address 'nowhere': must be host:port"),
])
def test_options_are_refused_before_any_work(tmp_path, monkeypatch, capsys, argv, says):
    monkeypatch.chdir(tmp_path)
    assert_refused(capsys, tmp_path, *argv, says=says)


def test_a_sweep_at_an_address_where_no_cluster_answers_is_refused_at_once(tmp_path, capsys):
    start = time.monotonic()
    assert_refused(capsys, tmp_path, "sweep", "--seeds", "1", "--address", "127.0.0.1:1", "--out", tmp_path / "s",
                   says="--address 127.0.0.1:1: no Ray cluster there (Connection refused)")
    assert time.monotonic() - start < 10


def test_an_empty_file_names_the_headers_of_every_kind(tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("")
    assert_refused(capsys, tmp_path, "learn-drag", tmp_path / "empty.csv", "--mass", "1", "--out", tmp_path / "o",
                   says="shot,t,x,y (2-D tracks)")


# --- whole processes: bad files, signals -----------------------------------------------------------


def _command(*argv, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "hybridlab", *map(str, argv)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def test_a_rejected_parquet_file_exits_2_not_abort(tmp_path):
    """Arrow's threads made the interpreter's exit abort (SIGABRT) in a quarter of the runs."""
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"speed": ["a", "b"], "angle": [1.0, 2.0], "distance": [1.0, 2.0]}), path)
    child = _command("fit", path, "--model", "linear", "--out", tmp_path / "m", cwd=tmp_path)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 2 and err.count("\n") == 1 and "column 'speed'" in err, err


def _wait_until_catching(child, seconds=30.0):
    """Until ``child`` catches SIGTERM (Linux's /proc/PID/status, SigCgt), which Python does not by
    default: its handlers are in, and the imports (JAX's alone take a second) are under way. A
    fixed sleep sent the signal before the interpreter had started on a loaded machine."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = Path(f"/proc/{child.pid}/status").read_text()
        caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
        if caught >> (signal.SIGTERM - 1) & 1:
            return
        time.sleep(0.01)
    raise AssertionError(f"the child caught no SIGTERM within {seconds} s")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/PID/status (Linux)")
@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_during_the_imports_is_one_line(tmp_path, number):
    """Ctrl-C while JAX is imported printed a KeyboardInterrupt traceback from inside it."""
    child = _command("range", "--speed", "15", "--angle", "30", "--drag", "quadratic", "--c", "0.001", cwd=tmp_path)
    _wait_until_catching(child)
    time.sleep(0.3)  # into the imports, which take over a second
    child.send_signal(number)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 128 + number and out == ""
    assert err == f"hybridlab: stopped by {signal.Signals(number).name}; unfinished output removed\n"


_STUCK = textwrap.dedent("""
    import sys
    import jax, jax.numpy as jnp
    import hybridlab.cli.demo as demo_command
    from hybridlab import __main__
    from hybridlab.files import new_directory

    def stuck(args):  # one XLA program that runs for minutes: the main thread cannot take a signal
        with new_directory("out"):
            spin = jax.jit(lambda n: jax.lax.fori_loop(0, n, lambda i, x: x * 1.0000001 + 1e-9, 1.0))
            spin(1).block_until_ready()
            print("waiting", flush=True)
            spin(10**11).block_until_ready()

    demo_command.run = stuck
    sys.argv = ["hybridlab", "demo"]
    __main__.main()
""")


def test_a_stop_inside_a_long_native_computation_ends_within_seconds(tmp_path):
    """SIGTERM during a compiled computation was taken only when it finished (and the
    interpreter's exit then crashed in XLA's threads: SIGSEGV)."""
    child = subprocess.Popen([sys.executable, "-c", _STUCK], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "waiting\n", child.communicate()
    assert any(name.startswith(".out.partial-") for name in os.listdir(tmp_path))
    start = time.monotonic()
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 143 and time.monotonic() - start < 10
    assert err == "hybridlab: stopped by SIGTERM; unfinished output removed\n"
    assert os.listdir(tmp_path) == []


@pytest.mark.slow  # a local Ray and a run (~20 s)
def test_a_local_sweep_is_quiet_and_leaves_nothing_behind(tmp_path):
    temporary = tempfile.mkdtemp(dir="/tmp", prefix="t")  # short: Ray's socket paths must fit 107 bytes
    child = _command("sweep", "--scenario", "cuberoot", "--seeds", "1", "--quick", "--models", "mlp-adam", "--quiet",
                     "--out", tmp_path / "s", cwd=tmp_path, env={**os.environ, "TMPDIR": str(temporary)})
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0 and err == "", err
    assert os.listdir(temporary) == [] and (tmp_path / "s" / "summary.json").exists()
    os.rmdir(temporary)
