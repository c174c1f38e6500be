"""Predictive intervals of the ladder's rungs: ŷ(x) ± t · s(x) for a new measurement at x.

Two textbook constructions, one per kind of rung:

- **Delta method** (linearised least squares): with J = ∂ŷ/∂θ (n, p) on the training inputs
  for a set θ of fitted parameters and r the training residuals,

      σ̂² = ‖r‖² / (n − p),   Σ = σ̂² (JᵀJ)⁺,   s(x)² = j(x)ᵀ Σ j(x) + σ̂²,

  and t the Student quantile with n − p degrees of freedom. θ is every coefficient of the linear
  and the basis model (the kept terms only: the textbook least-squares prediction interval,
  exact for them), every unknown of a grey-box fit, and the last layer of a network (the MLP,
  the hybrid's correction, the UDE's drag network): a last-layer Laplace approximation with a
  flat prior, the network's hidden features held fixed.
- **Jackknife** (nearest neighbour, which has no parameters): s = the RMS of the leave-one-out
  residuals, which holds the noise and the model's error between recorded shots; t Gaussian.

Neither construction knows where the model leaves its data unless the linearisation does: a
network's features may saturate off the data and a neighbour's answer is as sure far away as
near; the coverage off the data (measured by the runner) is what tells.
"""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np
from jax.flatten_util import ravel_pytree
from scipy import stats

from hybridlab.physics.batching import in_blocks


#: The nominal level of the intervals that the runs score (coverage and width).
NOMINAL = 0.9

#: The networks' interval, in words.
LAST_LAYER = "last-layer Laplace (delta method in the last layer, flat prior)"


def delta_calibration(J: np.ndarray, residual: np.ndarray, method: str) -> dict:
    """{"method", "noise" σ̂ (output unit), "dof" n − p, "covariance" Σ (p, p) as lists}."""
    J, residual = np.asarray(J, dtype=np.float64), np.asarray(residual, dtype=np.float64)
    dof = max(len(residual) - J.shape[1], 1)
    noise2 = float(np.sum(residual**2) / dof)
    # Unit columns, so that the pseudo-inverse's cut-off does not depend on the parameters' units.
    norms = np.linalg.norm(J, axis=0)
    norms = np.where(norms > 0, norms, 1.0)
    scaled = J / norms
    covariance = noise2 * np.linalg.pinv(scaled.T @ scaled, rcond=1e-12, hermitian=True) / np.outer(norms, norms)
    return {"method": method, "noise": float(np.sqrt(noise2)), "dof": int(dof), "covariance": covariance.tolist()}


#: Groups whose blocks :func:`grouped_calibration` works on at once.
GROUP_CHUNK = 1 << 14


def grouped_calibration(A: np.ndarray, B: np.ndarray, D: np.ndarray, residual: np.ndarray,
                        method: str) -> tuple[dict, np.ndarray, np.ndarray]:
    """The delta method where every row depends on p shared parameters θ and on the q
    parameters of its own group only (each track's fitted starting state), from the Gram
    blocks of the sensitivities: A = JᵀJ (p, p) over all rows, and per group g (of m)
    B_g = J_gᵀK_g (m, p, q) and D_g = K_gᵀK_g (m, q, q), with J = ∂ŷ/∂θ and K = ∂ŷ/∂(the
    group's parameters).

    It is :func:`delta_calibration` of the full Jacobian without forming it (whose p + m·q
    columns grow with the data): by block elimination, with G_g = B_g D_g⁺ and the Schur
    complement S = A − Σ_g G_g B_gᵀ, Σ_θθ = σ̂² S⁺, and a row (j, k) of group g has

        s² = uᵀ Σ_θθ u + kᵀ C_g k + σ̂²,   u = j − G_g k,   C_g = σ̂² D_g⁺

    (see :func:`grouped_std`) — memory and time linear in m. σ̂² = ‖r‖²/(n − p − m·q). The
    columns are scaled to unit norm first (θ's over all rows, each group's over its rows), so
    that the pseudo-inverses' cut-off does not depend on the units; where every D_g and S are
    invertible the result is the full pseudo-inverse's exactly.

    Returns (the calibration, with Σ_θθ as ``covariance``; G (m, p, q); C (m, q, q))."""
    A, B, D = (np.asarray(a, dtype=np.float64) for a in (A, B, D))
    residual = np.asarray(residual, dtype=np.float64)
    m, p, q = B.shape
    dof = max(residual.size - p - m * q, 1)
    noise2 = float(np.sum(residual**2) / dof)
    theta_norm = _norms(np.diagonal(A))
    schur = A / np.outer(theta_norm, theta_norm)
    gain, start = np.empty_like(B), np.empty_like(D)
    for first in range(0, m, GROUP_CHUNK):  # in chunks: only G and C are as large as B
        g = slice(first, first + GROUP_CHUNK)
        group_norm = _norms(np.diagonal(D[g], axis1=1, axis2=2))  # (chunk, q)
        B_unit = B[g] / (theta_norm[None, :, None] * group_norm[:, None, :])
        D_plus = np.linalg.pinv(D[g] / (group_norm[:, :, None] * group_norm[:, None, :]), rcond=1e-12,
                                hermitian=True) if q else np.zeros((len(B_unit), 0, 0))
        G_unit = B_unit @ D_plus
        schur -= np.einsum("gpq,grq->pr", G_unit, B_unit)
        gain[g] = G_unit * theta_norm[None, :, None] / group_norm[:, None, :]
        start[g] = noise2 * D_plus / (group_norm[:, :, None] * group_norm[:, None, :])
    covariance = noise2 * np.linalg.pinv(schur, rcond=1e-12, hermitian=True) / np.outer(theta_norm, theta_norm)
    calibration = {"method": method, "noise": float(np.sqrt(noise2)), "dof": int(dof), "covariance": covariance.tolist(),
                   "grouped": True}
    return calibration, gain, start


