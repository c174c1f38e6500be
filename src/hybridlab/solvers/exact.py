"""The exact answers the network solvers are measured against.

The boundary-value shot (leave (0, h), be at (X, Y) after T) has a closed-form launch under
linear drag in still air (and without drag): with b = k/m, x(T) = v_x T φ₁(bT) and
y(T) = h + v_y T φ₁(bT) − g T² φ₂(bT) (see :mod:`hybridlab.physics.linear`), so
v_x = X / (T φ₁(bT)) and v_y = (Y − h + g T² φ₂(bT)) / (T φ₁(bT)). Under any other law or a
wind it is found by Gauss–Newton (Optimistix) on the exact trajectory, from the vacuum's.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from hybridlab.physics import LinearDrag, NoDrag, Projectile
from hybridlab.physics.linear import phi1, phi2
from hybridlab.solvers.trial import check_target, fall


def _closed_form(p: Projectile, to, horizon: float):
    """(v_x, v_y) m/s of the boundary-value shot under linear or no drag, still air (inf where
    it overflows: the caller refuses it)."""
    b = float(p.drag.k / p.mass) if isinstance(p.drag, LinearDrag) else 0.0
    z = b * horizon
    reach = np.float64(horizon) * float(phi1(z))
    with np.errstate(over="ignore"):
        return np.array([to[0] / reach, (to[1] - float(p.height) + fall(p, horizon) * float(phi2(z))) / reach])


def _miss(velocity, args):
    p, to, horizon = args
    speed, angle = jnp.hypot(velocity[0], velocity[1]), jnp.arctan2(velocity[1], velocity[0])
    x, y = p.trajectory(speed, angle, horizon)
    return jnp.stack([x - to[0], y - to[1]])


def boundary_launch(projectile: Projectile, to, horizon: float) -> tuple[float, float]:
    """(speed m/s, angle rad) that takes ``projectile`` from (0, h) to ``to`` = (X, Y) m in ``horizon``
    s. ValueError for a target below the ground or behind the launch, a horizon whose fall
    g T² overflows, or a launch that does (a horizon too short for the distance).

    Parameters
    ----------
    projectile : Projectile
        The projectile, launched from (0, h), h its height in m.
    to : array_like
        The target (X, Y) in m: X ≥ 0 downrange, Y ≥ 0 above the ground, both finite.
    horizon : float
        The time T in s to reach it, finite and > 0.

    Returns
    -------
    speed : float
        Launch speed in m/s.
    angle : float
        Launch angle in rad above the horizontal (negative for a target below and close by).

    Raises
    ------
    ValueError
        If the target is not as above, T is not finite and > 0 or g T² overflows, the launch overflows, or
        (under another law or a wind) Gauss–Newton does not converge in 64 steps.
    """
    to = check_target(to)
    fall(projectile, horizon)  # the path's scale, before any arithmetic on it
    if type(projectile.drag) in (LinearDrag, NoDrag) and projectile.wind is None:
        v = _closed_form(projectile, to, horizon)
    else:
        vacuum = Projectile(NoDrag(), mass=projectile.mass, g=projectile.g, height=projectile.height)
        v = _gauss_newton(projectile, to, horizon, _closed_form(vacuum, to, horizon))
    if not np.all(np.isfinite(v)):
        raise ValueError(f"time = {horizon!r}: the launch that reaches ({to[0]:g}, {to[1]:g}) m in {horizon:.3g} s "
                         "overflows float64 (the horizon is too short for the distance)")
    # The path's angle may point below the horizontal (a target below and close by).
    return float(np.hypot(*v)), float(np.arctan2(v[1], v[0]))


def _gauss_newton(p: Projectile, to: np.ndarray, horizon: float, guess: np.ndarray) -> np.ndarray:
    """(v_x, v_y) m/s by Gauss–Newton on the 2×2 system from the vacuum's ``guess``, its Jacobian
    in reverse mode (the ODE solve's); inf where the guess already overflows."""
    if not np.all(np.isfinite(guess)):
        return guess
    solver = optx.GaussNewton(rtol=1e-13, atol=1e-12)
    try:
        found = optx.least_squares(_miss, solver, jnp.asarray(guess), (p, jnp.asarray(to), horizon),
                                   options={"jac": "bwd"}, max_steps=64, throw=False)
        converged = found.result == optx.RESULTS.successful
    except eqx.EquinoxRuntimeError:  # an ODE solve on the way failed: a launch far out of reach
        converged = False
    if not converged:
        raise ValueError(f"no launch found that reaches ({to[0]:g}, {to[1]:g}) m in {horizon:.3g} s under "
                         f"{p.label()}: Gauss–Newton from the vacuum's launch did not converge in 64 steps")
    return np.asarray(found.value)


def relative_l2(solution, projectile: Projectile, speed: float, angle: float, horizon: float,
                points: int = 1001) -> float:
    """‖r_net − r_exact‖ / ‖r_exact‖ over ``points`` equally spaced times on [0, horizon] (both
    coordinates), r_exact the physics' trajectory of the launch (speed, angle).

    Parameters
    ----------
    solution : NetworkSolver
        A network solution (anything with ``trajectory(t) -> (x, y)``, times in s, positions in m).
    projectile : Projectile
        The exact physics.
    speed : float
        Launch speed in m/s.
    angle : float
        Launch angle in rad.
    horizon : float
        End of the time span in s, > 0.
    points : int
        Number of equally spaced times on [0, horizon].

    Returns
    -------
    error : float
        The relative L2 error (dimensionless).

    Raises
    ------
    ValueError
        If the launch is out of ``projectile``'s domain, the solve fails or a position is not finite (as
        :meth:`Projectile.trajectory` checks them).
    """
    t = np.linspace(0.0, horizon, points)
    net = np.stack(solution.trajectory(t))
    exact = np.stack([np.asarray(a) for a in projectile.trajectory(speed, angle, jnp.asarray(t))])
    # Both in units of the exact path's largest coordinate: squares of a long path overflow.
    scale = np.max(np.abs(exact))
    return float(np.linalg.norm((net - exact) / scale) / np.linalg.norm(exact / scale))
