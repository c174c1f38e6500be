"""The model ladder against independent references.

Every number is checked against something computed here without the model's code: a
brute-force nearest neighbour, scipy's least squares, closed-form ranges, a finite-difference
Jacobian or Hessian, the formula a model prints evaluated by Python. Fitted models are
module-scoped fixtures (JAX compile time dominates the run time); data sizes and seeds are fixed.
X columns are (speed m/s, angle rad); y is the distance in m.
"""

import copy
import itertools
import json
import os

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from jax.flatten_util import ravel_pytree

import hybridlab  # noqa: F401  (float64)
from hybridlab import LinearDrag, Projectile, QuadraticDrag
from hybridlab.data import simulate_shots
from hybridlab.models import (
    MLP,
    REGISTRY,
    BasisRegression,
    Hybrid,
    LinearRegression,
    NearestNeighbour,
    PhysicsFit,
    load,
)
from hybridlab.networks.network import Network

G = 9.81
SHOT_PUT = Projectile(LinearDrag(1.8), mass=7.26)
N_SHOTS = 300
SHOT_PUT_SPEED, SHOT_PUT_ANGLE = (5.0, 85.0), (np.radians(5.0), np.radians(85.0))


def evaluate(formula, X):
    """A printed formula evaluated by Python on X = (v, theta): the test's own evaluator."""
    names = {"v": X[:, 0], "theta": X[:, 1], "sin": np.sin, "cos": np.cos, "__builtins__": {}}
    return np.broadcast_to(eval(formula, names), (len(X),))


def columns(d):
    return np.column_stack([d["speed"], d["angle"]])


# Data ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shot_put():
    """300 training and 300 held-out shots of the k = 1.8 kg/s shot put, σ = 0.1 m.

    Every range of a linear-drag projectile in this file is taken on N_SHOTS points: the range
    is compiled once per (drag law type, shape), so one shape means one compilation.
    """
    train = simulate_shots(SHOT_PUT, N_SHOTS, SHOT_PUT_SPEED, SHOT_PUT_ANGLE, 0.1, jax.random.key(1))
    test = simulate_shots(SHOT_PUT, N_SHOTS, SHOT_PUT_SPEED, SHOT_PUT_ANGLE, 0.1, jax.random.key(2))
    return columns(train), train["distance"], columns(test), test["distance"]


@pytest.fixture(scope="module")
def cannon():
    """1000 no-drag cannon shots, v ∈ [0, 10] m/s, θ ∈ [0, π/2], σ = 0.01 m (clipped at 0)."""
    d = simulate_shots(Projectile(), 1000, (0.0, 10.0), (0.0, np.pi / 2), 0.01, jax.random.key(0))
    return columns(d), d["distance"]


@pytest.fixture(scope="module")
def smooth():
    """y = sin(x1) + x2² on 200 training and 100 held-out points of [−2, 2] × [−1, 1]."""
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.uniform(-2, 2, 300), rng.uniform(-1, 1, 300)])
    y = np.sin(X[:, 0]) + X[:, 1] ** 2
    return X[:200], y[:200], X[200:], y[200:]


@pytest.fixture(scope="module")
def cuberoot_data():
    x = np.linspace(0.0, 1.0, 50)
    return x[:, None], x ** (1 / 3)


# Fitted models (shared) -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nearest_model(shot_put):
    X, y, _, _ = shot_put
    return NearestNeighbour(k=3).fit(X, y)


@pytest.fixture(scope="module")
def linear_model(shot_put):
    X, y, _, _ = shot_put
    return LinearRegression().fit(X, y)


@pytest.fixture(scope="module")
def basis_model(cannon):
    return BasisRegression().fit(*cannon)


@pytest.fixture(scope="module")
def physics_model(shot_put):
    X, y, _, _ = shot_put
    return PhysicsFit({"drag": {"law": "linear", "k": 1.0}, "mass": 7.26}, unknown=("k",)).fit(X, y)


@pytest.fixture(scope="module")
def mlp_model(smooth):
    X, y, _, _ = smooth
    return MLP().fit(X, y)


@pytest.fixture(scope="module")
def cuberoot_model(cuberoot_data):
    return MLP(widths=(3,), activation="tanh", optimiser="lm", restarts=3).fit(*cuberoot_data)


@pytest.fixture(scope="module")
def hybrid_model(shot_put):
    X, y, _, _ = shot_put
    return Hybrid(prior={"drag": {"law": "linear", "k": 0.45}, "mass": 7.26}, network=MLP(widths=(16, 16), polish=0)).fit(X, y)


# 1. Nearest neighbour ----------------------------------------------------------------------------
def brute_force_neighbours(X, y, Q, k):
    """Mean y over the k training rows nearest to each query in (x − mean)/std, by argsort."""
    mean, std = X.mean(axis=0), X.std(axis=0)
    Z, W = (X - mean) / std, (Q - mean) / std
    distances = np.sum((W[:, None, :] - Z[None, :, :]) ** 2, axis=-1)
    return y[np.argsort(distances, axis=1)[:, :k]].mean(axis=1)


@pytest.mark.parametrize("k", [1, 3])
def test_nearest_equals_brute_force_in_standardised_inputs(k):
    rng = np.random.default_rng(10 + k)
    # Columns of very different scale: unstandardised distances would pick other neighbours.
    X = np.column_stack([rng.uniform(0, 80, 60), rng.uniform(0, 1.5, 60)])
    y = rng.normal(size=60)
    Q = np.column_stack([rng.uniform(0, 80, 40), rng.uniform(0, 1.5, 40)])
    got = NearestNeighbour(k=k).fit(X, y).predict(Q)
    np.testing.assert_allclose(got, brute_force_neighbours(X, y, Q, k), rtol=1e-13, atol=0)
    # The reference is sensitive to the standardisation: raw distances give other answers.
    raw = y[np.argsort(np.sum((Q[:, None] - X[None]) ** 2, axis=-1), axis=1)[:, :k]].mean(axis=1)
    assert not np.allclose(got, raw)


def test_nearest_training_points_predict_their_own_value(shot_put):
    X, y, _, _ = shot_put
    np.testing.assert_array_equal(NearestNeighbour(k=1).fit(X, y).predict(X), y)


def test_nearest_k_larger_than_training_set():
    X = np.arange(10.0).reshape(5, 2)
    with pytest.raises(ValueError, match="k = 6"):
        NearestNeighbour(k=6).fit(X, np.zeros(5))
    for k in (0, 2.5):
        with pytest.raises(ValueError, match="positive integer"):
            NearestNeighbour(k=k)


