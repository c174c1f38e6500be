"""The command line: outputs against the library and the lecture, errors as one line + exit 2."""

import json
import subprocess
import sys

import numpy as np
import pytest

from hybridlab import LinearDrag, Projectile
from hybridlab.cli import main

SHOT_PUT = ["--mass", "7.26", "--drag", "linear", "--k", "0.45"]


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_range_prints_the_lecture_value(capsys):
    status, out, err = run(capsys, "range", "--speed", "15", "--angle", "60", *SHOT_PUT)
    assert status == 0 and err == ""
    assert out.strip() == "17.8800198525094"


def test_range_json(capsys):
    status, out, _ = run(capsys, "range", "--speed", "15", "--angle", "60", *SHOT_PUT, "--height", "2", "--json")
    summary = json.loads(out)
    assert set(summary) == {"range", "flight_time", "apex", "impact"}
    p, angle = Projectile(LinearDrag(0.45), mass=7.26, height=2.0), np.deg2rad(60.0)
    assert summary["flight_time"] == pytest.approx(float(p.flight_time(15.0, angle)), rel=1e-15)
    assert summary["apex"]["y"] == pytest.approx(float(p.apex(15.0, angle)[1]), rel=1e-15)
    # The impact angle is in degrees at this edge.
    assert summary["impact"]["angle"] == pytest.approx(np.rad2deg(float(p.impact(15.0, angle)[1])), rel=1e-15)
    assert 0 < summary["impact"]["angle"] < 90


def test_trajectory_csv(tmp_path, capsys):
    out = tmp_path / "traj.csv"
    status, _, _ = run(capsys, "trajectory", "--speed", "20", "--angle", "45", "--height", "1.5",
                       "--points", "200", "--out", str(out))
    assert status == 0
    assert out.read_text().splitlines()[0] == "t,x,y"
    t, x, y = np.loadtxt(out, delimiter=",", skiprows=1).T
    assert len(t) == 200 and t[0] == 0 and x[0] == 0 and y[0] == 1.5
    # No drag: the parabola, landing at the end.
    np.testing.assert_allclose(y, 1.5 + 20 * np.sin(np.pi / 4) * t - 9.81 / 2 * t**2, rtol=1e-13, atol=1e-12)
    assert abs(y[-1]) < 1e-12


def test_simulate_is_reproducible_and_clipped(tmp_path, capsys):
    args = ["simulate", "--n", "300", "--speed", "0", "10", "--angle", "0", "90", "--noise", "0.5"]
    paths = [tmp_path / name for name in ("a.csv", "b.csv", "c.csv")]
    for path, seed in zip(paths, ("0", "0", "1")):
        assert run(capsys, *args, "--seed", seed, "--out", str(path))[0] == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()
    assert paths[0].read_text().splitlines()[0] == "speed,angle,distance"
    speed, angle, distance = np.loadtxt(paths[0], delimiter=",", skiprows=1).T
    assert len(speed) == 300 and distance.min() == 0.0 and (distance == 0).sum() > 5
    assert 0 <= angle.min() and angle.max() <= 90
    # Noise is additive N(0, 0.5²) on the no-drag range v² sin 2θ / g (where unclipped).
    residual = distance - speed**2 * np.sin(2 * np.deg2rad(angle)) / 9.81
    kept = distance > 0
    assert abs(residual[kept].std() - 0.5) < 0.1 and abs(residual[kept].mean()) < 0.15


def test_simulate_without_noise_is_the_physics(tmp_path, capsys):
    out = tmp_path / "shots.csv"
    assert run(capsys, "simulate", "--n", "20", "--noise", "0", *SHOT_PUT, "--out", str(out))[0] == 0
    speed, angle, distance = np.loadtxt(out, delimiter=",", skiprows=1).T
    expected = Projectile(LinearDrag(0.45), mass=7.26).range(speed, np.deg2rad(angle))
    np.testing.assert_allclose(distance, expected, rtol=1e-14)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["range", "--speed", "-1", "--angle", "30"], "--speed -1.0: must be"),
        (["range", "--speed", "10", "--angle", "120"], "--angle 120: must be in [0, 90] degrees"),
        (["range", "--speed", "10", "--angle", "30", "--mass", "0"], "--mass 0.0: must be"),
        (["range", "--speed", "10", "--angle", "30", "--drag", "linear"], "needs --k"),
        (["range", "--speed", "10", "--angle", "30", "--k", "1"], "--k does not apply to --drag none"),
        (["range", "--speed", "ten", "--angle", "30"], "invalid float value"),
        (["simulate", "--n", "0", "--out", "OUT"], "--n 0: must be"),
        (["simulate", "--drag", "quadratic", "--c", "-1", "--out", "OUT"], "--c -1.0: must be"),
        (["trajectory", "--speed", "10", "--angle", "-5", "--out", "OUT"], "--angle -5: must be in [0, 90] degrees"),
    ],
)
def test_errors_are_one_line_exit_2_and_write_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "out.csv"
    argv = [str(out) if a == "OUT" else a for a in argv]
    status, stdout, stderr = run(capsys, *argv)
    assert status == 2 and stdout == ""
    assert len(stderr.strip().splitlines()) == 1 and message in stderr
    assert list(tmp_path.iterdir()) == []


def test_process_exit_status_and_no_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hybridlab.cli", "trajectory", "--speed", "10", "--angle", "30",
         "--out", str(tmp_path / "missing" / "t.csv")],
        capture_output=True, text=True,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "no directory" in result.stderr


