"""Tracks for the solve of Newton's law (:mod:`hybridlab.physics.newton`): each track's start, and
its times and positions padded to one compiled shape.

Every track is solved from its own first observation time t₀ with its own starting state
s(t₀), which is fitted with the rest (a free initial state: measured positions are noisy, and
velocities are not measured at all).
"""

from __future__ import annotations

import jax
import numpy as np

from hybridlab.data import Tracks


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
