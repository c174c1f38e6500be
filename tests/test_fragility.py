"""Fragility: the worst-case change over the launch box against closed forms, and the
amplification of a model that is the physics (1) and of one that is not."""

import jax.numpy as jnp
import numpy as np

from hybridlab.experiments.fragility import BOX, amplification, worst_change
from hybridlab.models import NearestNeighbour, PhysicsFit
from hybridlab.physics import LinearDrag, Projectile

X = np.array([[10.0, 0.3], [20.0, 0.8], [35.0, 1.1]])


def test_worst_change_of_a_linear_map_is_at_a_corner():
    """f = a v + b θ: max over the box is |a| 0.5 + |b| (0.5° in rad)."""
    a, b = 2.0, -30.0

    def f(Z):
        return a * Z[:, 0] + b * Z[:, 1]

    expected = abs(a) * BOX[0] + abs(b) * BOX[1]
    np.testing.assert_allclose(worst_change(lambda Z: np.asarray(f(Z)), X, function=f), expected, rtol=1e-12)


def test_ascent_finds_an_interior_worst_case_that_the_grid_misses():
    """f = sin(ω v): with ω = 7π/(4·0.5), |f(v₀ + δ) − f(v₀)| peaks between grid points; the
    ascent reaches the true maximum, found here on a fine grid."""
    omega = 7 * np.pi / 2

    def f(Z):
        return jnp.sin(omega * Z[:, 0])

    fine = np.linspace(-BOX[0], BOX[0], 200001)
    expected = [np.max(np.abs(np.sin(omega * (v + fine)) - np.sin(omega * v))) for v in X[:, 0]]
    np.testing.assert_allclose(worst_change(lambda Z: np.asarray(f(Z)), X, function=f), expected, rtol=1e-6)


def test_the_ascent_by_central_differences_finds_the_same_interior_worst_case():
    """The same f = sin(ω v), known to the ascent only through its NumPy values (as an ODE
    model's prediction is): the sign steps by central differences reach the fine grid's maximum."""
    omega = 7 * np.pi / 2

    def f(Z):
        return np.sin(omega * Z[:, 0])

    fine = np.linspace(-BOX[0], BOX[0], 200001)
    expected = [np.max(np.abs(np.sin(omega * (v + fine)) - np.sin(omega * v))) for v in X[:, 0]]
    grid_only = worst_change(f, X)
    assert np.all(grid_only < np.asarray(expected) * (1 - 1e-3))  # the grid alone misses it
    np.testing.assert_allclose(worst_change(f, X, differences=True), expected, rtol=1e-6)


def test_the_physics_itself_amplifies_by_one_and_a_neighbour_does_not():
    truth = Projectile(LinearDrag(k=0.45), mass=7.26)
    rng = np.random.default_rng(0)
    train = np.column_stack([rng.uniform(5, 40, 200), rng.uniform(0.1, 1.4, 200)])
    y = np.asarray(truth.range(train[:, 0], train[:, 1]))
    fit = PhysicsFit(physics={"drag": {"law": "linear"}, "mass": 7.26}, unknown=("k",)).fit(train, y)
    np.testing.assert_allclose(amplification(fit, truth, X), 1.0, rtol=1e-6)
    # A nearest neighbour jumps between recorded shots: a small move can change its answer by
    # the gap between two neighbours, or not at all.
    ratios = amplification(NearestNeighbour().fit(train, y), truth, X)
    assert np.all(np.isfinite(ratios)) and not np.allclose(ratios, 1.0, rtol=0.05)


def test_the_box_is_cut_to_launches_that_exist():
    """At θ₀ = 89.8° the box may not pass 90°: for f = a v + b θ the worst case is at a corner
    of the cut box [−0.5, 0.5] × [−0.5°, 0.2°]."""
    a, b = 1.0, 40.0
    X0 = np.array([[10.0, np.deg2rad(89.8)]])

    def f(Z):
        return a * Z[:, 0] + b * Z[:, 1]

    bounds = (np.array([0.0, 0.0]), np.array([np.inf, np.pi / 2]))
    corners = [abs(a * dv + b * dt) for dv in (-0.5, 0.5) for dt in (-BOX[1], np.pi / 2 - X0[0, 1])]
    np.testing.assert_allclose(worst_change(lambda Z: np.asarray(f(Z)), X0, function=f, bounds=bounds),
                               max(corners), rtol=1e-12)
