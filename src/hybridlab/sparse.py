"""Sparse least squares, no physics and no model: which columns of a design the rows can tell
apart (:func:`independent_terms`, :func:`aliases`) and sequentially thresholded least squares
(:func:`stlsq`). The basis-function rung (``models/basis.py``) and the discovery of a drag law
from a learned force (``dynamics/discovery.py``) both fit with them.
"""

from __future__ import annotations

import numpy as np

#: A term is aliased when the part of its column that the simpler terms kept before it do not
#: explain is at most ALIAS_TOLERANCE of the term's size (see :func:`independent_terms`): R's
#: ``lm`` rule and default (LINPACK ``dqrdc2`` as modified for R: a column is negligible once
#: its norm "has fallen below tol times its original norm", ``tol = 1e-7``). Why 1e-7, measured
#: here: an exactly aliased term (identical shots, or one angle in 0..90°, 5 to 20 000 shots)
#: leaves at most 2e-16, nine decades below; the cannon, shot-put and baseball regions (25 to
#: 1000 shots) leave at least 4e-5 on every term, two and a half above. And a kept term whose
#: independent part is τ makes the condition number κ ≥ 1/τ, and least squares with a nonzero
#: residual can lose κ²ε of relative accuracy (Golub & Van Loan, Matrix Computations, §5.3):
#: 2 % at τ = 1e-7, everything below τ = √ε ≈ 1.5e-8.
ALIAS_TOLERANCE = 1e-7


def independent_terms(A, S, tolerance: float = ALIAS_TOLERANCE) -> np.ndarray:
    """Which columns of A (n, p) the rows can tell apart, preferring the earlier (simpler)
    ones: a boolean mask of the columns kept.

    Column a_j is kept unless the part of it that the columns kept before it do not explain,
    ‖(I − P) a_j‖, is at most ``tolerance`` × ‖s_j‖, where S (n, p) holds each entry's size
    (what it is accurate relative to, in A's units; the basis rung's ``_factor`` gives them): a
    column of zeros, or of values that are 0 to working precision, is aliased outright. This is a QR factorisation
    with R's "limited pivoting" (LINPACK ``dqrdc2``, as in ``lm``): columns are taken in column
    order and a negligible one is moved out, never one traded for a later one. LAPACK's
    largest-norm pivoting (``scipy.linalg.qr(pivoting=True)``, ``geqp3``) would not do: among
    identical shots every unit-RMS column has the same norm, and its first pivot, chosen by the
    last bit, is cos(2*theta), not 1; in general it keeps the most independent term, not the
    simplest. The projection is Gram-Schmidt applied twice ("twice is enough": orthogonal to
    rounding).
    """
    n, p = A.shape
    size = np.linalg.norm(S, axis=0)
    basis = np.empty((n, min(n, p)))
    kept = np.zeros(p, dtype=bool)
    rank = 0
    for j in range(p):
        residual = A[:, j].copy()
        for _ in range(2):
            residual -= basis[:, :rank] @ (basis[:, :rank].T @ residual)
        norm = np.linalg.norm(residual)
        if rank < n and norm > tolerance * size[j]:
            basis[:, rank] = residual / norm
            kept[j], rank = True, rank + 1
    return kept


def aliases(A, S, kept, names, tolerance: float = ALIAS_TOLERANCE) -> dict[str, list[str]]:
    """{name of each column not ``kept``: [names of the kept columns in its least-squares
    combination, those contributing more than ``tolerance`` of its size ‖s_j‖]}; [] for a
    column that is 0 on every row (to working precision)."""
    if kept.all():
        return {}
    weights = np.linalg.lstsq(A[:, kept], A[:, ~kept], rcond=None)[0]
    kept_names = [name for name, k in zip(names, kept) if k]
    contribution = np.abs(weights) * np.linalg.norm(A[:, kept], axis=0)[:, None]
    size = np.linalg.norm(S[:, ~kept], axis=0)
    return {names[j]: [name for name, c in zip(kept_names, contribution[:, i]) if c > tolerance * size[i]]
            for i, j in enumerate(np.flatnonzero(~kept))}


def stlsq(A, b, threshold: float, iterations: int = 25) -> np.ndarray:
    """Sequentially thresholded least squares: solve A ξ ≈ b, zero every |ξ_j| < threshold,
    re-solve on the rest, until the kept set stops changing (Brunton et al. 2016)."""
    active = np.ones(A.shape[1], dtype=bool)
    xi = np.zeros(A.shape[1])
    for _ in range(iterations):
        xi = np.zeros(A.shape[1])
        if not active.any():
            break
        xi[active] = np.linalg.lstsq(A[:, active], b, rcond=None)[0]
        keep = np.abs(xi) >= threshold
        if np.array_equal(keep, active):
            break
        active &= keep
    xi[~active] = 0.0
    return xi
