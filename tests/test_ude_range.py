"""The UDE rung (issue 11 §2): a network drag inside Newton's law, trained from ranges alone.
The event-terminated solve against SciPy, the law it learns against the truth of simulated
shots, persistence, bad settings, and the force figure a run draws."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from hybridlab.experiments.runner import _forces_table
from hybridlab.experiments.scenarios import SCENARIOS
from hybridlab.models import UDERange, load
from hybridlab.models.ude_range import flight_range
from hybridlab.networks.drag import NetworkDrag, drag_network
from hybridlab.physics import LinearDrag, Projectile, QuadraticDrag
from hybridlab.report.figures import plot_forces, write_figure

G = 9.81
BASEBALL = Projectile(QuadraticDrag(9e-4), mass=0.145)


def _scipy_range(magnitude: float, speed: float, angle: float, height: float) -> float:
    """The range under a drag of constant magnitude (m/s²) along −v̂, by DOP853 at 1e-12 with
    a terminal event at y = 0."""
    def rhs(_, s):
        v = np.hypot(s[2], s[3])
        return [s[2], s[3], -magnitude * s[2] / v, -G - magnitude * s[3] / v]

    def ground(_, s):
        return s[1]

    ground.terminal, ground.direction = True, -1
    solution = solve_ivp(rhs, (0, 100), [0.0, height, speed * np.cos(angle), speed * np.sin(angle)],
                         events=ground, rtol=1e-12, atol=1e-12, method="DOP853")
    return float(solution.y_events[0][0][0])


@pytest.mark.parametrize("form, bias, magnitude", [("softplus", 0.1, G * np.log1p(np.exp(0.1))),
                                                    ("power", np.log(0.2), G * 0.2)])
def test_the_event_terminated_solve_matches_scipy(form, bias, magnitude):
    # A zero-weight network is its bias: a drag of constant magnitude, whatever the speed.
    network = eqx.tree_at(lambda n: n.layers[-1].bias, drag_network((4,), "softplus", jax.random.key(0), form),
                          jnp.full(1, bias))
    drag = NetworkDrag(network, jnp.asarray(10.0), jnp.asarray(G), form)
    for speed, angle, height in [(20.0, 0.7, 0.0), (35.0, 0.2, 0.0), (15.0, -0.3, 10.0)]:
        ours, landed = flight_range(drag, jnp.asarray(height), speed, angle, 1e-10)
        assert bool(landed)
        assert float(ours) == pytest.approx(_scipy_range(magnitude, speed, angle, height), rel=1e-7)


@pytest.fixture(scope="module")
def shots():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.uniform(10, 45, 60), np.deg2rad(rng.uniform(5, 60, 60))])
    y = np.asarray(BASEBALL.range(X[:, 0], X[:, 1])) + rng.normal(0, 0.1, 60)
    return X, y


@pytest.mark.parametrize("truth, exponent", [(BASEBALL, 2.0), (Projectile(LinearDrag(1.8), mass=7.26), 1.0)])
def test_the_power_law_start_finds_the_drag_law(truth, exponent):
    # The start alone: the exponent and the drag of the simulated truth, c v² or k v, from 60
    # ranges with σ = 0.1 m, wherever the grid's best law is.
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.uniform(10, 45, 60), np.deg2rad(rng.uniform(5, 60, 60))])
    y = np.asarray(truth.range(X[:, 0], X[:, 1])) + rng.normal(0, 0.1, 60)
    coefficient, p = UDERange({"mass": float(truth.mass)}, widths=(8, 8)).power_law(X, y)
    assert p == pytest.approx(exponent, abs=0.05)
    speed = np.array([15.0, 30.0, 45.0])
    np.testing.assert_allclose(coefficient * speed**p, -np.asarray(truth.drag.force(speed, 0.0)[0]), rtol=0.03)


def test_the_intervals_sensitivities_are_the_ranges_derivatives_in_the_last_layer():
    # A UDE with its arrays set by hand (no training): ∂D/∂(W_L, b_L) by forward mode through
    # the solves against central differences of its predictions, at a tight tolerance.
    model = UDERange({"mass": 0.145}, widths=(4,), rtol=1e-12)
    network = drag_network((4,), "softplus", jax.random.key(1), "power")
    last = network.layers[-1]
    network = eqx.tree_at(lambda n: (n.layers[-1].weight, n.layers[-1].bias), network,
                          (0.3 * jnp.ones_like(last.weight), jnp.full(1, np.log(0.2))))
    model.network_, model.exponent_, model.speed_scale_, model.y_scale_ = network, jnp.asarray(2.0), 45.0, 60.0
    X = np.array([[20.0, 0.7], [35.0, 0.2], [44.0, 1.0]])
    J = model._sensitivities(X)
    h, columns = 1e-5, []
    for i in range(5):
        moved = []
        for sign in (1, -1):
            copy = UDERange({"mass": 0.145}, widths=(4,), rtol=1e-12)
            flat = jnp.concatenate([network.layers[-1].weight.ravel(), network.layers[-1].bias]).at[i].add(sign * h)
            copy.network_ = eqx.tree_at(lambda n: (n.layers[-1].weight, n.layers[-1].bias), network,
                                        (flat[:4].reshape(1, 4), flat[4:]))
            copy.exponent_, copy.speed_scale_, copy.y_scale_ = model.exponent_, 45.0, 60.0
            moved.append(np.asarray(copy._predict(X)))
        columns.append((moved[0] - moved[1]) / (2 * h))
    np.testing.assert_allclose(J, np.column_stack(columns), rtol=1e-5, atol=1e-8)


def test_the_power_law_is_the_power_forms_alone():
    X, y = np.array([[20.0, 0.5], [30.0, 0.7]]), np.array([30.0, 60.0])
    for model in (UDERange(form="softplus"), UDERange(law_steps=0)):
        with pytest.raises(ValueError, match="the power law is the power form's start"):
            model.power_law(X, y)


# Training the UDE costs about a minute here, mostly compiling: the tests that need it are slow
# (make test-all), and the fast suite keeps the solve against SciPy and the settings' checks.
@pytest.fixture(scope="module")
def learned(shots):
    return UDERange({"mass": 0.145}, widths=(8, 8), epochs=50, polish=60).fit(*shots)


@pytest.mark.slow
def test_the_ude_learns_the_drag_from_ranges_alone(learned, shots):
    X, y = shots
    assert np.sqrt(np.mean((learned.predict(X) - y) ** 2)) < 0.15  # the noise: σ = 0.1 m
    speed = np.array([15.0, 25.0, 35.0, 45.0])
    np.testing.assert_allclose(learned.force(speed), 9e-4 * speed**2, rtol=0.05)
    # Beyond the data (launches at 45-60 m/s): a power law off the data, not a flattening.
    rng = np.random.default_rng(4)
    far = np.column_stack([rng.uniform(45, 60, 60), np.deg2rad(rng.uniform(5, 60, 60))])  # X's shape: one compile
    truth = np.asarray(BASEBALL.range(far[:, 0], far[:, 1]))
    assert np.sqrt(np.mean((learned.predict(far) - truth) ** 2)) < 0.5
    assert np.all(learned.force(np.linspace(0.0, 100.0, 51)) >= 0)


@pytest.mark.slow
def test_the_ude_reloads_as_it_was(learned, shots, tmp_path):
    X, _ = shots
    learned.save(tmp_path / "ude")
    back = load(tmp_path / "ude")
    assert isinstance(back, UDERange) and back.summary() == learned.summary()
    np.testing.assert_array_equal(back.predict(X), learned.predict(X))
    np.testing.assert_array_equal(back.force([30.0]), learned.force([30.0]))


@pytest.mark.slow
def test_the_ude_learns_from_mini_batches_of_shots(shots):
    # Batches of 20 of the 60 shots (3 steps an epoch, the scale constants passed whole to each).
    X, y = shots
    model = UDERange({"mass": 0.145}, widths=(8, 8), epochs=50, polish=60, batch_size=20).fit(X, y)
    assert model.get_params()["batch_size"] == 20
    assert np.sqrt(np.mean((model.predict(X) - y) ** 2)) < 0.15  # the noise: σ = 0.1 m


@pytest.mark.parametrize("arguments, message", [
    ({"physics": {"drag": {"law": "linear", "k": 1.0}}}, "the UDE learns the drag"),
    ({"form": "cubic"}, "form = 'cubic'"),
    ({"polish": -1}, "polish = -1"),
    ({"rtol": 2.0}, "rtol = 2.0"),
    ({"batch_size": 0}, "batch_size = 0"),
    ({"law_steps": -1}, "law_steps = -1"),
    ({"law_steps": 2.5}, "law_steps = 2.5"),
])
def test_the_ude_refuses_bad_settings(arguments, message):
    with pytest.raises(ValueError, match=message):
        UDERange(**arguments)


@pytest.mark.slow
def test_a_run_tables_and_draws_the_learned_force(learned, tmp_path):
    spec = SCENARIOS["baseball"]
    forces = _forces_table(spec, {"ude": learned, "mlp": object()})
    assert set(forces) == {"speed", "true", "ude"} and forces["speed"][-1] == spec.extrap_speed[1]
    np.testing.assert_allclose(forces["true"], 9e-4 * forces["speed"] ** 2, rtol=1e-12)
    metrics = {"models": {"ude": {}}, "train_region": {"speed": list(spec.speed)}}
    write_figure(plot_forces(metrics, forces), tmp_path / "forces.png")
    assert (tmp_path / "forces.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
