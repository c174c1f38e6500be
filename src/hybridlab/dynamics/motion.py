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
    """The drag acceleration F(v)/m (m/s²) of a Projectile's drag law, at velocity v (dim,)."""

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
    module of the velocity) and gravity ``g`` (m/s²)."""

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
    ``diffrax.ForwardMode()`` for the forward-mode Jacobians of Levenberg–Marquardt)."""
    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(_term), diffrax.Tsit5(), ts[0], ts[-1], None, s0, args=field,
        saveat=diffrax.SaveAt(ts=ts), stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol),
        adjoint=adjoint or diffrax.RecursiveCheckpointAdjoint(), max_steps=MAX_STEPS, throw=False)
    return solution.ys


def solve_tracks(field, s0, ts, rtol: float, adjoint=None):
    """:func:`solve` for m tracks at once: s0 (m, 2·dim), ts (m, P) → states (m, P, 2·dim)."""
    return jax.vmap(solve, in_axes=(None, 0, 0, None, None))(field, s0, ts, rtol, adjoint)


def starting_states(tracks: Tracks, points: int = 10) -> np.ndarray:
    """(m, 2·dim): each track's position and velocity at its first time, from a least-squares
    quadratic in time through its first ``points`` points (a line through 2, the point itself
    for 1) — the starting guess of the fitted initial state."""
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
    share one compiled solve instead of compiling one each."""
    return max(8, 1 << (int(points) - 1).bit_length())


def padded(tracks: Tracks):
    """(ts (m, P), positions (m, P, dim), mask (m, P)) as JAX arrays, P = :func:`width` of the
    longest track: see :meth:`Tracks.padded`."""
    t, position, mask = tracks.padded(width(np.bincount(tracks.track).max()))
    return jnp.asarray(t), jnp.asarray(position), jnp.asarray(mask)
