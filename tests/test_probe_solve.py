"""Issue 28, round three of the reliability probe: solve and recover-wind.

Each case the probe found gets the right answer — checked against closed forms: the vacuum's
boundary-value launch v_x = X/T, v_y = (Y − h)/T + g T/2, and a linear-drag track in still air,
whose recovered wind is 0 and whose launch is the one it was made with — or one line that names
the flag, file, line or column the user gave (exit 2, nothing written, no traceback)."""

import json
import re

import numpy as np
import pytest

from test_reliability import assert_refused, run

from hybridlab.physics import NoDrag, Projectile
from hybridlab.solvers import relative_l2

G = 9.81
#: The track of recover-wind: 1 kg under linear drag k = 0.1 kg/s, launched at 20 m/s and 45°
#: in still air, 12 points over 2 s.
MASS, K, SPEED, ANGLE = 1.0, 0.1, 20.0, 45.0


# --- solve -------------------------------------------------------------------------------------


def test_a_target_on_the_ground_from_a_height_is_reached_by_the_vacuums_launch(tmp_path, capsys):
    out = tmp_path / "path.csv"
    status, printed, _ = run(capsys, "solve", "--to", 30, 0, "--time", 2, "--height", 5, "--points", 21, "--out", out,
                             "--json")
    assert status == 0
    launch = json.loads(printed)["launch"]
    angle = np.deg2rad(launch["angle"])
    np.testing.assert_allclose(launch["speed"] * np.array([np.cos(angle), np.sin(angle)]),
                               [30 / 2, (0 - 5) / 2 + G * 2 / 2], rtol=1e-12)
    _, x, y = np.loadtxt(out, delimiter=",", skiprows=1).T
    np.testing.assert_allclose([x[-1], y[-1]], [30, 0], atol=1e-12)
    assert np.all(y >= -1e-12)  # never through the ground


@pytest.mark.parametrize("argv, says", [
    (["--to", 100, -10, "--time", 3], "--to (100, -10): the target is below the ground"),
    (["--to", 100, -10, "--time", 3, "--height", 5], "--to (100, -10): the target is below the ground"),
    (["--to", -100, 10, "--time", 3], "--to (-100, 10): the target is behind the launch"),
    (["--to", "nan", 10, "--time", 3], "--to (nan, 10.0): must be two finite numbers"),
    (["--method", "pinn", "--to", 100, -10, "--time", 3], "the target is below the ground"),
    (["--speed", 10, "--angle", 30, "--time", 5], "--time 5.0: the shot lands after 1.019367992 s"),
    (["--speed", 10, "--angle", 30, "--points", 10**12], "--points 1000000000000: must be an integer between 2"),
    (["--speed", 10, "--angle", 30, "--time", 1e300], "--time 1e+300: the shot lands after"),
    (["--to", 10, 0, "--time", 1e300], ("--time 1e+300: g T², the scale of the path's fall over T = 1e+300 s, "
                                        "overflows float64 (T must be at most 4.3e+153 s)")),
    (["--to", 1e300, 0, "--time", 1e-10], "--time 1e-10: the launch that reaches (1e+300, 0) m in 1e-10 s overflows"),
    (["--method", "pinn", "--to", 10, 0, "--time", 1e-300], ("--time 1e-300: g T², the scale of the path's fall "
                                                            "over T = 1e-300 s, underflows float64 (T must be between")),
    (["--method", "ritz", "--to", 10, 0, "--time", 1e-300], "--time 1e-300: g T²"),
    (["--method", "pinn", "--speed", 1e300, "--angle", 30], "--speed 1e+300 (its flight time sets T): g T²"),
    (["--method", "pinn", "--speed", 0, "--angle", 30], "--speed 0.0: a launch at this speed and angle lands at once"),
    (["--method", "pinn", "--speed", 10, "--angle", 30, "--epochs", 10**9],
     "--epochs 1000000000: must be an integer between 0 and 100000"),
    (["--method", "pinn", "--speed", 10, "--angle", 30, "--polish", 10**9], "--polish 1000000000: must be"),
])
def test_solve_refuses_in_one_line_naming_what_was_given(tmp_path, capsys, argv, says):
    err = assert_refused(capsys, tmp_path, "solve", *argv, "--out", tmp_path / "path.csv", says=says)
    if "--time" not in argv:
        assert not re.search(r"--time [-\d]", err)  # a flag the user never gave is never blamed


def test_a_diverged_training_is_refused_with_its_cause(tmp_path, capsys):
    # The slope v T/L = v/(g T) of a 1e200 m/s launch: the drag's residual overflows the loss.
    assert_refused(capsys, tmp_path, "solve", "--method", "pinn", "--speed", 1e200, "--angle", 30, "--time", 1,
                   "--drag", "linear", "--k", 0.1, "--epochs", 1, "--polish", 0, "--out", tmp_path / "path.csv",
                   says="the pinn training diverged (its loss became")


def test_the_relative_error_of_a_path_beyond_1e154_m_does_not_overflow():
    # A path scaled by 1.001 is off by 1e-3 of itself, however long: here its squares overflow.
    p, speed, angle, horizon = Projectile(NoDrag()), 1e160, np.pi / 4, 1e-5  # 1e155 m

    class Scaled:
        def trajectory(self, t):
            return tuple(1.001 * np.asarray(a) for a in p.trajectory(speed, angle, t))

    assert relative_l2(Scaled(), p, speed, angle, horizon) == pytest.approx(1e-3, rel=1e-9)


# --- recover-wind ------------------------------------------------------------------------------