@pytest.mark.parametrize("command", ["range", "trajectory", "simulate"])
def test_help_states_units(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    text = capsys.readouterr().out
    assert exit_.value.code == 0 and "m/s" in text and "degrees" in text and "kg" in text


def test_help_imports_no_jax():
    """Printing the help of every command pays no JAX import (a second and more)."""
    code = ("import sys, contextlib, io\n"
            "from hybridlab.cli import build_parser\n"
            "parser = build_parser()\n"
            "commands = parser._subparsers._group_actions[0].choices\n"
            "for argv in [['--help']] + [[name, '--help'] for name in commands]:\n"
            "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "        parser.parse_args(argv)\n"
            "print(len(commands), sorted(m for m in ('jax', 'jaxlib', 'equinox', 'numpy') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    count, imported = result.stdout.split(" ", 1)
    assert int(count) >= 14 and imported.strip() == "[]"
    result = subprocess.run([sys.executable, "-m", "hybridlab", "range", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and "--drag {linear,none,polynomial,quadratic}" in result.stdout


def test_simulate_relative_noise(tmp_path, capsys):
    out = tmp_path / "shots.csv"
    assert run(capsys, "simulate", "--n", "4000", "--speed", "30", "30", "--angle", "40", "40", "--noise", "0",
               "--relative", "0.05", "--out", str(out))[0] == 0
    distance = np.loadtxt(out, delimiter=",", skiprows=1)[:, 2]
    true = 30.0**2 * np.sin(np.deg2rad(80.0)) / 9.81
    assert np.std(distance / true - 1, ddof=1) == pytest.approx(0.05, rel=0.06)
    assert run(capsys, "simulate", "--relative", "-1", "--out", str(tmp_path / "x.csv"))[0] == 2
    assert not (tmp_path / "x.csv").exists()


def test_shots_from_a_height_carry_it_and_fit_from_it(tmp_path, capsys):
    shots = tmp_path / "bridge.csv"
    assert run(capsys, "simulate", "--n", "60", "--speed", "2", "20", "--angle", "-30", "60", "--height", "12",
               "--noise", "0", "--out", str(shots))[0] == 0
    header = shots.read_text().splitlines()[0]
    assert header == "speed,angle,distance,height"
    data = np.loadtxt(shots, delimiter=",", skiprows=1)
    assert np.all(data[:, 3] == 12) and data[:, 1].min() < 0
    # From 12 m without drag: x = v cos θ · (v sin θ + √(v² sin² θ + 2 g h)) / g.
    v, theta = data[:, 0], np.deg2rad(data[:, 1])
    closed = v * np.cos(theta) * (v * np.sin(theta) + np.sqrt((v * np.sin(theta)) ** 2 + 2 * 9.81 * 12)) / 9.81
    np.testing.assert_allclose(data[:, 2], closed, rtol=1e-12)
    status, out, _ = run(capsys, "fit", str(shots), "--model", "physics", "--unknown", "g", "--height", "12",
                         "--out", str(tmp_path / "m"), "--json")
    g = json.loads(out)["physics"]["g"]["value"]
    assert g == pytest.approx(9.81, rel=1e-9)
    status, _, err = run(capsys, "fit", str(shots), "--model", "physics", "--unknown", "g",
                         "--out", str(tmp_path / "n"))
    assert status == 2 and "column 'height': 12 m, but --height is 0 m" in err and not (tmp_path / "n").exists()


def test_info_names_the_device_and_precision(capsys):
    import jax

    import hybridlab

    assert main(["info", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    device = jax.devices()[0]
    assert facts["device"] == f"{device.platform}: {device.device_kind}" and facts["backend"] == jax.default_backend()
    assert facts["precision"] == "float64" and facts["hybridlab"] == hybridlab.__version__
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"hybridlab {hybridlab.__version__}"


def _choices(command: str, flag: str) -> set:
    from hybridlab.cli import build_parser

    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    action = next(a for a in subparsers.choices[command]._actions if flag in a.option_strings)
    return set(action.choices)


def test_the_choices_of_the_commands_are_the_librarys_registries():
    # The parser is built without JAX (its choices are literals there): this keeps them the
    # library's, so a method or rule added to the library cannot be missing from the command.
    from hybridlab.dynamics.learning import LAWS, METHODS as LEARNING
    from hybridlab.experiments.solving import METHODS as SOLVING
    from hybridlab.inverse.regularisation import METHODS as REGULARISED, RULES
    from hybridlab.physics.drag import DRAG_LAWS

    assert _choices("recover-wind", "--method") == set(REGULARISED) | {"all"}
    assert _choices("recover-wind", "--rule") == set(RULES)
    assert _choices("solve", "--method") == set(SOLVING)
    assert _choices("learn-drag", "--method") == set(LEARNING) | {"pinn"}
    assert _choices("learn-drag", "--law") == set(LAWS)
    assert _choices("aim", "--drag") == set(DRAG_LAWS)


@pytest.mark.parametrize("raised, says", [(ValueError("first line\nsecond"), "first line"), (ValueError(""), "ValueError"),
                                          (ValueError("msg\n"), "msg"), (OSError("no such file"), "no such file")])
def test_a_users_error_leaves_as_one_line(raised, says):
    from hybridlab.experiments.errors import user_errors

    with pytest.raises((ValueError, OSError)) as caught, user_errors():
        raise raised
    assert str(caught.value) == says


def test_a_check_inside_a_compiled_solve_leaves_as_a_one_line_value_error():
    import equinox as eqx
    import jax.numpy as jnp

    from hybridlab.experiments.errors import user_errors

    with pytest.raises(ValueError) as caught, user_errors():
        eqx.error_if(jnp.array(1.0), jnp.array(True), "speed must be finite and >= 0").block_until_ready()
    assert str(caught.value) == "speed must be finite and >= 0"
