"""Newton's law with a drag to be found: the state, its vector field, the solve, the start.

The state of a track is s = (position, velocity) ∈ R^{2·dim}: (x, y, v_x, v_y) for a 2-D shot,
(h, v) for a vertical drop; the last position axis points up. With a drag acceleration a(v)
(m/s²) and gravity g (m/s²),

    ds/dt = (v, a(v) − g ŷ).

Every track is solved from its own first observation time t₀ with its own starting state
s(t₀), which is fitted with the rest (a free initial state: measured positions are noisy, and
velocities are not measured at all).
"""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.data import Tracks
from hybridlab.physics import Projectile

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


def starting_states(tracks: Tracks, points: int = 10) -> np.ndarray:
    """(m, 2·dim): each track's position and velocity at its first time, from a least-squares
    quadratic in time through its first ``points`` points (a line through 2, the point itself
    for 1) — the starting guess of the fitted initial state.

    Parameters
    ----------
    tracks : Tracks
        The m tracks: positions (m) at times (s).
    points : int
        How many of each track's first points the quadratic is fitted through.

    Returns
    -------
    states : numpy.ndarray
        Shape (m, 2·dim): positions (m), then velocities (m/s), at each track's first time.
    """
    t, position, mask = tracks.padded()
    t, position, mask = t[:, :points] - t[:, :1], position[:, :points], mask[:, :points]
    degree = np.minimum(mask.sum(axis=1) - 1, 2)
    out = np.zeros((len(tracks), 2 * tracks.dim))
    out[:, :tracks.dim] = position[:, 0]
    for d in (1, 2):  # all tracks of a degree at once: masked rows weigh nothing
        rows = np.flatnonzero(degree == d)
        scale = np.max(t[rows], axis=1, keepdims=True)  # times in units of each fit's span: a conditioned design
        design = (t[rows, :, None] / scale[..., None]) ** np.arange(d + 1) * mask[rows, :, None]
        coefficients = np.linalg.pinv(design) @ (position[rows] * mask[rows, :, None])  # (r, d + 1, dim)
        out[rows] = np.concatenate([coefficients[:, 0], coefficients[:, 1] / scale], axis=1)
    return out


def width(points: int) -> int:
    """The padded width of tracks of at most ``points`` points: the next power of two (at least
    8), so that data sets of similar sizes (folds of a cross-validation, the balls of the drops)
    share one compiled solve instead of compiling one each.

    Parameters
    ----------
    points : int
        The most points of a track, ≥ 1.

    Returns
    -------
    width : int
        The least power of two ≥ ``points``, at least 8.
    """
    return max(8, 1 << (int(points) - 1).bit_length())


def padded(tracks: Tracks):
    """(ts (m, P), positions (m, P, dim), mask (m, P)) as JAX arrays, P = :func:`width` of the
    longest track: see :meth:`Tracks.padded`.

    Parameters
    ----------
    tracks : Tracks
        The m tracks: positions (m) at times (s).

    Returns
    -------
    ts : jax.Array
        Shape (m, P), in s (a short track repeats its last time).
    positions : jax.Array
        Shape (m, P, dim), in m.
    mask : jax.Array
        Shape (m, P): True at a track's own points.
    """
    t, position, mask = tracks.padded(width(np.bincount(tracks.track).max()))
    return jax.device_put((t, position, mask))  # (jnp.asarray would compile a program for each)