def grouped_std(calibration: dict, gain: np.ndarray, start: np.ndarray, J: np.ndarray, K: np.ndarray,
                group: np.ndarray) -> np.ndarray:
    """s (n,) of :func:`grouped_calibration` at rows with sensitivities J (n, p) to θ and K
    (n, q) to the parameters of their groups ``group`` (n,)."""
    # (p, p) spelled out: with nothing fitted in θ (p = 0) the saved [] has lost its shape.
    covariance = np.asarray(calibration["covariance"], dtype=np.float64).reshape(J.shape[1], J.shape[1])
    u = J - np.einsum("npq,nq->np", gain[group], K)
    return np.sqrt(np.einsum("np,pr,nr->n", u, covariance, u) + np.einsum("nq,nqr,nr->n", K, start[group], K)
                   + calibration["noise"] ** 2)


def _norms(squares: np.ndarray) -> np.ndarray:
    """Column norms from their squares, with 1 for a zero column (left unscaled)."""
    norms = np.sqrt(np.maximum(squares, 0.0))
    return np.where(norms > 0, norms, 1.0)


def jackknife_calibration(loo_residual: np.ndarray) -> dict:
    """The jackknife's calibration: σ̂ = RMS of the leave-one-out residuals, no covariance."""
    loo_residual = np.asarray(loo_residual, dtype=np.float64)
    return {"method": "jackknife (leave-one-out residuals)", "noise": float(np.sqrt(np.mean(loo_residual**2))),
            "dof": None, "covariance": None}


def predictive_std(calibration: dict, J: np.ndarray | None) -> np.ndarray | float:
    """s(x) = √(j(x)ᵀ Σ j(x) + σ̂²) for the sensitivities J (n, p) at the inputs asked about."""
    noise2 = calibration["noise"] ** 2
    if calibration["covariance"] is None:
        return np.sqrt(noise2)
    covariance = np.asarray(calibration["covariance"], dtype=np.float64)
    J = np.asarray(J, dtype=np.float64)
    return np.sqrt(np.einsum("ij,jk,ik->i", J, covariance, J) + noise2)


def quantile(calibration: dict, level: float) -> float:
    """The two-sided ``level`` quantile: Student's t with the calibration's degrees of freedom
    (Gaussian without)."""
    if not 0 < level < 1:
        raise ValueError(f"level = {level!r}: must lie in (0, 1)")
    upper = 0.5 + level / 2
    dof = calibration["dof"]
    return float(stats.t.ppf(upper, dof) if dof is not None else stats.norm.ppf(upper))


def last_layer_jacobian(model, X) -> np.ndarray:
    """∂ŷ/∂(W_L, b_L) (n, p) of a rung whose fitted arrays hold a ``network``: its prediction
    as a JAX function of the last layer's weights and bias (forward mode, or reverse mode where
    the prediction runs an ODE solve, whose custom derivative has no forward mode)."""
    function = model.as_function()
    try:
        return in_blocks(lambda block: _last_layer(function, block, jax.jacfwd), X)
    except TypeError:  # "can't apply forward-mode autodiff (jvp) to a custom_vjp function"
        return in_blocks(lambda block: _last_layer(function, block, jax.jacrev), X)


def last_layer(network) -> tuple[jax.Array, jax.Array]:
    """(weight, bias) of a :class:`~hybridlab.networks.network.Network`'s last layer."""
    last = network.layers[-1]
    return last.weight, last.bias


def _where(function):
    return last_layer(function.arrays["network"])


@eqx.filter_jit
def _last_layer(function, X, jacobian):
    theta, unravel = ravel_pytree(_where(function))
    return jacobian(lambda flat: eqx.tree_at(_where, function, unravel(flat))(X))(theta)
