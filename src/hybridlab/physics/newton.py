"""Newton's law with any drag, as a vector field, and its one solve for learned and fitted
fields: the equations of motion that the dynamics (tracks) and the UDE rung (ranges) train
through, at a training tolerance (the exact answers are :mod:`hybridlab.physics.numerical`'s).

The state is s = (position, velocity) ∈ R^{2·dim}: (x, y, v_x, v_y) for a 2-D shot, (h, v)
for a vertical drop; the last position axis points up. With a drag acceleration a(v) (m/s²)
and gravity g (m/s²),

    ds/dt = (v, a(v) − g ŷ),

solved by Tsit5 with an adaptive step from a starting state, to given times (:func:`solve`,
:func:`solve_tracks`) or to the landing (:func:`land`).
"""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx

from hybridlab.physics.projectile import Projectile

#: Steps allowed per track: a track of a few seconds needs tens to a few hundred at the
#: tolerances used here. Reverse mode checkpoints the solve in proportion to this bound, so a
#: loose one costs time in every gradient.
MAX_STEPS = 512


class LawDrag(eqx.Module):
    """The drag acceleration F(v)/m (m/s²) of a Projectile's drag law, at velocity v (dim,).

    Called on a velocity v (dim,) in m/s — (v_x, v_y), or the vertical v of a drop (v_x = 0) —
    it returns the acceleration (dim,) in m/s².

    Attributes
    ----------
    projectile : Projectile
        Its drag law (force in N) and mass (kg).
    """

    projectile: Projectile

    def __call__(self, v):
        p = self.projectile
        if v.shape[0] == 2:
            fx, fy = p.drag.force(v[0], v[1])
            return jnp.stack([fx, fy]) / p.mass
        _, fy = p.drag.force(jnp.zeros_like(v[0]), v[0])  # vertical motion: v_x = 0
        return jnp.stack([fy]) / p.mass


class Newton(eqx.Module):
    """The vector field ds/dt = (v, a(v) − g ŷ) for a drag acceleration ``drag`` (a callable
    module of the velocity) and gravity ``g`` (m/s²).

    Called on a state s (2·dim,) — positions (m) then velocities (m/s) — it returns ds/dt
    (2·dim,): velocities (m/s) then accelerations (m/s²).

    Attributes
    ----------
    drag : equinox.Module
        The drag acceleration a(v): a velocity (dim,) in m/s ↦ (dim,) in m/s².
    g : jax.Array
        Gravitational acceleration in m/s², along −ŷ (the last axis).
    """

    drag: eqx.Module
    g: jax.Array

    def __call__(self, s):
        dim = s.shape[0] // 2
        v = s[dim:]
        return jnp.concatenate([v, self.drag(v).at[-1].add(-self.g)])


def _term(t, s, field):
    return field(s)


def solve(field, s0, ts, rtol: float, adjoint=None):
    """States (P, 2·dim) at times ``ts`` (P,) (s) of ds/dt = field(s) from s(ts[0]) = s0, by
    Tsit5 with an adaptive step (relative and absolute tolerance ``rtol``, in m and m/s).
    ``adjoint``: Diffrax's way of differentiating the solve (default reverse mode;
    ``diffrax.ForwardMode()`` for the forward-mode Jacobians of Levenberg–Marquardt).

    Parameters
    ----------
    field : callable
        The vector field, a state (2·dim,) ↦ ds/dt (2·dim,) (an Equinox module such as :class:`Newton`).
    s0 : jax.Array
        The state at ``ts[0]``, shape (2·dim,): positions (m), then velocities (m/s).
    ts : jax.Array
        Times in s, shape (P,), increasing.
    rtol : float
        Relative and absolute tolerance of the step control (m and m/s).
    adjoint : diffrax.AbstractAdjoint, optional
        How the solve is differentiated; None: ``diffrax.RecursiveCheckpointAdjoint()``.

    Returns
    -------
    states : jax.Array
        Shape (P, 2·dim): positions (m) then velocities (m/s) at ``ts``. Not checked: a solve that runs out of
        its :data:`MAX_STEPS` steps gives non-finite states, not an error.
    """
    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(_term), diffrax.Tsit5(), ts[0], ts[-1], None, s0, args=field,
        saveat=diffrax.SaveAt(ts=ts), stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol),
        adjoint=adjoint or diffrax.RecursiveCheckpointAdjoint(), max_steps=MAX_STEPS, throw=False)
    return solution.ys


def solve_tracks(field, s0, ts, rtol: float, adjoint=None):
    """:func:`solve` for m tracks at once: s0 (m, 2·dim), ts (m, P) → states (m, P, 2·dim).

    Parameters
    ----------
    field : callable
        The vector field, shared by the tracks (see :func:`solve`).
    s0 : jax.Array
        Starting states, shape (m, 2·dim): positions (m), then velocities (m/s).
    ts : jax.Array
        Each track's times in s, shape (m, P), increasing along each row.
    rtol : float
        Relative and absolute tolerance of the step control (m and m/s).
    adjoint : diffrax.AbstractAdjoint, optional
        How the solve is differentiated; None: reverse mode.

    Returns
    -------
    states : jax.Array
        Shape (m, P, 2·dim): positions (m) then velocities (m/s).
    """
    return jax.vmap(solve, in_axes=(None, 0, 0, None, None))(field, s0, ts, rtol, adjoint)


def _ground(t, y, args, **kwargs):
    """The height, the last position axis of the state y (Diffrax names the arguments)."""
    del t, args, kwargs
    return y[y.shape[0] // 2 - 1]


#: Landing: the height crossing 0 downwards, located by Newton's method on the dense solution.
_LANDING = diffrax.Event(_ground, root_finder=optx.Newton(rtol=1e-10, atol=1e-10), direction=False)


def land(field, s0, t_max, rtol: float, max_steps: int, adjoint=None):
    """The state where ds/dt = field(s) from s(0) = s0 first crosses height 0 downwards, and
    whether it did (before ``t_max`` s and within ``max_steps`` steps): Tsit5 at relative and
    absolute tolerance ``rtol``, the crossing found by Newton's method on the dense solution
    (to 1e-10). Not checked: a flight that has not landed gives the state at its last step,
    with False.

    Parameters
    ----------
    field : callable
        The vector field, a state (2·dim,) ↦ ds/dt (2·dim,) (an Equinox module such as :class:`Newton`).
    s0 : jax.Array
        The state at t = 0, shape (2·dim,): positions (m), then velocities (m/s).
    t_max : float
        The latest landing time looked for, in s.
    rtol : float
        Relative and absolute tolerance of the step control (m and m/s).
    max_steps : int
        Solver steps allowed.
    adjoint : diffrax.AbstractAdjoint, optional
        How the solve is differentiated; None: reverse mode.

    Returns
    -------
    state : jax.Array
        Shape (2·dim,): positions (m) then velocities (m/s) at the landing (or the last step).
    landed : jax.Array
        A boolean scalar.
    """
    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(_term), diffrax.Tsit5(), 0.0, t_max, None, s0, args=field, saveat=diffrax.SaveAt(t1=True),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol), event=_LANDING, max_steps=max_steps,
        throw=False, adjoint=adjoint or diffrax.RecursiveCheckpointAdjoint())
    return solution.ys[-1], solution.event_mask & (solution.result == diffrax.RESULTS.event_occurred)
