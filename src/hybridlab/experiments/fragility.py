"""Fragility: how much a model's prediction can change when the launch moves a little, against
how much the true physics changes over the same box — a conditioning number per model.

For a launch x₀ = (v, θ) and the box B = {|δv| ≤ 0.5 m/s, |δθ| ≤ 0.5°} (cut to launches that
exist: v ≥ 0, θ ≤ 90°, θ ≥ 0 from the ground), the worst-case change

    Δ_f(x₀) = max_{δ ∈ B} |f(x₀ + δ) − f(x₀)|

is found by dense sampling of B (a 9 × 9 grid, its corners included) and, for a model that is a
JAX function of its input, refined by projected gradient ascent (sign steps, shrinking) from the
best sample. The amplification at x₀ is Δ_model(x₀) / Δ_truth(x₀) (1: as sensitive as the
physics; ≫ 1: a small error in the launch moves the model's answer far more than it moves the
ball; ≪ 1: the model does not respond to the launch as the ball does).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.physics import Projectile

#: The box's half-widths: 0.5 m/s and 0.5° (in rad).
BOX = np.array([0.5, np.deg2rad(0.5)])
_GRID = 9
_STEPS = 30


def worst_change(predict, X: np.ndarray, box: np.ndarray = BOX, function=None, bounds=None) -> np.ndarray:
    """Δ(x₀) (n,) for each row of X (n, 2): ``predict`` maps (m, 2) launches to (m,)
    predictions; ``function``, if given, is the same map as a JAX function (for the ascent);
    ``bounds`` = (low, high) (2,): the launches that exist (the box is cut to them)."""
    X = np.asarray(X, dtype=np.float64)
    low, high = bounds if bounds is not None else (np.full(2, -np.inf), np.full(2, np.inf))
    lower, upper = np.maximum(-box, low - X), np.minimum(box, high - X)
    steps = np.linspace(-1.0, 1.0, _GRID)
    grid = np.stack(np.meshgrid(steps, steps, indexing="ij"), axis=-1).reshape(-1, 2) * box
    offsets = np.clip(grid[None], lower[:, None], upper[:, None])  # (n, 81, 2)
    centre = np.asarray(predict(X))
    moved = np.asarray(predict((X[:, None, :] + offsets).reshape(-1, 2))).reshape(len(X), -1)
    change = np.abs(moved - centre[:, None])
    best = offsets[np.arange(len(X)), np.argmax(change, axis=1)]
    worst = change.max(axis=1)
    if function is not None:
        ascended = _ascend(function, *(jnp.asarray(a) for a in (X, centre, best, box, lower, upper)))
        worst = np.maximum(worst, np.asarray(ascended))
    return worst


@eqx.filter_jit
def _ascend(function, X, centre, delta, box, lower, upper):
    """Projected gradient ascent of |f(x₀ + δ) − f(x₀)| over the box (cut to [lower, upper]
    per row), every row at once (the rows are independent, so the gradient of the sum is each
    row's own)."""
    def objective(d):
        return jnp.abs(function(X + d) - centre)

    def step(d, size):
        gradient = jax.grad(lambda d: jnp.sum(objective(d)))(d)
        # Along the gradient's sign (scale-free in v and θ), by steps shrinking from a quarter
        # of the box (0.7× each: a fixed step would stay on the sampling grid's lattice).
        return jnp.clip(d + size * box * jnp.sign(gradient), lower, upper), None

    final, _ = jax.lax.scan(step, delta, 0.25 * 0.7 ** jnp.arange(_STEPS))
    return jnp.maximum(objective(final), objective(delta))


def launch_bounds(projectile: Projectile) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of (speed m/s, angle rad): speed ≥ 0; angle in [0, π/2] from the ground,
    above −π/2 from a height."""
    lowest = 0.0 if float(projectile.height) == 0 else -np.pi / 2 + 1e-9
    return np.array([0.0, lowest]), np.array([np.inf, np.pi / 2])


class _Range(eqx.Module):
    """The true map (m, 2) launches ↦ (m,) ranges of a projectile, as a PyTree (compiled once)."""

    projectile: Projectile

    def __call__(self, Z):
        return self.projectile.range(Z[:, 0], Z[:, 1])


def true_change(truth: Projectile, X: np.ndarray, ascend: bool = True) -> np.ndarray:
    """Δ_truth (n,): the physics' worst-case change at each launch of X (``ascend``: refined by
    the gradient ascent; else the grid's best)."""
    function = _Range(truth)
    return worst_change(lambda Z: np.asarray(function(Z)), X, function=function if ascend else None,
                        bounds=launch_bounds(truth))


def amplification(model, truth: Projectile, X: np.ndarray, true: np.ndarray | None = None,
                  ascend: bool = True) -> np.ndarray:
    """Δ_model / Δ_truth (n,) at each launch of X: ``model`` a fitted rung, ``truth`` the
    scenario's Projectile (its range is the true map); ``true``: Δ_truth, if already known;
    ``ascend``: refine a JAX-differentiable model's worst case by the gradient ascent."""
    true = true_change(truth, X, ascend) if true is None else true
    function = model.as_function() if model.differentiable and ascend else None
    return worst_change(model.predict, X, function=function, bounds=launch_bounds(truth)) / true
