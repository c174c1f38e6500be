"""The Deep Ritz method: the boundary-value shot as the minimiser of an action.

Leave (0, h) and be at (X, Y) after T. Under linear drag (b = k/m; b = 0 without drag) the
Caldirola–Kanai action, per unit mass,

    S[r] = ∫₀^T e^{bt} (½ |ṙ|² − g y + b w(t) x) dt,

has m r̈ = −k (ṙ − w x̂) − m g ŷ as its Euler–Lagrange equation (d/dt(e^{bt} ẋ) = b w e^{bt}:
ẍ + b ẋ = b w; d/dt(e^{bt} ẏ) = −g e^{bt}: ÿ + b ẏ = −g), and it is convex in the path, so its
minimiser with both ends fixed is the unique solution. In the solver's units
(:mod:`hybridlab.solvers.trial`; τ = t/T_u, r̂ = r/L):

    Ŝ = ∫ e^{β(τ − S)} (½ |r̂'|² − γ ŷ + β ŵ x̂) dτ,   β = b T_u, γ = g T_u²/L, ŵ = w T_u/L

(the factor e^{−βS} keeps the weight ≤ 1). The path is the straight line plus τ(S − τ)·N(τ),
the integral Gauss–Legendre quadrature; Adam, then L-BFGS. Quadratic drag has no such action
(no Lagrangian gives a dissipation quadratic in the speed along −v̂): use the PINN there.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from hybridlab.physics import LinearDrag, NoDrag, Projectile
from hybridlab.solvers.trial import NetworkSolver, Problem, position, velocity


def _rate(p: Projectile):
    """b = k/m (1/s); 0 without drag."""
    return p.drag.k / p.mass if isinstance(p.drag, LinearDrag) else jnp.asarray(0.0)


def action(net, prob: Problem):
    """Ŝ: the Caldirola–Kanai action of the network's path, in solver units.

    Parameters
    ----------
    net : Network
        The network N of the path (τ ↦ R²).
    prob : Problem
        The boundary-value shot, in solver units (linear drag or none).

    Returns
    -------
    action : jax.Array
        Ŝ, a scalar (dimensionless when scaled; per unit mass, m²/s, in SI units).
    """
    p = prob.projectile
    beta = _rate(p) * prob.time
    gamma = p.g * prob.time**2 / prob.length

    def density(tau):
        r, v = position(net, prob, tau), velocity(net, prob, tau)
        wind = 0.0 if p.wind is None else p.wind(tau * prob.time) * prob.time / prob.length
        return jnp.exp(beta * (tau - prob.span)) * (0.5 * jnp.sum(v**2) - gamma * r[1] + beta * wind * r[0])

    return jnp.sum(prob.weights * jax.vmap(density)(prob.nodes))


def check_action(projectile) -> None:
    """ValueError naming the drag law unless the motion has an action (linear drag or none)."""
    if type(projectile.drag) not in (LinearDrag, NoDrag):
        raise ValueError(f"drag = {getattr(projectile.drag, 'name', type(projectile.drag).__name__)!r}: the Deep "
                         "Ritz method needs an action, which only linear drag (or none) has; use the PINN")


class DeepRitz(NetworkSolver):
    """The Deep Ritz method of one boundary-value shot: N trained to minimise the
    Caldirola–Kanai :func:`action` of the path from (0, h) to the target, the straight line plus
    τ(S − τ)·N(τ). Linear drag or none (any wind): the physics is refused at ``fit`` otherwise.
    The hyperparameters are :class:`~hybridlab.solvers.trial.NetworkSolver`'s.
    """

    name = "deep-ritz"
    loss = staticmethod(action)
    kinds = ("boundary",)

    def _check_together(self) -> None:
        super()._check_together()
        check_action(self.projectile())

    def fit(self, horizon: float, to) -> DeepRitz:
        """Train on the shot from (0, h) to ``to`` in ``horizon`` s.

        Parameters
        ----------
        horizon : float
            The time T in s to reach the target, finite and > 0.
        to : array_like
            The target (X, Y) in m: X ≥ 0 downrange, Y ≥ 0 above the ground, both finite.

        Returns
        -------
        self : DeepRitz
            The fitted solver.

        Raises
        ------
        ValueError
            If the target is not two finite numbers with X, Y ≥ 0, g T² is not a normal float64, a hyperparameter
            is out of range, or the training diverges.
        """
        return self._fit_shot("boundary", to, horizon)


def boundary_shot(projectile: Projectile, to, horizon: float, **hyperparameters) -> DeepRitz:
    """The Deep Ritz solution of the boundary-value shot from (0, h) to ``to`` = (X, Y) m in
    ``horizon`` s, as the action's minimiser. Linear drag or none (any wind); ValueError for
    another law.

    Parameters
    ----------
    projectile : Projectile
        Under linear drag or none, launched from (0, h), h its height in m.
    to : array_like
        The target (X, Y) in m: X ≥ 0 downrange, Y ≥ 0 above the ground, both finite.
    horizon : float
        The time T in s to reach it, finite and > 0.
    **hyperparameters
        :class:`DeepRitz`'s (``widths``, ``points``, ``epochs``, ``polish``, ``learning_rate``, ``scaled``,
        ``seed``).

    Returns
    -------
    solver : DeepRitz
        Fitted: its network, problem, loss history and training time (s).

    Raises
    ------
    ValueError
        If the drag law is neither linear nor none, the target is not two finite numbers with X, Y ≥ 0, g T² is
        not a normal float64, a hyperparameter is out of range, or the training diverges.
    """
    return DeepRitz(projectile, **hyperparameters).fit(horizon, to)