def _still_air_track(path, points=12, duration=2.0):
    """The closed form of linear drag in still air: x = u_x s, y = u_y s − g (t − s)/β with
    s = (1 − e^{−βt})/β."""
    t = np.linspace(0.0, duration, points)
    beta, theta = K / MASS, np.deg2rad(ANGLE)
    s = -np.expm1(-beta * t) / beta
    x, y = SPEED * np.cos(theta) * s, SPEED * np.sin(theta) * s - G * (t - s) / beta
    np.savetxt(path, np.column_stack([t, x, y]), delimiter=",", header="t,x,y", comments="")
    return path


@pytest.fixture(scope="module")
def track(tmp_path_factory):
    return _still_air_track(tmp_path_factory.mktemp("track") / "track.csv")


#: The default samples, 12 (the track's points): one forward map compiled for every test here.
BASE = ["--mass", MASS, "--k", K, "--noise", 0.01]


@pytest.mark.parametrize("method", ["least-squares", "tikhonov", "tikhonov-identity", "tv",
                                    # training the regulariser (~30 s): test_wind_recovery.py's learned test is fast
                                    pytest.param("learned", marks=pytest.mark.slow),
                                    pytest.param("all", marks=pytest.mark.slow)])
def test_every_method_recovers_still_air_from_a_valid_track(tmp_path, capsys, track, method):
    out = tmp_path / "out"
    status, printed, err = run(capsys, "recover-wind", track, *BASE, "--method", method, "--out", out, "--json")
    assert status == 0 and err == "", err
    result = json.loads(printed)
    for name, entry in result["methods"].items():
        if name == "learned":  # a prior's estimate, pulled towards its training gusts within the track's noise
            assert entry["residual_rms"] < 0.01 and np.max(np.abs(entry["wind"])) < 0.5
        else:
            np.testing.assert_allclose(entry["wind"], 0.0, atol=1e-9, err_msg=name)
    tolerance = 1e-3 if method == "learned" else 1e-9
    assert result["launch"]["speed"] == pytest.approx(SPEED, rel=tolerance)
    assert result["launch"]["angle"] == pytest.approx(ANGLE, rel=tolerance)
    assert (out / "figures" / "wind.png").stat().st_size > 0
    regularised = method != "least-squares"  # the learned regulariser has a path of λ too
    assert (out / "lcurve.csv").exists() == regularised == (out / "figures" / "lcurve.png").exists()


def test_the_default_samples_fit_a_short_track(tmp_path, capsys, track):
    # 41 samples by default, but no more than the track's 12 points (the brief's track had 40).
    status, printed, _ = run(capsys, "recover-wind", track, "--mass", MASS, "--k", K, "--method", "least-squares",
                             "--out", tmp_path / "out", "--json")
    assert status == 0 and len(json.loads(printed)["methods"]["least-squares"]["wind"]) == 12


@pytest.mark.parametrize("argv, says", [
    (["--samples", 0], "--samples 0: must be an integer between 2 and 101"),
    (["--samples", 1_000_000], "--samples 1000000: must be an integer between 2 and 101"),
    (["--samples", 13], "--samples 13: must be an integer between 2 and 12 (the track's 12 points)"),
    (["--k", 1e-300], "--k 1e-300 kg/s and --mass 1 kg: over the track's 2 s the drag's rate k/m = 1e-300 /s"),
    (["--k", 1e300], "above 10000 the drag is too stiff for the ODE solve"),
    (["--mass", 1e-300], "--k 0.1 kg/s and --mass 1e-300 kg"),
    (["--noise", 1e300], "--noise 1e+300: must be > 0 (m), between 1e-50 and 1e+50"),
    (["--speed", 1e300, "--angle", 45], "--speed 1e+300: must be >= 0 and travel at most 1e+50 m"),
    (["--height", 1e300], "the track departs by 1e+300 m from the motion it is compared with (a launch from --height"),
])
def test_recover_wind_refuses_in_one_line(tmp_path, capsys, track, argv, says):
    options = {"--mass": MASS, "--k": K} | dict(zip(argv[::2], argv[1::2]))
    assert_refused(capsys, tmp_path, "recover-wind", track, *(a for pair in options.items() for a in pair),
                   "--out", tmp_path / "out", says=says)


def test_a_track_too_long_is_refused_before_the_work(tmp_path, capsys):
    track = _still_air_track(tmp_path / "long.csv", points=1001)
    assert_refused(capsys, tmp_path, "recover-wind", track, "--mass", MASS, "--k", K, "--out", tmp_path / "out",
                   says=f"{track}: 1001 points; at most 1000")


def test_a_track_positions_beyond_1e50_m_are_refused(tmp_path, capsys):
    track = tmp_path / "far.csv"
    track.write_text("t,x,y\n0,0,0\n0.1,1e300,1\n0.2,2,1.8\n0.3,3,2.5\n")
    assert_refused(capsys, tmp_path, "recover-wind", track, "--mass", MASS, "--k", K, "--out", tmp_path / "out",
                   says="the track's positions reach 1e+300 m")


def test_a_file_of_several_shots_names_the_second_shots_first_row(tmp_path, capsys):
    # Blank lines count: the line is the file's own.
    track = tmp_path / "shots.csv"
    track.write_text("shot,t,x,y\n\n7,0,0,0\n7,0.1,1,1\n7,0.2,2,1.8\n\n8,0,0,0\n8,0.1,1,1\n8,0.2,2,1.8\n")
    assert_refused(capsys, tmp_path, "recover-wind", track, "--mass", MASS, "--k", K, "--out", tmp_path / "out",
                   says=f"{track}, line 7, column 'shot': shot 8 begins here, after shot 7")
