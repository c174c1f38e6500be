"""Networks that solve the equations (PINN, Deep Ritz) against closed forms and SciPy."""

import json

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from hybridlab.cli import main
from hybridlab.physics import LinearDrag, Projectile, QuadraticDrag
from hybridlab.solvers import boundary_launch, pinn, relative_l2, ritz

G = 9.81
# The lecture's shot put: m = 7.26 kg, k = 1.8 kg/s, 15 m/s at 60°.
SHOT_PUT = Projectile(LinearDrag(k=1.8), mass=7.26, g=G)
B = 1.8 / 7.26


def _linear_path(vx, vy, t):
    """The textbook closed form under linear drag (the form the library avoids):
    x = v_x (1 − e^{−bt})/b, y = (v_y + g/b)(1 − e^{−bt})/b − g t/b."""
    decay = -np.expm1(-B * t) / B
    return vx * decay, (vy + G / B) * decay - G * t / B


def _error(solution, vx, vy, horizon):
    t = np.linspace(0.0, horizon, 501)
    x, y = solution.trajectory(t)
    ex, ey = _linear_path(vx, vy, t)
    return np.sqrt(np.sum((x - ex) ** 2 + (y - ey) ** 2) / np.sum(ex**2 + ey**2))


@pytest.mark.slow  # the boundary-value and inverse PINN tests train through the same path network
def test_a_pinn_solves_the_lecture_shot_put():
    speed, angle = 15.0, np.deg2rad(60.0)
    horizon = float(SHOT_PUT.flight_time(speed, angle))
    solution = pinn.shot(SHOT_PUT, speed, angle, epochs=500, polish=500)
    error = _error(solution, speed * np.cos(angle), speed * np.sin(angle), horizon)
    assert error < 1e-4  # the target is 1e-3
    assert relative_l2(solution, SHOT_PUT, speed, angle, horizon) == pytest.approx(error, rel=1e-3)
    assert solution.history_["lbfgs"][-1] < solution.history_["adam"][0][1]


def test_the_boundary_value_shot_has_its_closed_form_launch_and_deep_ritz_finds_its_path():
    # Where the lecture's shot is after 2 s; the launch that gets there in 2 s is that shot's.
    vx, vy = 15.0 * np.cos(np.deg2rad(60.0)), 15.0 * np.sin(np.deg2rad(60.0))
    target = [float(c) for c in _linear_path(vx, vy, 2.0)]
    speed, angle = boundary_launch(SHOT_PUT, target, 2.0)
    assert speed == pytest.approx(15.0, rel=1e-13) and angle == pytest.approx(np.deg2rad(60.0), rel=1e-13)
    solution = ritz.boundary_shot(SHOT_PUT, target, 2.0, epochs=500, polish=500)
    assert _error(solution, vx, vy, 2.0) < 1e-4  # the target
    np.testing.assert_allclose(solution.launch(), (15.0, np.deg2rad(60.0)), rtol=1e-4)


def test_deep_ritz_refuses_a_law_without_an_action():
    with pytest.raises(ValueError, match="only linear drag"):
        ritz.boundary_shot(Projectile(QuadraticDrag(c=9e-4), mass=0.145), (20.0, 5.0), 2.0)


@pytest.mark.slow
def test_the_boundary_launch_under_quadratic_drag_reaches_the_target_in_scipy():
    p = Projectile(QuadraticDrag(c=9e-4), mass=0.145, g=G)
    speed, angle = boundary_launch(p, (60.0, 4.0), 2.5)
    c = 9e-4 / 0.145

    def field(t, s):
        v = np.hypot(s[2], s[3])
        return [s[2], s[3], -c * v * s[2], -c * v * s[3] - G]

    end = solve_ivp(field, (0.0, 2.5), [0.0, 0.0, speed * np.cos(angle), speed * np.sin(angle)], method="DOP853",
                    rtol=1e-13, atol=1e-13).y[:2, -1]
    np.testing.assert_allclose(end, (60.0, 4.0), rtol=1e-10)


