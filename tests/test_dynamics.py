"""Learning inside the equations of motion (issue 11 §2): the solve against SciPy, the grey-box
TrajectoryFit against the known truth of simulated tracks, persistence and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from hybridlab.data import Tracks, simulate_tracks
from hybridlab.dynamics import UDE, NeuralODE, TrajectoryFit, discover_drag, motion
from hybridlab.physics import newton
from hybridlab.models import load
from hybridlab.physics import Projectile, QuadraticDrag

BASEBALL = Projectile(QuadraticDrag(c=1.2e-3), mass=0.145)


@pytest.fixture(scope="module")
def baseball_tracks():
    return simulate_tracks(BASEBALL, 6, 15, (30, 50), (0.3, 1.0), 0.05, jax.random.key(0))


def test_the_solve_matches_scipy_in_2d_and_for_a_drop():
    field = newton.Newton(newton.LawDrag(BASEBALL), BASEBALL.g)
    t = np.linspace(0.0, 3.0, 7)
    s0 = np.array([1.0, 2.0, 30.0, 12.0])

    def rhs(_, s):
        a = -1.2e-3 / 0.145 * np.hypot(s[2], s[3])
        return [s[2], s[3], a * s[2], a * s[3] - float(BASEBALL.g)]

    ref = solve_ivp(rhs, (0, 3), s0, t_eval=t, rtol=1e-12, atol=1e-12, method="DOP853").y.T
    np.testing.assert_allclose(newton.solve(field, jnp.asarray(s0), jnp.asarray(t), 1e-10), ref, atol=1e-7)
    # A drop: (height, velocity), drag against the motion (upwards while falling).
    drop = newton.solve(field, jnp.array([40.0, 0.0]), jnp.asarray(t), 1e-10)
    ref = solve_ivp(lambda _, s: [s[1], -float(BASEBALL.g) + 1.2e-3 / 0.145 * s[1] ** 2], (0, 3), [40.0, 0.0],
                    t_eval=t, rtol=1e-12, atol=1e-12, method="DOP853").y.T
    np.testing.assert_allclose(drop, ref, atol=1e-7)


@pytest.fixture(scope="module")
def baseball_fit(baseball_tracks):
    return TrajectoryFit({"drag": "quadratic", "mass": 0.145}, unknown=("c", "g")).fit(baseball_tracks)


def test_trajectory_fit_recovers_quadratic_drag_and_g_within_their_standard_errors(tmp_path, baseball_tracks,
                                                                                    baseball_fit):
    model = baseball_fit
    estimates = model.physics_estimates()
    for name, truth in (("c", 1.2e-3), ("g", float(BASEBALL.g))):
        value, stderr = estimates[name]["value"], estimates[name]["stderr"]
        assert abs(value - truth) < 3 * stderr and abs(value / truth - 1) < 0.03, (name, value, stderr)
    assert model.converged() and 0.035 < model.train_rmse_ < 0.065  # the noise, σ = 5 cm
    # Continuing the fitted tracks: close to the noiseless truth.
    clean = simulate_tracks(BASEBALL, 6, 15, (30, 50), (0.3, 1.0), 0.0, jax.random.key(0))
    assert np.sqrt(np.mean((model.predict(clean) - clean.position) ** 2)) < 0.05
    # A saved model predicts the same; it simulates from any state.
    model.save(tmp_path / "m")
    back = load(tmp_path / "m")
    assert isinstance(back, TrajectoryFit) and back.summary()["physics"] == model.summary()["physics"]
    np.testing.assert_array_equal(back.predict(baseball_tracks), model.predict(baseball_tracks))
    states = back.simulate(back.starts_[0], np.linspace(0.0, 1.0, 4))
    assert states.shape == (4, 4) and np.array_equal(states[0], np.asarray(back.starts_[0]))
    # Bad input to the fitted model is named.
    with pytest.raises(ValueError, match="initial_state"):
        model.simulate([1.0, 2.0, 3.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="t must be"):
        model.simulate([0.0, 0.0, 1.0, 1.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="'9' was not fitted"):
        model.predict(Tracks("shot", ("9",), np.zeros(1, int), np.zeros(1), np.zeros((1, 2))))


@pytest.mark.slow  # SciPy's side takes some 15 s (make test-all)
def test_a_robust_fit_of_a_real_drop_matches_scipy_least_squares():
    """soft_l1 on the baseball's drop 1 (t ≤ 2 s, padded to 32 points) against SciPy's
    least_squares through solve_ivp: the same loss, the same unknowns (c, g, h₀, v₀)."""
    from scipy.optimize import least_squares

    from hybridlab.data import load_drops
    from hybridlab.data.drops import benchmark_split

    drops, balls = load_drops()
    train, _ = benchmark_split(drops)["baseball"]
    mass, t, h = balls["baseball"].mass, train.t, train.position[:, 0]
    model = TrajectoryFit({"drag": "quadratic", "mass": mass}, unknown=("c", "g"), loss="soft_l1",
                          f_scale=0.1).fit(train)

    def residuals(q):
        c, g, h0, v0 = q
        rhs = lambda _, s: [s[1], -g - c / mass * s[1] * abs(s[1])]  # noqa: E731
        return solve_ivp(rhs, (t[0], t[-1]), [h0, v0], t_eval=t, rtol=1e-11, atol=1e-11, method="DOP853").y[0] - h

    ref = least_squares(residuals, [1e-3, 9.81, h[0], 0.0], loss="soft_l1", f_scale=0.1, x_scale=[1e-3, 1, 1, 1],
                        xtol=1e-14, ftol=1e-14, gtol=1e-14).x
    ours = [model.physics_estimates()[name]["value"] for name in ("c", "g")] + list(np.asarray(model.starts_[0]))
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="unknown"):
        TrajectoryFit({"drag": "quadratic"}, unknown=("k",))
    with pytest.raises(ValueError, match="loss"):
        TrajectoryFit(loss="cauchy")
    with pytest.raises(ValueError, match="tracks must be"):
        TrajectoryFit().fit(np.zeros((3, 2)))


def test_a_start_where_the_solve_fails_is_one_line_not_scipys():
    # c = 1e200 kg/m: the solve from the start fails (its step limit), so the residuals there are
    # NaN; SciPy's own error ("Residuals are not finite in the initial point") said nothing of why.
    t = np.linspace(0.0, 1.0, 6)
    drop = Tracks("drop", ("a",), np.zeros(6, int), t, (20.0 - 4.9 * t**2)[:, None])
    with pytest.raises(ValueError, match=r"^the fit's residuals are not finite at its starting parameters"):
        TrajectoryFit({"drag": {"law": "quadratic", "c": 1e200}, "mass": 1.0}, unknown=("c",)).fit(drop)


def _scipy_positions(c, g, start, t0, t):
    """Positions (P, 2) at times t of the baseball under c|v|² drag and gravity g from
    ``start`` at t0 (SciPy, tolerance 1e-12)."""
    def rhs(_, s):
        a = -c / 0.145 * np.hypot(s[2], s[3])
        return [s[2], s[3], a * s[2], a * s[3] - g]

    return solve_ivp(rhs, (t0, t[-1]), start, t_eval=t, rtol=1e-12, atol=1e-12, method="DOP853").y[:2].T


def test_the_trajectory_fit_interval_is_the_delta_method_and_covers_new_measurements(baseball_tracks, baseball_fit):
    model = baseball_fit
    one = baseball_tracks.select(["2"])
    (J, K, group, rows), = model._sensitivity_blocks(one)  # columns: c, g; and the track's starting state
    assert J.shape == (2 * len(one.t), 2) and K.shape == (2 * len(one.t), 4) and np.all(group == 2)
    J, K = J[np.argsort(rows)], K[np.argsort(rows)]  # as the coordinates of predict(one)
    # Against central differences of SciPy's solves in c and in the track's starting v_x.
    (c, g), start = np.asarray(model.values_), np.asarray(model.starts_[2])
    t0, t = model.t0_[2], one.t
    step_c, step_v = 1e-4 * c, 1e-4
    d_c = (_scipy_positions(c + step_c, g, start, t0, t) - _scipy_positions(c - step_c, g, start, t0, t)) / (2 * step_c)
    shifted = np.eye(4)[2] * step_v
    d_v = (_scipy_positions(c, g, start + shifted, t0, t) - _scipy_positions(c, g, start - shifted, t0, t)) / (2 * step_v)
    np.testing.assert_allclose(J[:, 0], d_c.reshape(-1), rtol=1e-5, atol=1e-5 * np.abs(d_c).max())
    np.testing.assert_allclose(K[:, 2], d_v.reshape(-1), rtol=1e-5, atol=1e-5)
    # The fit calibrated from Levenberg–Marquardt's Jacobian; the per-track solves give the same.
    fitted = model.interval_
    again = model._fit_interval(baseball_tracks)
    assert again.dof == fitted.dof == 2 * len(baseball_tracks.t) - 2 - 6 * 4
    np.testing.assert_allclose(again.covariance, fitted.covariance, rtol=1e-6)
    for new, old in [(again.gain, fitted.gain), (again.start, fitted.start)]:
        np.testing.assert_allclose(new, old, rtol=1e-6, atol=1e-12)
    # New measurements of the true tracks (fresh noise, σ = 5 cm): about 90 % inside.
    clean = simulate_tracks(BASEBALL, 6, 15, (30, 50), (0.3, 1.0), 0.0, jax.random.key(0))
    low, high = model.predict_interval(clean, 0.9)
    rng = np.random.default_rng(1)
    inside = [np.mean((low <= new) & (new <= high)) for new in clean.position + 0.05 * rng.normal(size=(40, *low.shape))]
    assert 0.85 < np.mean(inside) < 0.95, np.mean(inside)
    # Forecast beyond a track's last point, the model's share of the interval widens with the time ahead.
    later = Tracks("shot", ("2",), np.zeros(3, int), one.t[-1] + np.array([0.0, 0.5, 1.0]), np.zeros((3, 2)))
    _, std = model.predict(later, return_std=True)
    model_share = std[:, 0] ** 2 - model.interval_.noise ** 2
    assert np.all(np.diff(model_share) > 0) and model_share[-1] > 1.5 * model_share[0]


def test_the_ude_drag_only_takes_energy_and_training_lowers_the_error(tmp_path, baseball_tracks):
    few = baseball_tracks.select(["0", "1"])
    longer = UDE({"mass": 0.145}, widths=(8,), epochs=60, learning_rate=3e-2).fit(few)
    assert longer.train_mse_ < 0.5 * longer.initial_mse_
    speeds = np.linspace(0.0, 60.0, 13)
    assert np.all(longer.force(speeds) >= 0)
    v = jnp.array([20.0, -5.0])
    a = longer.drag()(v)
    assert float(a @ v) <= 0 and abs(float(a[0] * v[1] - a[1] * v[0])) < 1e-9  # along −v
    longer.save(tmp_path / "ude")
    back = load(tmp_path / "ude")
    np.testing.assert_array_equal(back.force(speeds), longer.force(speeds))
    # Its interval (the last layer's and the starts' delta method) is saved with it; σ̂ is the
    # residuals' RMS with the parameters' degrees of freedom taken off.
    residual = longer.predict(few) - few.position
    dof = residual.size - (longer.network_.layers[-1].weight.size + 1 + 2 * 4)
    assert longer.interval_.dof == dof
    np.testing.assert_allclose(longer.interval_.noise, np.sqrt(np.sum(residual**2) / dof), rtol=1e-10)
    np.testing.assert_array_equal(back.predict_interval(few)[0], longer.predict_interval(few)[0])


def test_the_ude_trains_by_mini_batches_of_tracks(baseball_tracks):
    # A batch of at least every track is the full-batch fit, bit for bit; batches of one track
    # (2 steps an epoch, each track's start moved only by its own batch's gradient) still learn.
    few = baseball_tracks.select(["0", "1"])
    settings = {"widths": (8,), "epochs": 60, "learning_rate": 3e-2}  # as the test above: its programs
    full = UDE({"mass": 0.145}, **settings).fit(few)
    np.testing.assert_array_equal(UDE({"mass": 0.145}, batch_size=2, **settings).fit(few).force([10.0, 40.0]),
                                  full.force([10.0, 40.0]))
    mini = UDE({"mass": 0.145}, batch_size=1, **settings).fit(few)
    assert mini.train_mse_ < 0.5 * mini.initial_mse_ and mini.get_params()["batch_size"] == 1
    assert not np.array_equal(mini.force([10.0, 40.0]), full.force([10.0, 40.0]))
    with pytest.raises(ValueError, match="batch_size = 0: must be an integer >= 1 or None"):
        UDE(batch_size=0)


def test_a_training_that_diverges_is_refused_and_leaves_nothing_fitted(baseball_tracks):
    # Adam at a step size of 1e3 throws the network's weights far out: the drag's solve fails and
    # the loss is not finite. It used to be kept as a fit that predicts inf everywhere.
    wild = UDE({"mass": 0.145}, widths=(8,), epochs=60, learning_rate=1e3)
    with pytest.raises(ValueError, match=r"^the ude-tracks training diverged \(its loss became (inf|nan)\); try a "
                                         "smaller learning_rate than 1000$"):
        wild.fit(baseball_tracks.select(["0", "1"]))
    assert not hasattr(wild, "network_") and not hasattr(wild, "n_features_")


@pytest.mark.slow  # compile-bound; the UDE's test trains and reloads the same network-in-the-field machinery
def test_the_neural_ode_learns_the_whole_field_and_reloads(tmp_path, baseball_tracks):
    few = baseball_tracks.select(["0", "1"])
    model = NeuralODE({"mass": 0.145}, widths=(16,), epochs=60, learning_rate=3e-2).fit(few)
    assert model.train_mse_ < 0.5 * model.initial_mse_
    assert model.summary()["formula"] == "ds/dt = N(s), N a network"
    model.save(tmp_path / "node")
    back = load(tmp_path / "node")
    assert isinstance(back, NeuralODE)
    np.testing.assert_array_equal(back.predict(few), model.predict(few))


class _LearnedCurve:
    """A stand-in for a fitted UDE whose learned force is c|v|² plus a spurious cubic share:
    what discovery reads (states along the tracks, force, physics), without training one."""

    physics = Projectile(QuadraticDrag(c=1e-3), mass=0.145).to_spec()

    def __init__(self, tracks):
        field = newton.Newton(newton.LawDrag(BASEBALL), BASEBALL.g)
        t, _, mask = tracks.padded()
        states = newton.solve_tracks(field, jnp.asarray(motion.starting_states(tracks)), jnp.asarray(t), 1e-8)
        self._states = np.asarray(states)[mask]

    def states(self, tracks):
        return self._states

    def force(self, speed):
        return 1.2e-3 * speed**2 * (1 + 0.3 * speed / 40)


@pytest.mark.slow
def test_discovery_keeps_only_the_term_the_tracks_need(baseball_tracks):
    found = discover_drag(_LearnedCurve(baseball_tracks), baseball_tracks)
    # The regression keeps |v|² and |v|³; on the tracks (pure quadratic drag) the F-test of
    # |v|² alone against |v|² + |v|³ does not reject it, so the law is the one term.
    assert found.law == "quadratic" and set(found.parameters()) == {"c"}
    c = found.parameters()["c"]
    assert abs(c["value"] - 1.2e-3) < 3 * c["stderr"] and abs(c["value"] / 1.2e-3 - 1) < 0.03
    assert found.speeds[0] < 20 < 40 < found.speeds[1]
    with pytest.raises(ValueError, match="library term"):
        discover_drag(_LearnedCurve(baseball_tracks), baseball_tracks, library=("quartic",))


class _NoForce(_LearnedCurve):
    def force(self, speed):
        return np.zeros_like(speed)


@pytest.mark.slow
def test_discovery_tries_more_terms_where_the_tracks_reject_fewer(baseball_tracks):
    """A learned force of zero keeps no term (m = 0); the tracks (quadratic drag) reject no
    drag, so one term at a time is tried, and |v|² alone passes the F-test."""
    found = discover_drag(_NoForce(baseball_tracks), baseball_tracks)
    assert found.law == "quadratic"
    c = found.parameters()["c"]
    assert abs(c["value"] - 1.2e-3) < 3 * c["stderr"]


def test_discovery_reads_the_physics_of_a_model_built_with_a_projectile_or_none():
    """A UDE's physics may be a Projectile, its spec or None (the defaults): discovery refits
    the law on each alike (it once took dict() of a Projectile: a TypeError)."""
    from hybridlab.dynamics.discovery import _law_spec, _spec

    ball = Projectile(QuadraticDrag(c=1e-3), mass=0.145)
    assert _spec(ball) == ball.to_spec() == _spec(ball.to_spec())
    assert Projectile.from_spec(_law_spec(_spec(None), {"quadratic": 2e-3})) == Projectile(QuadraticDrag(c=2e-3))
    assert Projectile.from_spec(_law_spec(_spec(ball), {"linear": 0.1})).mass == 0.145
