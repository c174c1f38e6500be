"""Physics-informed networks (PINNs) that solve the projectile's equation of motion.

The path is a network of time with its conditions built in (:mod:`hybridlab.solvers.path`:
the problem's own units, hard initial or boundary conditions), trained to make Newton's law's
residual vanish: the loss is its mean square over [0, T], (1/S) ∫ |r̂'' − a T²/L|² dτ, by
Gauss–Legendre quadrature — one term, nothing to balance for the forward problem. Adam, then
L-BFGS (Optax).
"""

from __future__ import annotations

import jax
import numpy as np

from hybridlab.physics import Projectile
from hybridlab.solvers.path import Problem, Solution, mean_square, problem, residual, train


def residual_loss(net, prob: Problem):
    """The mean square of Newton's law's residual over the path."""
    return mean_square(jax.vmap(lambda tau: residual(net, prob, tau))(prob.nodes), prob)


def shot(projectile: Projectile, speed: float, angle: float, horizon: float | None = None, *, widths=(32, 32),
         points: int = 128, epochs: int = 2000, polish: int = 2000, learning_rate: float = 1e-2,
         scaled: bool = True, seed: int = 0) -> Solution:
    """The initial-value shot: launched from (0, h) at ``speed`` (m/s) and ``angle`` (rad), on
    [0, ``horizon``] s (default: its flight time)."""
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
    """The boundary-value shot: from (0, h) to ``to`` = (X, Y) m in ``horizon`` s."""
    prob = problem(projectile, "boundary", (0.0, float(projectile.height)), to, float(horizon), points, scaled)
    return train("pinn", residual_loss, prob, widths, epochs, polish, learning_rate, seed)
