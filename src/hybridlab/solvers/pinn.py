"""Physics-informed networks (PINNs) that solve the projectile's equation of motion.

The path is a network of time with its conditions built in (:mod:`hybridlab.solvers.trial`:
the problem's own units, hard initial or boundary conditions), trained to make Newton's law's
residual vanish: the loss is its mean square over [0, T], (1/S) ∫ |r̂'' − a T²/L|² dτ, by
Gauss–Legendre quadrature — one term, nothing to balance for the forward problem. Adam, then
L-BFGS (SciPy's, on a compiled gradient).
"""

from __future__ import annotations

import jax
import numpy as np

from hybridlab.physics import Projectile
from hybridlab.solvers.trial import NetworkSolver, Problem, mean_square, residual


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


class PINN(NetworkSolver):
    """The physics-informed network of one shot: N trained to make Newton's law's residual
    vanish over the path (:func:`residual_loss`), with the shot's conditions built in. Fit the
    initial-value shot (``velocity``) or the boundary-value one (``to``); the hyperparameters are
    :class:`~hybridlab.solvers.trial.NetworkSolver`'s.

    Examples
    --------
    >>> solver = PINN(shot_put, epochs=500, polish=500).fit(2.0, velocity=(7.5, 13.0))  # doctest: +SKIP
    >>> solver.predict([0.0, 1.0, 2.0])  # (3, 2) positions in m  # doctest: +SKIP
    """

    name = "pinn"
    loss = staticmethod(residual_loss)

    def fit(self, horizon: float, velocity=None, to=None) -> PINN:
        """Train on the shot over [0, ``horizon``] s from (0, h): launched at ``velocity`` or
        reaching ``to`` at the horizon (exactly one of the two).

        Parameters
        ----------
        horizon : float
            The end T of the path in s, finite and > 0.
        velocity : array_like, optional
            The launch velocity (v_x, v_y) in m/s: the initial-value shot.
        to : array_like, optional
            The target (X, Y) in m, X ≥ 0 downrange and Y ≥ 0 above the ground: the boundary-value shot.

        Returns
        -------
        self : PINN
            The fitted solver.

        Raises
        ------
        ValueError
            If not exactly one of ``velocity`` and ``to`` is given, it is not two finite numbers (a target also
            X, Y ≥ 0), g T² is not a normal float64, a hyperparameter is out of range, or the training diverges.
        """
        return self._fit_conditions(horizon, velocity, to)

    def _fit_conditions(self, horizon, velocity, to, given: str | None = None) -> PINN:
        if (velocity is None) == (to is None):
            raise ValueError("velocity, to: give exactly one (the launch velocity, or the target at the horizon)")
        if to is not None:
            return self._fit_shot("boundary", to, horizon, given)
        return self._fit_shot("initial", velocity, horizon, given)


def shot(projectile: Projectile, speed: float, angle: float, horizon: float | None = None, **hyperparameters) -> PINN:
    """The PINN of the initial-value shot: launched from (0, h) at ``speed`` (m/s) and
    ``angle`` (rad), on [0, ``horizon``] s (default: its flight time).

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
    **hyperparameters
        :class:`PINN`'s (``widths``, ``points``, ``epochs``, ``polish``, ``learning_rate``, ``scaled``, ``seed``).

    Returns
    -------
    solver : PINN
        Fitted: its network, problem, loss history and training time (s).

    Raises
    ------
    ValueError
        If ``horizon`` is None and the launch is invalid or lands at once (flight time 0), g T² is not a normal
        float64, a hyperparameter is out of range, or the training diverges.
    """
    given = None  # the horizon the caller gave names itself
    if horizon is None:
        horizon = float(projectile.flight_time(speed, angle))
        given = f"speed = {speed!r} (its flight time sets T)"
        if horizon == 0:
            raise ValueError(f"speed = {speed!r}: a launch at this speed and angle lands at once (flight time 0 s), "
                             "so there is no path to solve; give a horizon `time`")
    velocity = (speed * np.cos(angle), speed * np.sin(angle))
    return PINN(projectile, **hyperparameters)._fit_conditions(float(horizon), velocity, None, given)


def boundary_shot(projectile: Projectile, to, horizon: float, **hyperparameters) -> PINN:
    """The PINN of the boundary-value shot: from (0, h) to ``to`` = (X, Y) m in ``horizon`` s.

    Parameters
    ----------
    projectile : Projectile
        The projectile, launched from (0, h), h its height in m.
    to : array_like
        The target (X, Y) in m: X ≥ 0 downrange, Y ≥ 0 above the ground, both finite.
    horizon : float
        The time T in s to reach it, finite and > 0.
    **hyperparameters
        :class:`PINN`'s (``widths``, ``points``, ``epochs``, ``polish``, ``learning_rate``, ``scaled``, ``seed``).

    Returns
    -------
    solver : PINN
        Fitted: its network, problem, loss history and training time (s).

    Raises
    ------
    ValueError
        If the target is not two finite numbers with X, Y ≥ 0, g T² is not a normal float64, a hyperparameter is
        out of range, or the training diverges.
    """
    return PINN(projectile, **hyperparameters).fit(horizon, to=to)
