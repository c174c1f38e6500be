"""Physics-informed networks (PINNs) that solve the projectile's equation of motion.

The path is a network of time with its conditions built in (:mod:`hybridlab.solvers.path`:
the problem's own units, hard initial or boundary conditions), trained to make Newton's law's
residual vanish: the loss is its mean square over [0, T], (1/S) ∫ |r̂'' − a T²/L|² dτ, by
Gauss–Legendre quadrature — one term, nothing to balance for the forward problem. Adam, then
L-BFGS (SciPy's, on a compiled gradient).
"""

from __future__ import annotations

import jax
import numpy as np

from hybridlab.physics import Projectile
from hybridlab.solvers.path import Problem, Solution, mean_square, problem, residual, train


def residual_loss(net, prob: Problem):
    """The mean square of Newton's law's residual over the path.

    Parameters
    ----------
    net : Network
        The network N of the path (τ ↦ R²).
    prob : Problem
        The shot's equation and conditions, in solver units.

    Returns
    -------
    loss : jax.Array
        (1/S) ∫ |r̂'' − a T²/L|² dτ, a scalar (dimensionless when scaled; m²/s⁴ in SI units).
    """
    return mean_square(jax.vmap(lambda tau: residual(net, prob, tau))(prob.nodes), prob)


def shot(projectile: Projectile, speed: float, angle: float, horizon: float | None = None, *, widths=(32, 32),
         points: int = 128, epochs: int = 2000, polish: int = 2000, learning_rate: float = 1e-2,
         scaled: bool = True, seed: int = 0) -> Solution:
    """The initial-value shot: launched from (0, h) at ``speed`` (m/s) and ``angle`` (rad), on
    [0, ``horizon``] s (default: its flight time).

    Parameters
    ----------
    projectile : Projectile
        The projectile, launched from (0, h), h its height in m.
    speed : float
        Launch speed in m/s.
    angle : float
        Launch angle in rad above the horizontal.
    horizon : float, optional
        The end T of the path in s, finite and > 0; None: the shot's flight time.
    widths : sequence of int
        Hidden layer widths of the network N (tanh).
    points : int
        Gauss–Legendre nodes of the quadrature, an integer ≥ 2.
    epochs : int
        Adam epochs (cosine-decayed), an integer in [0, 100000].
    polish : int
        The most L-BFGS steps after Adam (fewer where the loss is flat to rounding), an integer in [0, 100000];
        ``epochs`` + ``polish`` > 0.
    learning_rate : float
        Adam's initial step size.
    scaled : bool
        Whether to work in the problem's units (τ = t/T, r̂ = r/(g T²)); False: SI units (the ablation).
    seed : int
        Seed of the network's initialisation.

    Returns
    -------
    solution : Solution
        The trained network, its problem, the loss history and the training time (s).

    Raises
    ------
    ValueError
        If ``horizon`` is None and the launch is invalid or lands at once (flight time 0), g T² is not a normal
        float64, ``points``, ``epochs`` or ``polish`` is out of range, or the training diverges.
    """
    given = None  # the horizon the caller gave names itself
    if horizon is None:
        horizon = float(projectile.flight_time(speed, angle))
        given = f"speed = {speed!r} (its flight time sets T)"
        if horizon == 0:
            raise ValueError(f"speed = {speed!r}: a launch at this speed and angle lands at once (flight time 0 s), "
                             "so there is no path to solve; give a horizon `time`")
    velocity = (speed * np.cos(angle), speed * np.sin(angle))
    prob = problem(projectile, "initial", (0.0, float(projectile.height)), velocity, float(horizon), points, scaled,
                   given)
    return train("pinn", residual_loss, prob, widths, epochs, polish, learning_rate, seed)


def boundary_shot(projectile: Projectile, to, horizon: float, *, widths=(32, 32), points: int = 128,
                  epochs: int = 2000, polish: int = 2000, learning_rate: float = 1e-2, scaled: bool = True,
                  seed: int = 0) -> Solution:
    """The boundary-value shot: from (0, h) to ``to`` = (X, Y) m in ``horizon`` s.

    Parameters
    ----------
    projectile : Projectile
        The projectile, launched from (0, h), h its height in m.
    to : array_like
        The target (X, Y) in m: X ≥ 0 downrange, Y ≥ 0 above the ground, both finite.
    horizon : float
        The time T in s to reach it, finite and > 0.
    widths : sequence of int
        Hidden layer widths of the network N (tanh).
    points : int
        Gauss–Legendre nodes of the quadrature, an integer ≥ 2.
    epochs : int
        Adam epochs (cosine-decayed), an integer in [0, 100000].
    polish : int
        The most L-BFGS steps after Adam (fewer where the loss is flat to rounding), an integer in [0, 100000];
        ``epochs`` + ``polish`` > 0.
    learning_rate : float
        Adam's initial step size.
    scaled : bool
        Whether to work in the problem's units (τ = t/T, r̂ = r/(g T²)); False: SI units (the ablation).
    seed : int
        Seed of the network's initialisation.

    Returns
    -------
    solution : Solution
        The trained network, its problem, the loss history and the training time (s).

    Raises
    ------
    ValueError
        If the target is not two finite numbers with X, Y ≥ 0, g T² is not a normal float64, ``points``, ``epochs``
        or ``polish`` is out of range, or the training diverges.
    """
    prob = problem(projectile, "boundary", (0.0, float(projectile.height)), to, float(horizon), points, scaled)
    return train("pinn", residual_loss, prob, widths, epochs, polish, learning_rate, seed)
