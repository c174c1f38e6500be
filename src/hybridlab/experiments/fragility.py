"""Fragility: how much a model's prediction can change when the launch moves a little, against
how much the true physics changes over the same box — a conditioning number per model.

For a launch x₀ = (v, θ) and the box B = {|δv| ≤ 0.5 m/s, |δθ| ≤ 0.5°} (cut to launches that
exist: v ≥ 0, θ ≤ 90°, θ ≥ 0 from the ground), the worst-case change

    Δ_f(x₀) = max_{δ ∈ B} |f(x₀ + δ) − f(x₀)|

is found by dense sampling of B (a 9 × 9 grid, its corners included) and, for a model that is a
JAX function of its input, refined by projected gradient ascent (sign steps, shrinking) from the
best sample. For the physics and a model whose prediction is an ODE solve compiled per shape
(``predicts_in_blocks``), the gradient's sign comes from central differences of the
prediction (h = 1e-3 of the box): compiling the reverse-mode solve instead cost some 11 s a
model in the baseball's run. The amplification at x₀ is Δ_model(x₀) / Δ_truth(x₀) (1: as
sensitive as the physics; ≫ 1: a small error in the launch moves the model's answer far more
than it moves the ball; ≪ 1: the model does not respond to the launch as the ball does).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.data import from_degrees
from hybridlab.physics import Projectile
from hybridlab.physics.batching import in_blocks

#: The box's half-widths: 0.5 m/s and 0.5° (in rad).
BOX = np.array([0.5, from_degrees(0.5)])
_GRID = 9
_STEPS = 30
#: The central differences' step, as a fraction of the box.
_DIFFERENCE = 1e-3


def worst_change(predict, X: np.ndarray, box: np.ndarray = BOX, function=None, bounds=None,
                 differences: bool = False) -> np.ndarray:
    """Δ(x₀) (n,) for each row of X (n, 2): ``predict`` maps (m, 2) launches to (m,)
    predictions; ``function``, if given, is the same map as a JAX function (for the ascent);
    ``differences``: without ``function``, ascend with central differences of ``predict``;
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
    elif differences:
        worst = np.maximum(worst, _ascend_by_differences(predict, X, centre, best, box, lower, upper))
    return worst


def _ascend_by_differences(predict, X, centre, delta, box, lower, upper):
    """:func:`_ascend`'s steps with the sign of each row's gradient from central differences
    of ``predict`` (probes cut to the box, all rows and both inputs in one call)."""
    def objective(d):  # d: one or more (n, 2) stacks of offsets, one above the other
        copies = len(d) // len(X)
        return np.abs(predict(np.tile(X, (copies, 1)) + d) - np.tile(centre, copies))

    n, axes = len(X), np.eye(2) * _DIFFERENCE * box
    start = delta
    for size in 0.25 * 0.7 ** np.arange(_STEPS):
        probes = [np.clip(delta + sign * axis, lower, upper) for axis in axes for sign in (1, -1)]
        values = objective(np.concatenate(probes)).reshape(4, n)
        slope = np.stack([values[0] - values[1], values[2] - values[3]], axis=1)
        delta = np.clip(delta + size * box * np.sign(slope), lower, upper)
    return np.maximum(objective(delta), objective(start))


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


def true_range(truth: Projectile, X) -> np.ndarray:
    """The ranges (m) of launches X (n, 2) flown by ``truth``, in blocks of one size (the
    last padded): one compiled solve per drag law serves every array of a run."""
    return in_blocks(lambda block: truth.range(block[:, 0], block[:, 1]), np.asarray(X, dtype=np.float64))


def true_change(truth: Projectile, X: np.ndarray, ascend: bool = True) -> np.ndarray:
    """Δ_truth (n,): the physics' worst-case change at each launch of X (``ascend``: refined by
    the gradient ascent; else the grid's best)."""
    return worst_change(lambda Z: true_range(truth, Z), X, bounds=launch_bounds(truth), differences=ascend)


def amplification(model, truth: Projectile, X: np.ndarray, true: np.ndarray | None = None,
                  ascend: bool = True) -> np.ndarray:
    """Δ_model / Δ_truth (n,) at each launch of X: ``model`` a fitted rung, ``truth`` the
    scenario's Projectile (its range is the true map); ``true``: Δ_truth, if already known;
    ``ascend``: refine a JAX-differentiable model's worst case by the gradient ascent.

    Parameters
    ----------
    model : Regressor
        A fitted rung of the ladder: a range (m) from a launch (speed m/s, angle rad).
    truth : Projectile
        The scenario's physics; its launch height sets the launches that exist (angle ≥ 0 from the ground).
    X : numpy.ndarray
        Launches x₀, shape (n, 2): speed in m/s, angle in rad.
    true : numpy.ndarray, optional
        Δ_truth in m, shape (n,), if already known (:func:`true_change`); None: computed.
    ascend : bool
        Whether to refine the grid's worst cases by the gradient ascent (by central differences for the
        physics and a model that ``predicts_in_blocks``); else the 9 × 9 grid's best.

    Returns
    -------
    amplification : numpy.ndarray
        Δ_model / Δ_truth, shape (n,), dimensionless (1: as sensitive to the launch as the physics; inf or NaN
        where Δ_truth is 0).

    Raises
    ------
    ValueError
        If the model is not fitted, a launch of the box is refused by the model or the physics, or a range
        cannot be computed.
    """
    true = true_change(truth, X, ascend) if true is None else true
    by_differences = ascend and model.predicts_in_blocks
    function = model.as_function() if model.differentiable and ascend and not by_differences else None
    return worst_change(model.predict, X, function=function, bounds=launch_bounds(truth),
                        differences=by_differences) / true