# 2. Linear regression ------------------------------------------------------------------------------
def test_linear_coefficients_equal_scipy_lstsq(linear_model, shot_put):
    X, y, _, _ = shot_put
    expected, *_ = scipy.linalg.lstsq(np.column_stack([np.ones(len(X)), X]), y)
    np.testing.assert_allclose(np.asarray(linear_model.coefficients_), expected, rtol=1e-10)
    np.testing.assert_allclose(linear_model.predict(X), np.column_stack([np.ones(len(X)), X]) @ expected,
                               rtol=1e-10, atol=1e-10 * np.abs(y).max())


def test_linear_hessian_eigenvalues_equal_closed_form(linear_model, shot_put):
    X, y, _, _ = shot_put
    Z = np.column_stack([np.ones(len(X)), (X - X.mean(axis=0)) / X.std(axis=0)])
    expected = np.sort(np.linalg.eigvalsh(2 * Z.T @ Z / (len(y) * np.var(y))))[::-1]
    report = linear_model.summary()["diagnostics"]["hessian"]
    assert report["n_params"] == 3 and report["near_zero"] == 0
    np.testing.assert_allclose(report["eigenvalues"], expected, rtol=1e-10)
    np.testing.assert_allclose(report["condition"], expected[0] / expected[-1], rtol=1e-10)


def test_linear_formula_reproduces_predict(linear_model, shot_put):
    _, _, X, _ = shot_put
    summary = linear_model.summary()
    assert summary["n_params"] == 3 and "v" in summary["formula"] and "theta" in summary["formula"]
    predicted = linear_model.predict(X)
    # The formula prints 6 significant digits: each coefficient is within 5e-6 of itself, relative.
    b, w_v, w_theta = np.asarray(linear_model.coefficients_)
    bound = 5.01e-6 * (abs(b) + np.abs(w_v * X[:, 0]) + np.abs(w_theta * X[:, 1]))
    assert np.all(np.abs(evaluate(summary["formula"], X) - predicted) <= bound)


# 3. Basis regression -----------------------------------------------------------------------------
def test_basis_finds_the_vacuum_range_formula_from_exact_data():
    rng = np.random.default_rng(4)
    X = np.column_stack([rng.uniform(0, 10, 200), rng.uniform(0, np.pi / 2, 200)])
    y = X[:, 0] ** 2 * np.sin(2 * X[:, 1]) / G
    terms = BasisRegression().fit(X, y).summary()["terms"]
    assert list(terms) == ["v**2*sin(2*theta)"]
    np.testing.assert_allclose(terms["v**2*sin(2*theta)"], 1 / G, rtol=1e-6)


def test_basis_finds_the_vacuum_range_formula_through_noise(basis_model, cannon):
    summary = basis_model.summary()
    assert list(summary["terms"]) == ["v**2*sin(2*theta)"]
    c = summary["terms"]["v**2*sin(2*theta)"]
    np.testing.assert_allclose(c, 1 / G, rtol=5e-3)
    stderr = summary["stderr"]["v**2*sin(2*theta)"]
    assert list(summary["stderr"]) == ["v**2*sin(2*theta)"] and stderr > 0
    assert abs(c - 1 / G) < 5 * stderr
    # One term f = v² sin 2θ: se = s / √Σf², s² = Σ(cf − y)² / (n − 1).
    X, y = cannon
    f = X[:, 0] ** 2 * np.sin(2 * X[:, 1])
    np.testing.assert_allclose(stderr, np.sqrt(np.sum((c * f - y) ** 2) / (len(y) - 1) / np.sum(f**2)), rtol=1e-6)
    np.testing.assert_allclose(basis_model.predict(X), evaluate(summary["formula"], X), rtol=5.01e-6, atol=0)


def test_basis_recovers_a_sparse_polynomial_exactly():
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.uniform(0, 10, 200), rng.uniform(0, np.pi / 2, 200)])
    v, theta = X.T
    y = 2 + 3 * v * np.cos(theta) - 0.5 * v**2
    model = BasisRegression().fit(X, y)
    summary = model.summary()
    assert set(summary["terms"]) == {"1", "v*cos(theta)", "v**2"}
    np.testing.assert_allclose([summary["terms"][t] for t in ("1", "v*cos(theta)", "v**2")], [2, 3, -0.5],
                               rtol=1e-9)
    assert set(summary["stderr"]) == set(summary["terms"]) and all(s >= 0 for s in summary["stderr"].values())
    Q = np.column_stack([rng.uniform(0, 10, 50), rng.uniform(0, np.pi / 2, 50)])
    np.testing.assert_allclose(model.predict(Q), 2 + 3 * Q[:, 0] * np.cos(Q[:, 1]) - 0.5 * Q[:, 0] ** 2,
                               rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(model.predict(Q), evaluate(summary["formula"], Q), rtol=1e-5, atol=1e-5)


def test_basis_threshold_zero_is_least_squares_on_the_library(cannon):
    X, y = cannon
    X, y = X[:300], y[:300]
    model = BasisRegression(threshold=0.0).fit(X, y)
    terms = model.summary()["terms"]
    # The library, built here from the variables' factors, not from the model's code.
    powers = ["1", "v", "v**2", "v**3"]
    harmonics = ["1", "sin(theta)", "cos(theta)", "sin(2*theta)", "cos(2*theta)"]
    names = ["*".join(f for f in pair if f != "1") or "1" for pair in itertools.product(powers, harmonics)]
    assert set(terms) == set(names)  # λ = 0 keeps every term
    library = np.column_stack([evaluate(name, X) for name in names])
    expected, *_ = scipy.linalg.lstsq(library, y)
    got = np.array([terms[name] for name in names])
    np.testing.assert_allclose(library @ got, library @ expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8 * np.abs(expected).max())
    # Standard errors from a QR factorisation L = QR: Cov = s² R⁻¹R⁻ᵀ, so se_i = s ‖row i of R⁻¹‖.
    s = np.sqrt(np.sum((library @ expected - y) ** 2) / (len(y) - len(names)))
    R_inv = scipy.linalg.solve_triangular(np.linalg.qr(library, mode="r"), np.eye(len(names)))
    stderr = model.summary()["stderr"]
    np.testing.assert_allclose([stderr[name] for name in names], s * np.linalg.norm(R_inv, axis=1), rtol=1e-5)


#: The default basis library, built here from its factors (not from the model's code).
BASIS_POWERS = ["1", "v", "v**2", "v**3"]
BASIS_HARMONICS = ["1", "sin(theta)", "cos(theta)", "sin(2*theta)", "cos(2*theta)"]


def basis_term(power, harmonic):
    return "*".join(f for f in (power, harmonic) if f != "1") or "1"


BASIS_LIBRARY = [basis_term(p, h) for p, h in itertools.product(BASIS_POWERS, BASIS_HARMONICS)]


@pytest.mark.parametrize("jitter", [False, True], ids=["identical", "last-bit-jitter"])
def test_basis_fits_identical_shots_with_a_constant_and_reports_the_aliased_terms(jitter, tmp_path):
    # The issue: 50 identical shots (20 m/s, 45°, 30 m) came out as 2.45e16*cos(2*theta), 4.9e16 m
    # elsewhere: cos(2θ) at 45° is 6e-17, and scaled to unit RMS it is the constant 1.
    rng = np.random.default_rng(8)
    theta = np.full(50, np.radians(45.0))
    if jitter:  # the same shots, their angles a few units apart in the last place, their distances noisy
        theta += rng.integers(-2, 3, 50) * np.spacing(theta)
    X = np.column_stack([np.full(50, 20.0), theta])
    y = 30.0 + (rng.normal(0, 0.1, 50) if jitter else np.zeros(50))
    model = BasisRegression().fit(X, y)
    summary = model.summary()
    assert list(summary["terms"]) == ["1"]
    # Least squares with a constant alone: the mean (30 for the identical shots), at every launch.
    Q = np.column_stack([[20.0, 10.0, 40.0, 1.0], np.radians([45.0, 10.0, 80.0, 30.0])])
    np.testing.assert_allclose(model.predict(Q), np.mean(y), rtol=1e-12)
    np.testing.assert_allclose(evaluate(summary["formula"], Q), np.mean(y), rtol=5.01e-6)
    if not jitter:
        np.testing.assert_allclose(model.predict(X[:1]), 30.0, rtol=1e-14)
    # Every other term is a multiple of 1 on these shots; cos(2θ) is 0 at 45°, a multiple of nothing.
    aliased = summary["diagnostics"]["aliased"]
    assert aliased == {name: [] if name.endswith("cos(2*theta)") else ["1"] for name in BASIS_LIBRARY[1:]}
    # Standard error s/√n of a mean, s² = Σr²/(n − 1); a one-parameter Hessian with no null direction.
    np.testing.assert_allclose(summary["stderr"]["1"], np.std(y, ddof=1) / np.sqrt(50), rtol=1e-6, atol=1e-12)
    assert summary["diagnostics"]["hessian"]["n_params"] == 1 and summary["diagnostics"]["hessian"]["near_zero"] == 0
    # A fitted fact: saved (as JSON) and loaded with the model.
    model.save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "model.json").read_text())["fitted"]["aliased"] == aliased
    loaded = load(tmp_path / "m")
    assert loaded.summary() == summary
    np.testing.assert_array_equal(loaded.predict(Q), model.predict(Q))


