"""The baseline everyone writes first: constant acceleration fitted to the observed part."""

from __future__ import annotations

import numpy as np

from hybridlab.data import Tracks

#: Coefficients of x(τ) = a + b·τ + c·τ² per coordinate.
TERMS = 3


def constant_acceleration(observed: Tracks, times) -> tuple[np.ndarray, np.ndarray]:
    """(positions, std), each (m, P, dim): every observed track's least-squares parabola in time
    per coordinate, x(τ) = a + b·τ + c·τ² with τ = t − (its last time), evaluated at ``times``
    (m, P) s, and the predictive standard deviation of a measurement there,
    s·√(1 + φᵀ(ΦᵀΦ)⁻¹φ) with φ = (1, τ, τ²) and s² = RSS/(n − 3) (NaN for a track of 3 points,
    whose parabola fits exactly). ValueError for a track of fewer than 3 points.

    Parameters
    ----------
    observed : Tracks
        The observed parts of m tracks: positions (m) at times (s).
    times : array_like
        Shape (m, P): the times in s at which to evaluate each track's parabola.

    Returns
    -------
    positions : numpy.ndarray
        Shape (m, P, dim), in m.
    std : numpy.ndarray
        Shape (m, P, dim), in m (NaN for a track of exactly 3 points).

    Raises
    ------
    ValueError
        If ``times`` is not of shape (m, P), or a track has fewer than 3 points.
    """
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 2 or times.shape[0] != len(observed):
        raise ValueError(f"times must have shape ({len(observed)}, P), one row per observed track; got {times.shape}")
    positions, stds = [], []
    for i, name in enumerate(observed.names):
        rows = observed.rows(name)
        if len(rows) < TERMS:
            raise ValueError(f"track {name!r} has {len(rows)} points: a parabola needs at least {TERMS}")
        t, x = observed.t[rows], observed.position[rows]
        design = np.vander(t - t[-1], TERMS, increasing=True)
        coefficients, *_ = np.linalg.lstsq(design, x, rcond=None)
        dof = len(rows) - TERMS
        s2 = np.sum((design @ coefficients - x) ** 2, axis=0) / dof if dof > 0 else np.full(x.shape[1], np.nan)
        query = np.vander(times[i] - t[-1], TERMS, increasing=True)
        leverage = np.einsum("pi,ij,pj->p", query, np.linalg.pinv(design.T @ design), query)
        positions.append(query @ coefficients)
        stds.append(np.sqrt(s2[None, :] * (1 + leverage[:, None])))
    return np.stack(positions), np.stack(stds)