def test_solve_command_writes_the_path_and_its_error(tmp_path, capsys):
    out = tmp_path / "path.csv"
    status = main(["solve", "--method", "exact", "--to", "12", "3", "--time", "1.5", "--mass", "7.26",
                   "--drag", "linear", "--k", "1.8", "--points", "11", "--out", str(out), "--json"])
    assert status == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"method", "launch", "rel_l2_vs_exact", "seconds"} and result["rel_l2_vs_exact"] == 0.0
    rows = np.loadtxt(out, delimiter=",", skiprows=1)
    assert out.read_text().splitlines()[0] == "t,x,y" and rows.shape == (11, 3)
    np.testing.assert_allclose(rows[-1], (1.5, 12.0, 3.0), rtol=1e-12)
    vx, vy = (result["launch"]["speed"] * f(np.deg2rad(result["launch"]["angle"])) for f in (np.cos, np.sin))
    np.testing.assert_allclose(np.stack(_linear_path(vx, vy, rows[:, 0]), axis=1), rows[:, 1:], rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("argv, says", [
    (["--method", "ritz", "--to", "20", "5", "--time", "2", "--drag", "quadratic", "--c", "1e-3"],
     "--drag 'quadratic': the Deep Ritz method needs an action"),
    (["--to", "20", "5", "--time", "2", "--speed", "3"], "--to: give either"),
    (["--speed", "10", "--angle", "30", "--time", "0"], "--time 0.0: must be > 0"),
    (["--to", "20", "5"], "--to: needs --time"),
    (["--method", "ritz", "--speed", "10", "--angle", "30"], "solves the boundary-value shot"),
])
def test_solve_refuses_bad_input_in_one_line(tmp_path, capsys, argv, says):
    out = tmp_path / "path.csv"
    assert main(["solve", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def _scipy_mle(t, position):
    """k (and the starting state) by SciPy's least_squares on the textbook closed form."""
    from scipy.optimize import least_squares

    def residuals(q):
        k, x0, y0, vx, vy = q
        b = k / 7.26
        decay = -np.expm1(-b * t) / b
        return np.concatenate([x0 + vx * decay - position[:, 0], y0 + (vy + G / b) * decay - G * t / b - position[:, 1]])

    return least_squares(residuals, [0.5, 0.0, 0.0, 7.0, 13.0], x_scale="jac", xtol=1e-14, ftol=1e-14).x[0]


@pytest.mark.slow  # compile-bound (17 s); the forward PINN's test above trains the same machinery in the fast suite
def test_the_inverse_pinn_finds_the_drag_the_data_hold():
    # 10 points of the lecture's shot put with σ = 5 cm: the PINN's k is the maximum-likelihood
    # k of the closed form (SciPy), which is itself within its standard error (3.5 %) of 1.8.
    import jax

    from hybridlab.data import simulate_tracks
    from hybridlab.solvers import inverse

    tracks = simulate_tracks(SHOT_PUT, 1, 10, (15, 15), (np.deg2rad(60), np.deg2rad(60)), 0.05, jax.random.key(0))
    guess = Projectile(LinearDrag(k=0.5), mass=7.26, g=G)
    found = inverse.learn(tracks, guess, ("k",), epochs=1000, polish=1000)
    expected = _scipy_mle(tracks.t, tracks.position)
    assert found.parameters["k"] == pytest.approx(expected, rel=5e-3)
    assert found.parameters["k"] == pytest.approx(1.8, rel=0.05)
    # The loss ends at the noise level, (σ/L)² in the problem's units (L = g T²).
    span = tracks.t[-1] - tracks.t[0]
    assert found.history["lbfgs"][-1] < (0.05 / (G * span**2)) ** 2


@pytest.mark.slow
def test_learn_drag_pinn_reports_the_law_without_standard_errors(tmp_path, capsys):
    import jax

    from hybridlab.data import simulate_tracks, write_tracks

    tracks = simulate_tracks(SHOT_PUT, 1, 10, (15, 15), (np.deg2rad(60), np.deg2rad(60)), 0.05, jax.random.key(1))
    write_tracks(tmp_path / "shot.csv", tracks)
    assert main(["learn-drag", str(tmp_path / "shot.csv"), "--mass", "7.26", "--method", "pinn", "--law", "linear",
                 "--known-g", "--g", "9.81", "--epochs", "2000", "--out", str(tmp_path / "out"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["method"] == "pinn" and result["parameters"]["k"]["stderr"] is None
    assert result["parameters"]["k"]["value"] == pytest.approx(_scipy_mle(tracks.t, tracks.position), rel=5e-3)
    assert (tmp_path / "out" / "tracks.png").is_file()


@pytest.mark.slow
def test_the_equations_scenario_writes_its_report(tmp_path):
    from hybridlab.experiments.equations import run_equations

    metrics = run_equations(str(tmp_path / "eq"), quick=True, echo=lambda line: None)
    for name in ("metrics.json", "trajectories.csv", "losses.csv", "report.html", "figures/trajectories.png",
                 "figures/losses.png"):
        assert (tmp_path / "eq" / name).is_file(), name
    assert all(m["rel_l2"] < 1e-3 for m in metrics["forward"].values())
    assert metrics["boundary"]["ritz"]["rel_l2"] < 1e-4
    inverse = metrics["inverse"]
    assert inverse["pinn"]["k"] == pytest.approx(inverse["trajectory_fit"]["k"], rel=0.03)
    assert (tmp_path / "eq" / "figures" / "trajectories.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_equations_scenario_has_no_models_to_choose(tmp_path, capsys):
    assert main(["run", "--scenario", "equations", "--models", "mlp", "--out", str(tmp_path / "eq")]) == 2
    assert "no model ladder" in capsys.readouterr().err and not (tmp_path / "eq").exists()


def test_a_solver_refuses_what_is_not_a_shot_before_training():
    from hybridlab.solvers import PINN, DeepRitz

    with pytest.raises(ValueError, match=r"^horizon: must be a number, the time T in s \(got a ndarray of shape \(3,\)\)$"):
        PINN(SHOT_PUT).fit(np.ones(3), velocity=(1.0, 1.0))
    with pytest.raises(ValueError, match="^velocity, to: give exactly one"):
        PINN(SHOT_PUT).fit(2.0, velocity=(1.0, 1.0), to=(3.0, 0.0))
    with pytest.raises(ValueError, match=r"^velocity = \(1.0, nan\): must be two finite numbers"):
        PINN(SHOT_PUT).fit(2.0, velocity=(1.0, np.nan))
    with pytest.raises(ValueError, match=r"^drag = 'quadratic': the Deep Ritz method needs an action"):
        DeepRitz(Projectile(QuadraticDrag(c=9e-4), mass=0.145))
    with pytest.raises(ValueError, match="^epochs \\+ polish = 0: nothing would be trained"):
        PINN(SHOT_PUT, epochs=0, polish=0)


@pytest.fixture(scope="module")
def saved_pinn(tmp_path_factory):
    from hybridlab.solvers import PINN

    directory = tmp_path_factory.mktemp("solver") / "pinn"
    PINN(SHOT_PUT, widths=(4,), points=8, epochs=3, polish=2).fit(1.5, velocity=(10.0, 10.0)).save(directory)
    return directory


@pytest.mark.parametrize("edit, says", [
    (lambda r: r["context"].update(conditions=[1.0]), r"velocity: must be two finite numbers .* \(got shape \(1,\)\)"),
    (lambda r: r["context"].update(conditions=["1", "2"]), r"velocity: must be two finite numbers .*\(got not numbers\)"),
    (lambda r: r["context"].update(horizon=True), "horizon: must be a number"),
    (lambda r: r["context"].update(horizon=10**400), "horizon = 100000000000…: overflows float64"),
    (lambda r: r["context"].update(kind="final"), "kind = 'final'"),
    (lambda r: r["params"].update(points=10**6), "points = 1000000: must be an integer between 2 and 4096"),
    (lambda r: r.update(model="deep-ritz", module="hybridlab.solvers.ritz"), "the deep-ritz solves a shot of kind"),
])
def test_a_damaged_solver_record_is_refused_on_load_in_one_line(saved_pinn, tmp_path, edit, says):
    import json
    import shutil

    from hybridlab.estimators import load

    shutil.copytree(saved_pinn, tmp_path / "x")
    record = json.loads((saved_pinn / "model.json").read_text())
    edit(record)
    (tmp_path / "x" / "model.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match=f"damaged model record .*{says}") as refused:
        load(tmp_path / "x")
    assert "\n" not in str(refused.value)
    again = load(saved_pinn)  # the undamaged record: its times are its horizon's
    assert again.predict([0.0, 1.5]).shape == (2, 2)
    with pytest.raises(ValueError, match=r"^t = 1.6: the solution is a path over \[0, 1.5\] s"):
        again.predict([0.0, 1.6])