@pytest.mark.parametrize("degrees", [30.0, 45.0])
def test_basis_fits_shots_at_one_angle_with_a_polynomial_in_the_speed(degrees):
    rng = np.random.default_rng(9)
    v, theta = rng.uniform(5, 25, 60), np.radians(degrees)
    X = np.column_stack([v, np.full(60, theta)])
    y = v**2 * np.sin(2 * theta) / G + rng.normal(0, 0.05, 60)
    # On one angle every harmonic is a constant: the library spans 1, v, v², v³ and nothing else.
    expected = {basis_term(p, h): [] if degrees == 45.0 and h == "cos(2*theta)" else [p]
                for p, h in itertools.product(BASIS_POWERS, BASIS_HARMONICS) if h != "1"}
    # λ = 0: least squares on the library, that is on 1, v, v², v³: NumPy's polyfit of degree 3.
    model = BasisRegression(threshold=0.0).fit(X, y)
    summary = model.summary()
    assert list(summary["terms"]) == BASIS_POWERS
    assert summary["diagnostics"]["aliased"] == expected
    Q = np.column_stack([np.linspace(0, 40, 9), np.full(9, theta)])  # in and beyond the shots' speeds
    reference, covariance = np.polyfit(v, y, 3, cov="unscaled")
    np.testing.assert_allclose(model.predict(Q), np.polyval(reference, Q[:, 0]), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose([summary["terms"][t] for t in BASIS_POWERS], reference[::-1], rtol=1e-7)
    # Standard errors: s² (VᵀV)⁻¹, s² = Σr²/(n − 4), from polyfit's unscaled covariance.
    s2 = np.sum((np.polyval(reference, v) - y) ** 2) / (60 - 4)
    np.testing.assert_allclose([summary["stderr"][t] for t in BASIS_POWERS],
                               np.sqrt(s2 * np.diag(covariance))[::-1], rtol=1e-6)
    assert summary["diagnostics"]["hessian"]["near_zero"] == 0
    # Cross-validated: the range formula at that angle, c v² with c = sin 2θ / g.
    summary = BasisRegression().fit(X, y).summary()
    assert list(summary["terms"]) == ["v**2"] and summary["diagnostics"]["aliased"] == expected
    assert abs(summary["terms"]["v**2"] - np.sin(2 * theta) / G) < 5 * summary["stderr"]["v**2"] < 1e-3


def test_basis_cross_validates_with_some_terms_aliased():
    # Complementary angles carry as far: at 30° and 60°, sin 2θ is the same, a multiple of 1, while
    # sin θ tells the two apart and cos θ, cos 2θ are combinations of 1 and sin θ.
    rng = np.random.default_rng(6)
    v, theta = rng.uniform(5, 25, 80), np.radians(rng.choice([30.0, 60.0], 80))
    X = np.column_stack([v, theta])
    y = v**2 * np.sin(2 * theta) / G + rng.normal(0, 0.05, 80)
    model = BasisRegression().fit(X, y)
    summary = model.summary()
    aliased = summary["diagnostics"]["aliased"]
    assert aliased == {basis_term(p, h): [p] if h == "sin(2*theta)" else [p, basis_term(p, "sin(theta)")]
                       for p, h in itertools.product(BASIS_POWERS, ["cos(theta)", "sin(2*theta)", "cos(2*theta)"])}
    assert list(summary["terms"]) == ["v**2"]
    assert abs(summary["terms"]["v**2"] - np.sin(np.radians(60)) / G) < 5 * summary["stderr"]["v**2"]
    assert model.cv_ is not None and np.all(np.isfinite(model.cv_["cv_mse"]))


def test_basis_aliases_nothing_on_shots_that_vary_speed_and_angle(basis_model, cannon):
    X, _ = cannon
    assert basis_model.summary()["diagnostics"]["aliased"] == {}
    # The reference: the library's numerical rank, from its singular values (NumPy's default tolerance).
    library = np.column_stack([evaluate(name, X) for name in BASIS_LIBRARY])
    assert np.linalg.matrix_rank(library / np.sqrt(np.mean(library**2, axis=0))) == len(BASIS_LIBRARY)


def test_basis_keeps_the_earlier_of_two_terms_the_shots_cannot_tell_apart():
    from hybridlab.sparse import independent_terms

    rng = np.random.default_rng(10)
    x, z = rng.uniform(1, 2, (2, 30))
    # x again, one part in 2⁵² larger (largest-norm pivoting would take it first), 1 + x, z, zeros.
    A = np.column_stack([np.ones(30), x, x * (1 + 2.0**-52), 1 + x, z, np.zeros(30)])
    np.testing.assert_array_equal(independent_terms(A, np.abs(A)), [True, True, False, False, True, False])
    # A column tiny next to its size (cos 2θ at 45°: 6e-17 of 1) counts as zero, however it is scaled.
    np.testing.assert_array_equal(independent_terms(A[:, [0, 4]] * [1, 1e16], np.abs(A[:, [0, 4]]) * [1, 1e25]),
                                  [True, False])


def test_basis_loads_a_model_saved_before_aliased_terms_were_recorded(basis_model, tmp_path):
    basis_model.save(tmp_path)
    record = json.loads((tmp_path / "model.json").read_text())
    del record["fitted"]["aliased"]
    (tmp_path / "model.json").write_text(json.dumps(record))
    assert load(tmp_path).summary() == basis_model.summary()
    record["fitted"]["aliased"] = ["cos(2*theta)"]  # damaged: not {term: [terms]}
    (tmp_path / "model.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="aliased"):
        load(tmp_path)


# 4. Physics fit ----------------------------------------------------------------------------------
def test_physics_fit_recovers_the_drag_coefficient(physics_model, shot_put):
    X, y, _, _ = shot_put
    estimate = physics_model.summary()["physics"]["k"]
    k, stderr = estimate["value"], estimate["stderr"]
    np.testing.assert_allclose(k, 1.8, rtol=1e-2)
    assert abs(k - 1.8) < 4 * stderr < 0.01
    # The standard error from an independent Jacobian: central differences of the range in k.
    step = 1e-5 * k
    J = (np.asarray(Projectile(LinearDrag(k + step), mass=7.26).range(X[:, 0], X[:, 1]))
         - np.asarray(Projectile(LinearDrag(k - step), mass=7.26).range(X[:, 0], X[:, 1]))) / (2 * step)
    fitted = np.asarray(Projectile(LinearDrag(k), mass=7.26).range(X[:, 0], X[:, 1]))
    s = np.sqrt(np.sum((fitted - y) ** 2) / (len(y) - 1))
    np.testing.assert_allclose(stderr, s / np.sqrt(J @ J), rtol=1e-3)  # a factor-2 claim, held to 0.1 %
    # Its predictions are the fitted projectile's range.
    np.testing.assert_allclose(physics_model.predict(X), fitted, rtol=1e-12)


def test_physics_fit_recovers_gravity():
    d = simulate_shots(Projectile(), 200, (5.0, 50.0), SHOT_PUT_ANGLE, 0.01, jax.random.key(6))
    model = PhysicsFit({"drag": "none", "g": 5.0}, unknown=("g",)).fit(columns(d), d["distance"])
    estimate = model.summary()["physics"]["g"]
    np.testing.assert_allclose(estimate["value"], G, rtol=5e-3)
    assert abs(estimate["value"] - G) < 4 * estimate["stderr"] < 0.05


@pytest.mark.slow  # ~45 s; LM through the ODE is also tested by TrajectoryFit (test_dynamics)
def test_physics_fit_through_the_ode_solve():
    """Quadratic drag (a Diffrax solve): the fit's Jacobian is built from per-shot gradients,
    checked here against central differences of the range in c."""
    truth = Projectile(QuadraticDrag(9e-4), mass=0.145)
    d = simulate_shots(truth, 40, (10.0, 45.0), (np.deg2rad(5), np.deg2rad(60)), 0.01, jax.random.key(8))
    X, y = columns(d), d["distance"]
    model = PhysicsFit({"drag": {"law": "quadratic", "c": 5e-4}, "mass": 0.145}, unknown=("c",)).fit(X, y)
    estimate = model.summary()["physics"]["c"]
    np.testing.assert_allclose(estimate["value"], 9e-4, rtol=1e-2)
    assert abs(estimate["value"] - 9e-4) < 4 * estimate["stderr"] < 1e-5
    c, step = estimate["value"], 1e-9
    def ranges(c):  # as the fit computes them: forward mode through the solve
        return Projectile(QuadraticDrag(c), mass=0.145).range(X[:, 0], X[:, 1], mode="forward")

    J = np.asarray(jax.jacfwd(ranges)(c))
    up, down = (np.asarray(Projectile(QuadraticDrag(c + s), mass=0.145).range(X[:, 0], X[:, 1])) for s in (step, -step))
    np.testing.assert_allclose(J, (up - down) / (2 * step), rtol=1e-5)
    # The standard error from that finite-difference Jacobian: s / ‖J‖ with s² = Σr² / (n − 1).
    residual = np.asarray(Projectile(QuadraticDrag(c), mass=0.145).range(X[:, 0], X[:, 1])) - y
    fd = (up - down) / (2 * step)
    np.testing.assert_allclose(estimate["stderr"], np.sqrt(np.sum(residual**2) / 39) / np.linalg.norm(fd), rtol=1e-4)
    # The Hessian of the fit's loss L(u) = mean(((D(c₀ eᵘ) − y)/σ_y)²), u = log(c/c₀), against a
    # second central difference of that loss computed here with Projectile.range.
    def loss(u):
        D = np.asarray(Projectile(QuadraticDrag(5e-4 * np.exp(u)), mass=0.145).range(X[:, 0], X[:, 1]))
        return np.mean(((D - y) / np.std(y)) ** 2)

    u, h = np.log(c / 5e-4), 1e-4
    second = (loss(u + h) - 2 * loss(u) + loss(u - h)) / h**2
    np.testing.assert_allclose(model.summary()["diagnostics"]["hessian"]["eigenvalues"], [second], rtol=1e-4)


@pytest.mark.parametrize("physics,unknown,name", [
    ({"drag": {"law": "linear", "k": 1.0}}, ("c",), "'c'"),
    ({"drag": "none"}, ("k",), "'k'"),
    ({"drag": "quadratic"}, ("c", "k"), "'k'"),
])
def test_physics_fit_rejects_parameters_that_do_not_apply(physics, unknown, name):
    with pytest.raises(ValueError, match=name):
        PhysicsFit(physics, unknown=unknown)


def test_physics_fit_rejects_a_zero_starting_height():
    with pytest.raises(ValueError, match="height"):
        PhysicsFit({"drag": "none"}, unknown=("height",))


# 5. MLP ------------------------------------------------------------------------------------------
def dense_count(widths, n_in=2):
    """Weights and biases of n_in → widths → 1, counted by hand."""
    sizes = [n_in, *widths, 1]
    return sum(a * b + b for a, b in itertools.pairwise(sizes))


# The sources' numbers, quoted. Blog post (000): "Linear(2,256) → Sigmoid → Linear(256,256) →
# Sigmoid → Linear(256,1)", "torch.optim.Adam(model.parameters(), lr=0.01)", "num_epochs = 1000".
# Shot-put lecture (002): 2-250-500-500-250-1, tanh, Glorot-uniform weights, plain gradient descent
# with η = 1e-4 for 50 000 epochs on targets in metres.
BLOG = {"widths": [256, 256], "lr": 0.01, "epochs": 1000}
LECTURE = {"widths": [250, 500, 500, 250], "lr": 1e-4, "epochs": 50_000}


def _one_step(recipe, X, y, z_target):
    """The network after one epoch of ``recipe`` (widths 8 so the test is cheap), and the same
    step by hand: the recipe's optimiser on mean((N(z) − target)²) from the same start."""
    model = MLP(**{**recipe.get_params(), "widths": (8,), "epochs": 1}).fit(X, y)
    z = (X - X.mean(axis=0)) / X.std(axis=0)
    start = model.new_network(2, jax.random.fold_in(jax.random.key(recipe.seed), 0))
    grad = jax.grad(lambda n: jnp.mean((n(jnp.asarray(z)) - z_target) ** 2))(start)
    return model.network_, start, grad


def test_mlp_blog_recipe_does_what_the_blog_does(smooth):
    recipe = MLP.blog()
    assert recipe.widths == tuple(BLOG["widths"]) and recipe.epochs == BLOG["epochs"]
    X, y, _, _ = smooth
    trained, start, grad = _one_step(recipe, X[:30], y[:30], jnp.asarray((y[:30] - y[:30].mean()) / y[:30].std()))
    # Sigmoid hidden units: N(z) = W₂ σ(W₁ z + b₁) + b₂ with σ the logistic function.
    z = np.array([[0.3, -0.7]])
    hidden = 1 / (1 + np.exp(-(z @ np.asarray(start.layers[0].weight).T + np.asarray(start.layers[0].bias))))
    by_hand = hidden @ np.asarray(start.layers[1].weight).T + np.asarray(start.layers[1].bias)
    np.testing.assert_allclose(np.asarray(start(jnp.asarray(z))), by_hand[:, 0], rtol=1e-12)
    # Adam's first step moves every weight by lr·sign(g) (m̂/√v̂ = g/|g|).
    expected = jax.tree.map(lambda p, g: p - BLOG["lr"] * jnp.sign(g), start, grad)
    for got, want in zip(jax.tree.leaves(trained), jax.tree.leaves(expected)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-9)


def test_mlp_lecture_recipe_does_what_the_lecture_does(smooth):
    recipe = MLP.lecture()
    assert recipe.widths == tuple(LECTURE["widths"]) and recipe.epochs == LECTURE["epochs"]
    X, y, _, _ = smooth
    y = 100 * y[:30]  # in metres: the lecture's targets are not standardised
    trained, start, grad = _one_step(recipe, X[:30], y, jnp.asarray(y, jnp.float32))
    # Glorot-uniform weights (|w| ≤ √(6/(fan_in + fan_out))) and zero biases.
    for layer in start.layers:
        fan_out, fan_in = layer.weight.shape
        assert np.abs(np.asarray(layer.weight)).max() <= np.sqrt(6 / (fan_in + fan_out))
        assert not np.any(np.asarray(layer.bias))
    # Plain gradient descent: θ₁ = θ₀ − η ∇L, with L in m².
    expected = jax.tree.map(lambda p, g: p - LECTURE["lr"] * g, start, grad)
    for got, want in zip(jax.tree.leaves(trained), jax.tree.leaves(expected)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def blog_fits(smooth):
    """The blog's network for 20 epochs on 20 points, with seeds 0, 0 and 1 (its dense Hessian
    is skipped, so a fit costs little more than its compilation)."""
    X, y, _, _ = smooth
    return [MLP.blog(seed=seed, epochs=20).fit(X[:20], y[:20]) for seed in (0, 0, 1)]


def test_mlp_blog_network_size(blog_fits):
    model = blog_fits[0]
    assert model.n_params() == 66_817 == dense_count((256, 256))
    assert [leaf.shape for leaf in jax.tree.leaves(model.network_)] == [(256, 2), (256,), (256, 256), (256,),
                                                                       (1, 256), (1,)]
    assert "skipped" in model.summary()["diagnostics"]["hessian"]  # above the dense-Hessian limit


def test_mlp_lecture_network_size():
    # The shapes only (eqx.filter_eval_shape): initialising 502 251 weights eagerly compiles
    # a random draw per layer shape, seconds that say nothing more.
    config = MLP.lecture().get_params()
    network = eqx.filter_eval_shape(Network, 2, config["widths"], config["activation"], config["init"],
                                    jax.random.key(0), jnp.float32)
    leaves = jax.tree.leaves(network)
    assert [leaf.shape for leaf in leaves] == [(250, 2), (250,), (500, 250), (500,), (500, 500), (500,),
                                               (250, 500), (250,), (1, 250), (1,)]
    assert sum(np.prod(leaf.shape) for leaf in leaves) == 502_251 == dense_count((250, 500, 500, 250))
    assert config["dtype"] == "float32" and all(leaf.dtype == jnp.float32 for leaf in leaves)


def test_mlp_default_fits_a_smooth_function(mlp_model, smooth):
    _, _, X_test, y_test = smooth
    rmse = np.sqrt(np.mean((mlp_model.predict(X_test) - y_test) ** 2))
    assert rmse < 0.02  # y spans about [−1, 2]; held-out points inside the training box
    assert mlp_model.n_params() == dense_count((32, 32))


def test_mlp_same_seed_same_predictions(blog_fits, smooth):
    _, _, X_test, _ = smooth
    first, again, other = (model.predict(X_test) for model in blog_fits)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)  # the seed does matter, so equality above means something


def test_cuberoot_lm_fit_and_its_flat_directions(cuberoot_model, cuberoot_data):
    x, y = cuberoot_data
    mse = np.mean((cuberoot_model.predict(x) - y) ** 2) / np.var(y)
    assert mse < 1e-3
    diagnostics = cuberoot_model.summary()["diagnostics"]
    np.testing.assert_allclose(diagnostics["train_loss"], mse, rtol=1e-8)
    assert diagnostics["hessian"]["n_params"] == dense_count((3,), n_in=1) == 10
    assert diagnostics["hessian"]["near_zero"] >= 4
    restarts = diagnostics["restarts"]
    assert len(restarts["losses"]) == 3
    assert max(restarts["losses"]) < 1.5 * min(restarts["losses"])
    assert restarts["parameter_spread"] > 0.1  # equally good fits, far apart: not identifiable


def test_cuberoot_hessian_matches_finite_differences(cuberoot_model, cuberoot_data, tmp_path):
    x, y = cuberoot_data
    z, target = (x - x.mean()) / x.std(), (y - y.mean()) / y.std()
    cuberoot_model.save(tmp_path)
    layers = [(layer.weight, layer.bias) for layer in load(tmp_path).network_.layers]
    flat, unravel = ravel_pytree(layers)

    def loss(flat):  # the standardised training loss, through a forward pass written here
        (W1, b1), (W2, b2) = unravel(flat)
        return jnp.mean(((jnp.tanh(z @ W1.T + b1) @ W2.T + b2)[:, 0] - target) ** 2)

    gradient = jax.jit(jax.grad(loss))
    steps = 1e-5 * np.maximum(1.0, np.abs(np.asarray(flat)))
    H = np.column_stack([(np.asarray(gradient(flat.at[j].add(h))) - np.asarray(gradient(flat.at[j].add(-h)))) / (2 * h)
                         for j, h in enumerate(steps)])
    expected = np.sort(np.linalg.eigvalsh(0.5 * (H + H.T)))[::-1]
    report = cuberoot_model.summary()["diagnostics"]["hessian"]
    np.testing.assert_allclose(report["eigenvalues"], expected, rtol=0, atol=1e-6 * expected[0])
    assert np.sum(np.abs(expected) <= 1e-6 * expected[0]) >= 4


# 6. Hybrid ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("prior", [None, {"drag": {"law": "none"}, "mass": 1.0, "g": 9.81, "height": 0.0},
                                   {"drag": {"law": "linear", "k": 3.0}, "mass": 2.0, "g": 9.81, "height": 0.0},
                                   {"drag": {"law": "none"}, "mass": 1.0, "g": 9.81, "height": 2.0}])
