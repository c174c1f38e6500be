"""The autograd lecture's diagnostics: the Hessian of the training loss at the optimum.

Zero eigenvalues are directions in parameter space along which the loss does not change: the
parameters are not identifiable there, the model has more freedom than the data fix, and any
method that needs the inverse Hessian fails.
"""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np
import scipy.linalg
from jax.flatten_util import ravel_pytree

#: An eigenvalue λ counts as (near) zero when |λ| ≤ NEAR_ZERO · max|λ|. The lecture prints
#: eigenvalues to 3 decimals with the largest ≈ 533, so its "0." entries are below ≈ 1e-6 of it.
NEAR_ZERO = 1e-6
#: Above this many parameters the dense Hessian (n² numbers, n³ to diagonalise) is skipped.
MAX_PARAMS = 2000


def hessian_report(loss, params, data=(), mode: str = "forward-over-reverse", gradient=None) -> dict:
    """Eigen-analysis of ∇²L at ``params`` for the scalar loss ``L(params, data)``.

    Returns ``n_params``, ``near_zero`` (count of |λ| ≤ NEAR_ZERO·max|λ|), ``tolerance``,
    ``largest`` and ``smallest`` (up to 5 each), ``eigenvalues`` (all, when there are ≤ 20), and
    ``condition`` (max|λ| / min|λ|). ``mode="gradient-differences"`` takes central differences
    (step 1e-5) of the exact reverse-mode gradient instead of forward-over-reverse: for losses
    through a Diffrax solve, whose custom VJP admits neither forward mode nor a second
    reverse pass; ``gradient(flat_params)``, if given, is the gradient to difference (one the
    caller has compiled already), else ``jax.grad`` of the loss.
    Skipped (``{"skipped": reason}``) above MAX_PARAMS parameters.
    """
    # A flat NumPy vector as it is (ravel_pytree would compile programs to flatten it).
    flat, unravel = (params, lambda f: f) if isinstance(params, np.ndarray) and params.ndim == 1 \
        else ravel_pytree(params)
    n = int(flat.size)
    if n == 0:  # nothing fitted (e.g. every basis term thresholded away): no directions at all
        return {"n_params": 0, "near_zero": 0, "tolerance": NEAR_ZERO, "largest": [], "smallest": [],
                "mode": mode, "condition": None, "eigenvalues": []}
    if n > MAX_PARAMS:
        return {"n_params": n, "skipped": f"{n} parameters > {MAX_PARAMS}: dense Hessian not computed"}

    if mode == "forward-over-reverse":
        H = np.asarray(_hessian(loss, params, data), dtype=np.float64)
    else:
        if gradient is None:
            gradient = lambda f: _gradient(loss, unravel(f), data)  # noqa: E731
        H = _gradient_differences(gradient, flat)
    # LAPACK's divide and conquer (evd): 2-3x faster than NumPy's default at a thousand parameters.
    eigenvalues = np.sort(scipy.linalg.eigvalsh(0.5 * (H + H.T), driver="evd"))[::-1]
    magnitude = np.abs(eigenvalues)
    near_zero = int(np.sum(magnitude <= NEAR_ZERO * magnitude.max())) if magnitude.max() > 0 else n
    report = {
        "n_params": n,
        "near_zero": near_zero,
        "tolerance": NEAR_ZERO,
        "largest": eigenvalues[:5].tolist(),
        "smallest": eigenvalues[-5:].tolist(),
        "mode": mode,
        "condition": float(magnitude.max() / magnitude.min()) if magnitude.min() > 0 else float("inf"),
    }
    if n <= 20:
        report["eigenvalues"] = eigenvalues.tolist()
    return report


# The data go in as arguments, not closures: closed-over arrays become constants that XLA
# folds (one compile was 5x slower), and a module-level function is compiled once per loss.
@eqx.filter_jit
def _hessian(loss, params, data):
    """∇²L as a dense (n, n) matrix over the flattened parameters."""
    flat, unravel = ravel_pytree(params)
    return jax.hessian(lambda f: loss(unravel(f), data))(flat)


@eqx.filter_jit
def _gradient(loss, params, data):
    """∇L flattened."""
    return ravel_pytree(jax.grad(loss)(params, data))[0]


def standard_errors(J, residual) -> np.ndarray:
    """Standard errors of least-squares estimates from the Jacobian J (n, q) of the model at the
    optimum and the residuals r there: Cov = s² (JᵀJ)⁻¹ with s² = Σr²/(n − q).

    A parameter the data cannot determine (a component along a null direction of JᵀJ, that is
    an eigenvalue ≤ 1e-12 of the largest) gets ``inf``, not the 0 a pseudo-inverse would give.
    A J or r that is not finite is a ValueError.
    """
    J = np.asarray(J, dtype=np.float64)
    if not (np.isfinite(J).all() and np.isfinite(residual).all()):
        # LAPACK's own word for it is "Eigenvalues did not converge", which names nothing.
        raise ValueError("the fit's Jacobian or residuals are not finite at the fitted parameters (a solve fails "
                         "there): no standard errors")
    s2 = np.sum(np.asarray(residual, dtype=np.float64) ** 2) / max(len(residual) - J.shape[1], 1)
    # Unit columns first: the null test must not depend on the parameters' units (v³ next to 1).
    norms = np.linalg.norm(J, axis=0)
    norms = np.where(norms > 0, norms, 1.0)
    eigenvalues, V = np.linalg.eigh((J / norms).T @ (J / norms))
    null = eigenvalues <= 1e-12 * max(eigenvalues.max(initial=0.0), np.finfo(float).tiny)
    variance = s2 * np.sum(V[:, ~null] ** 2 / eigenvalues[~null], axis=1)
    undetermined = np.sum(V[:, null] ** 2, axis=1) > 1e-12
    return np.where(undetermined, np.inf, np.sqrt(variance) / norms)


def _gradient_differences(gradient, flat, step: float = 1e-5) -> np.ndarray:
    """H[:, j] ≈ (∇L(p + h e_j) − ∇L(p − h e_j)) / 2h."""
    columns = []
    for j in range(flat.size):
        shift = np.zeros(flat.size)
        shift[j] = step
        columns.append((np.asarray(gradient(flat + shift)) - np.asarray(gradient(flat - shift))) / (2 * step))
    return np.column_stack(columns)


def best_of(losses, parameters, report: bool) -> tuple[int, dict | None]:
    """Which of several fits (restarts) to keep: the index of the lowest loss, and (when
    ``report``) the :func:`restart_report` of all of them."""
    return lowest(losses), (restart_report(losses, parameters) if report else None)


def lowest(losses) -> int:
    """Index of the lowest loss; a NaN loss (a diverged run) counts as the worst, not the best."""
    return int(np.argmin(np.nan_to_num(np.asarray(losses, dtype=np.float64), nan=np.inf)))


def restart_report(losses, parameters) -> dict:
    """How restarts from different seeds compare: their final losses, and how far apart their
    parameter vectors are, max_i ‖p_i − p_best‖ / ‖p_best‖ (best = lowest loss)."""
    losses = np.asarray(losses, dtype=np.float64)
    best = lowest(losses)
    vectors = [np.asarray(ravel_pytree(p)[0]) for p in parameters]
    reference = vectors[best]
    spread = max(np.linalg.norm(v - reference) for v in vectors) / max(np.linalg.norm(reference), 1e-300)
    return {"losses": losses.tolist(), "best": best, "parameter_spread": float(spread)}