def test_hybrid_is_exactly_zero_at_zero_speed(hybrid_model, prior, tmp_path):
    """ŷ = D_prior·(1 + N): zero wherever the prior's range is, whatever the network learned."""
    model = hybrid_model
    if prior is not None:  # the trained network under another prior, through the saved files
        hybrid_model.save(tmp_path)
        record = json.loads((tmp_path / "model.json").read_text())
        record["params"]["prior"] = prior
        (tmp_path / "model.json").write_text(json.dumps(record))
        model = load(tmp_path)
        assert model.summary()["params"]["prior"] == prior
    # Speed 0 at every angle; flat shots from the ground, which land at once.
    at_rest = np.column_stack([np.zeros(N_SHOTS), np.linspace(0, np.pi / 2, N_SHOTS)])
    flat = np.column_stack([np.linspace(1, 85, N_SHOTS), np.zeros(N_SHOTS)])
    assert np.all(model.predict(at_rest) == 0)
    from_ground = prior is None or not prior.get("height")
    assert np.all(model.predict(flat) == 0) == from_ground
    # ... and not zero elsewhere, so the zeros above are the prior's and not a dead model's.
    assert np.all(model.predict(np.column_stack([np.full(N_SHOTS, 20.0), at_rest[:, 1]]))[1:-1] > 0)


def test_hybrid_with_a_zero_network_is_its_prior(hybrid_model, shot_put):
    _, _, X, _ = shot_put
    network = hybrid_model.network_
    zeroed = eqx.tree_at(lambda n: (n.layers[-1].weight, n.layers[-1].bias), network,
                         (jnp.zeros_like(network.layers[-1].weight), jnp.zeros_like(network.layers[-1].bias)))
    prior_only = copy.copy(hybrid_model)
    prior_only.network_ = zeroed
    prior = np.asarray(Projectile(LinearDrag(0.45), mass=7.26).range(X[:, 0], X[:, 1]))
    np.testing.assert_allclose(prior_only.predict(X), prior, rtol=1e-14)
    assert not np.allclose(hybrid_model.predict(X), prior, rtol=1e-3)  # the trained one is not


def test_hybrid_beats_its_wrong_prior(hybrid_model, shot_put):
    _, _, X, y = shot_put
    prior = np.asarray(Projectile(LinearDrag(0.45), mass=7.26).range(X[:, 0], X[:, 1]))
    rmse_prior = np.sqrt(np.mean((prior - y) ** 2))
    rmse_hybrid = np.sqrt(np.mean((hybrid_model.predict(X) - y) ** 2))
    assert rmse_hybrid < 0.02 * rmse_prior  # about 80 m for the prior, under 1 m for the hybrid


# 7. Persistence ----------------------------------------------------------------------------------
#: Fitted fixtures and the rung each one is.
FITTED = {"nearest_model": "nearest", "linear_model": "linear", "basis_model": "basis", "physics_model": "physics",
          "mlp_model": "mlp", "cuberoot_model": "mlp", "hybrid_model": "hybrid"}


@pytest.fixture(params=FITTED)
def fitted(request, shot_put):
    model = request.getfixturevalue(request.param)
    assert model.name == FITTED[request.param]
    X = np.linspace(0.0, 1.0, 13)[:, None] if request.param == "cuberoot_model" else shot_put[2]
    return model, X


def test_save_load_round_trip(fitted, tmp_path):
    model, X = fitted
    model.save(tmp_path / "saved")
    assert sorted(os.listdir(tmp_path / "saved")) == ["arrays.eqx", "model.json"]
    loaded = load(tmp_path / "saved")
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.summary() == model.summary()
    assert loaded.n_params() == model.n_params()


def test_every_rung_is_covered_by_the_round_trip():
    # The UDE's round trip is in test_ude_range.py, beside its (costly) fit.
    assert set(FITTED.values()) | {"ude"} == set(REGISTRY) == {"nearest", "linear", "mlp", "basis", "physics", "hybrid",
                                                              "ude"}


def test_each_rung_is_found_by_name_in_its_own_module():
    # fit --model NAME imports only that rung's module (the others' imports cost 1.5 s).
    from hybridlab.models import RUNGS, rung

    assert set(RUNGS) == set(REGISTRY)
    for name, module in RUNGS.items():
        assert rung(name) is REGISTRY[name] and rung(name).__module__ == f"hybridlab.models.{module}"
    with pytest.raises(ValueError, match="model = 'ridge': choose from nearest, linear, mlp, basis, physics"):
        rung("ridge")


@pytest.fixture
def saved_linear(linear_model, tmp_path):
    linear_model.save(tmp_path)
    return tmp_path


def test_load_rejects_an_unknown_model(saved_linear):
    record = json.loads((saved_linear / "model.json").read_text())
    record["model"] = "oracle"
    (saved_linear / "model.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="unknown model 'oracle'"):
        load(saved_linear)


@pytest.mark.parametrize("text", ['{"format": 1, "model": "linear", ', "", "[1, 2]", '{"format": 99}'])
def test_load_rejects_a_corrupted_model_json(saved_linear, text):
    (saved_linear / "model.json").write_text(text)
    with pytest.raises(ValueError, match="model.json"):
        load(saved_linear)


@pytest.mark.parametrize("damage", [
    pytest.param(lambda r: r.pop("params"), id="no-params"),
    pytest.param(lambda r: r.update(params={"bogus": 1}), id="unknown-option"),
    pytest.param(lambda r: r.update(model=["linear"]), id="model-not-a-string"),
    pytest.param(lambda r: r.update(n_features="abc"), id="n-features-not-a-number"),
    pytest.param(lambda r: r.update(n_features=None), id="n-features-null"),
    # 8 GB of coefficients described, 32 bytes stored: refused before anything is allocated.
    pytest.param(lambda r: r.update(n_features=10**9), id="n-features-huge"),
])
def test_load_rejects_a_damaged_record(saved_linear, damage):
    record = json.loads((saved_linear / "model.json").read_text())
    damage(record)
    (saved_linear / "model.json").write_text(json.dumps(record))
    with pytest.raises(ValueError):
        load(saved_linear)


def test_load_rejects_arrays_of_the_wrong_shape(saved_linear):
    eqx.tree_serialise_leaves(saved_linear / "arrays.eqx", {"coefficients": jnp.zeros(5)})
    with pytest.raises(ValueError):
        load(saved_linear)


class _Payload:
    """Unpickling this calls os.mkdir(marker): proof that something was executed."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def test_load_never_unpickles(saved_linear, tmp_path_factory):
    marker = tmp_path_factory.mktemp("evidence") / "executed"
    with open(saved_linear / "arrays.eqx", "wb") as file:
        np.save(file, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="arrays.eqx"):
        load(saved_linear)
    assert not marker.exists()
    # The control: the same file, read by a loader that does unpickle, runs the payload.
    with open(saved_linear / "arrays.eqx", "rb") as file:
        np.load(file, allow_pickle=True)
    assert marker.exists()


# 8. Validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_fit_rejects_non_finite_inputs_naming_the_entry(name):
    X = np.column_stack([np.linspace(1, 10, 8), np.full(8, 0.5)])
    X[5, 1] = np.nan
    with pytest.raises(ValueError, match=r"X\[5, 1\] = nan"):
        REGISTRY[name]().fit(X, np.ones(8))
    X[5, 1] = 0.5
    with pytest.raises(ValueError, match=r"y must have shape \(8,\)"):
        REGISTRY[name]().fit(X, np.ones(7))
    with pytest.raises(ValueError, match=r"y\[2\] = inf"):
        REGISTRY[name]().fit(X, np.where(np.arange(8) == 2, np.inf, 1.0))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_predict_before_fit(name, tmp_path):
    model = REGISTRY[name]()
    for call in (lambda: model.predict(np.ones((2, 2))), model.summary, lambda: model.save(tmp_path)):
        with pytest.raises(ValueError, match="not fitted"):
            call()


def test_predict_rejects_the_wrong_number_of_columns(fitted):
    model, X = fitted
    wrong = np.column_stack([X, X[:, :1]])
    with pytest.raises(ValueError, match=rf"X has {X.shape[1] + 1} columns, the model was fitted on {X.shape[1]}"):
        model.predict(wrong)


# 9. Standard errors, degenerate data, failed fits -------------------------------------------------
def test_standard_errors_of_a_straight_line_and_of_an_undetermined_parameter():
    from hybridlab.uncertainty.diagnostics import standard_errors

    rng = np.random.default_rng(4)
    x = rng.uniform(0, 10, 30)
    residual = rng.normal(0, 0.3, 30)
    # Straight line a + b x: the textbook closed forms se(b) = s/√Sxx, se(a) = s √(1/n + x̄²/Sxx).
    s = np.sqrt(np.sum(residual**2) / 28)
    sxx = np.sum((x - x.mean()) ** 2)
    got = standard_errors(np.column_stack([np.ones(30), x]), residual)
    np.testing.assert_allclose(got, [s * np.sqrt(1 / 30 + x.mean() ** 2 / sxx), s / np.sqrt(sxx)], rtol=1e-10)
    # A column that repeats another: the two cannot be told apart, the third still can.
    J = np.column_stack([x, x, np.ones(30)])
    got = standard_errors(J, residual)
    assert np.isinf(got[0]) and np.isinf(got[1]) and np.isfinite(got[2])
    # A Jacobian with a NaN (a solve that failed at the optimum): one line, not LAPACK's.
    J[3, 2] = np.nan
    with pytest.raises(ValueError, match="^the fit's Jacobian or residuals are not finite"):
        standard_errors(J, residual)


def test_physics_fit_reports_an_undetermined_parameter_as_infinite(tmp_path):
    # Without drag the range does not depend on the mass: its standard error is infinite, not 0.
    X = np.column_stack([np.linspace(2, 10, 40), np.linspace(0.2, 1.3, 40)])
    y = np.asarray(Projectile().range(X[:, 0], X[:, 1])) + np.random.default_rng(1).normal(0, 0.01, 40)
    model = PhysicsFit({"drag": "none", "g": 5.0, "mass": 2.0}, unknown=["g", "mass"]).fit(X, y)
    estimates = model.physics_estimates()
    assert abs(estimates["g"]["value"] - G) < 4 * estimates["g"]["stderr"] < 0.05
    assert estimates["mass"]["stderr"] == np.inf
    model.save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "model.json").read_text())["fitted"]["stderr"][1] is None  # JSON: null
    assert load(tmp_path / "m").physics_estimates() == estimates


@pytest.mark.parametrize("name", ["linear", "basis"])
def test_a_constant_target_is_fitted_exactly(name):
    X = np.column_stack([np.linspace(1, 10, 20), np.linspace(0.1, 1.4, 20)])
    model = REGISTRY[name]().fit(X, np.zeros(20))
    assert np.all(model.predict(X) == 0)
    assert np.isfinite(model.summary()["diagnostics"]["train_rmse"])


def test_basis_cross_validation_needs_a_shot_per_fold():
    with pytest.raises(ValueError, match="folds = 5: cross-validation needs at least 5 shots, got 3"):
        BasisRegression().fit(np.array([[1.0, 0.2], [2.0, 0.4], [3.0, 0.6]]), np.ones(3))


def test_basis_hessian_does_not_depend_on_the_units_of_speed(cannon):
    X, y = cannon
    reports = [BasisRegression(threshold=0.0).fit(X * [factor, 1.0], y).summary()["diagnostics"]["hessian"]
               for factor in (1.0, 100.0)]  # m/s and cm/s
    assert reports[0]["near_zero"] == reports[1]["near_zero"]
    np.testing.assert_allclose(reports[0]["largest"], reports[1]["largest"], rtol=1e-6)


def test_a_failed_fit_leaves_the_model_unfitted(cannon):
    X, y = cannon
    model = LinearRegression(variables=("v",))
    with pytest.raises(ValueError, match="X has 2 columns"):
        model.fit(X, y)
    with pytest.raises(ValueError, match="not fitted yet"):
        model.predict(X)


@pytest.mark.parametrize("arguments,message", [
    ({"correction": "divisive"}, "correction = 'divisive'"),
    ({"network": "big"}, "network = 'big'"),
    ({"prior": {"drag": "cubic"}}, "drag = 'cubic'"),
])
def test_hybrid_rejects_bad_arguments_at_construction(arguments, message):
    with pytest.raises(ValueError, match=message):
        Hybrid(**arguments)


@pytest.mark.parametrize("cls,arguments,message", [
    (MLP, {"activation": "bogus"}, "activation = 'bogus'"),
    (MLP, {"widths": (-3,)}, "widths = "),
    (MLP, {"widths": 5}, "widths = 5"),
    (MLP, {"init": "ones"}, "init = 'ones'"),
    (MLP, {"learning_rate": float("nan")}, "learning_rate = nan"),
    (MLP, {"patience": 0}, "patience = 0"),
    (NearestNeighbour, {"k": 1.5}, "k = 1.5"),
    (BasisRegression, {"angles": ("phi",)}, "angles = "),
    (BasisRegression, {"degree": -1}, "degree = -1"),
    (LinearRegression, {"variables": "v"}, "variables = 'v'"),
    (PhysicsFit, {"steps": 0}, "steps = 0"),
    (PhysicsFit, {"unknown": "k"}, "unknown = 'k'"),
])
def test_constructors_validate_their_arguments(cls, arguments, message):
    with pytest.raises(ValueError, match=message):
        cls(**arguments)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_get_params_rebuilds_the_same_model(name):
    model = REGISTRY[name]()
    params = model.get_params()
    assert json.loads(json.dumps(params)) == params  # plain JSON
    assert REGISTRY[name](**params).get_params() == params


def test_physics_fit_restarts_agree_when_identifiable_and_not_otherwise():
    X = np.column_stack([np.linspace(2, 10, 40), np.linspace(0.2, 1.3, 40)])
    y = np.asarray(Projectile().range(X[:, 0], X[:, 1])) + np.random.default_rng(2).normal(0, 0.01, 40)
    g_only = PhysicsFit({"drag": "none", "g": 5.0}, unknown=["g"], restarts=4, seed=1).fit(X, y)
    report = g_only.summary()["diagnostics"]["restarts"]
    assert len(report["losses"]) == 4 and report["parameter_spread"] < 1e-8
    # The closed-form least-squares g for y = (v² sin 2θ)/g: 1/g = Σ f y / Σ f², f = v² sin 2θ.
    f = X[:, 0] ** 2 * np.sin(2 * X[:, 1])
    assert g_only.physics_estimates()["g"]["value"] == pytest.approx(np.sum(f * f) / np.sum(f * y), rel=1e-9)
    # The mass does not enter a no-drag range: every start keeps its own mass at the same loss.
    with_mass = PhysicsFit({"drag": "none", "g": 5.0, "mass": 2.0}, unknown=["g", "mass"], restarts=4, seed=1)
    report = with_mass.fit(X, y).summary()["diagnostics"]["restarts"]
    assert np.ptp(report["losses"]) <= 1e-9 * np.min(report["losses"]) and report["parameter_spread"] > 0.01


@pytest.mark.slow  # 20 s of training; the fast suite fits both hybrid forms elsewhere
def test_additive_hybrid_learns_an_offset_the_multiplicative_one_cannot():
    """Measurements offset by a constant 5 m (a misplaced tape), the true law as the prior: the
    additive correction recovers the offset everywhere, even at zero speed, where the
    multiplicative one must stay at the prior's 0."""
    truth = Projectile(LinearDrag(1.8), mass=7.26)
    rng = np.random.default_rng(4)
    X = np.column_stack([rng.uniform(5, 85, 200), rng.uniform(0.1, 1.4, 200)])
    y = np.asarray(truth.range(X[:, 0], X[:, 1])) + 5.0
    network = MLP(widths=(8,), epochs=1500, polish=100)
    additive = Hybrid(truth, correction="additive", network=network).fit(X, y)
    multiplicative = Hybrid(truth, network=network).fit(X, y)
    assert np.sqrt(np.mean((additive.predict(X) - y) ** 2)) < 0.1
    at_rest = np.array([[0.0, 0.7]])
    assert additive.predict(at_rest)[0] == pytest.approx(5.0, abs=1.0)
    assert multiplicative.predict(at_rest)[0] == 0.0
    assert additive.summary()["formula"].startswith("D_prior + s·N(v, θ)")


def _squared_error(w, data):
    x, y, scale = data
    return jnp.mean((scale * (x @ w) - y) ** 2)


def test_mini_batch_epochs_reach_the_least_squares_solution_and_a_big_batch_is_full_batch():
    import optax

    from hybridlab.networks import training

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.01 * rng.normal(size=1000)
    data = (jnp.asarray(x), jnp.asarray(y), jnp.asarray(2.0))  # a 0-d array: a constant every batch gets whole
    assert training.batches_per_epoch(1000, 64) == 15 and training.batches_per_epoch(1000, 1000) == 1
    # 15 mini-batch steps per epoch of Adam, decayed over all of them: the lstsq solution (SciPy)
    # of 2·x·w ≈ y.
    adam = optax.adam(optax.cosine_decay_schedule(0.05, 300 * 15, alpha=1e-3))
    w, epochs = training.first_order(jnp.zeros(3), _squared_error, data, None, adam, 300, None, batch=64, seed=1)
    reference = scipy.linalg.lstsq(2 * x, y)[0]
    assert epochs == 300 and np.max(np.abs(np.asarray(w) - reference)) < 2e-3
    # A batch at least as large as the data is the full-batch loop, step for step.
    sgd = optax.sgd(0.1)
    full, _ = training.first_order(jnp.zeros(3), _squared_error, data, None, sgd, 20, None)
    same, _ = training.first_order(jnp.zeros(3), _squared_error, data, None, sgd, 20, None, batch=1000)
    np.testing.assert_array_equal(np.asarray(same), np.asarray(full))
