"""Predictive intervals of the operators: a Laplace approximation (flat prior) in the last
linear map of each, with a noise level per output sample.

Every operator's scaled output is affine in a last set of weights θ_a per output coordinate a
(x or y): ŷ_a(w)[o] = θ_aᵀ z_o(w) at sample o. With the training residuals r (n functions ×
m samples × 2) and a noise σ̂²_{oa} per sample and coordinate (the residuals' mean square, as
the error does not have one size along a trajectory: it is zero at the launch), the
posterior precision of θ_a is P_a = Σ_{i,o} z_o(w_i) z_o(w_i)ᵀ / σ̂²_{oa}, and a new
measurement's variance

    s²_{oa}(w) = z_o(w)ᵀ P_a⁻¹ z_o(w) + σ̂²_{oa}.

Two shapes of z, one per kind of operator:

- **separable**: z_o(w) = τ_o ⊗ h(w) — a function's features h (n, p_h; the affine 1
  included) times a basis over the samples τ (m, p_τ). Then P_a = T_a ⊗ H with
  H = Σ_i h_i h_iᵀ and T_a = Σ_o τ_o τ_oᵀ/σ̂²_{oa}, and z ᵀP_a⁻¹z = (τ_oᵀ T_a⁻¹ τ_o)(hᵀH⁻¹h):
  exact, without the (p_τ·p_h)² matrix. The linear operator (h = (w, 1), τ = the identity:
  the textbook least-squares prediction interval of each output, σ̂²(1 + hᵀH⁻¹h), with
  n − p_h degrees of freedom) and DeepONet (h the branch's last hidden layer, τ the trunk's
  basis: the branch's last layer is θ) are of this kind.
- **pointwise**: z_o(w) (n, m, p) the features of each sample (the FNO's projection acts
  pointwise: its last layer is θ, shared by every sample).
"""

from __future__ import annotations

from typing import ClassVar

import jax
import numpy as np

from hybridlab.uncertainty.intervals import Interval

#: The noise of a sample is at least this share of the mean noise: the launch point's is zero.
NOISE_FLOOR = 1e-8


def _pinv(matrix):
    return np.linalg.pinv(matrix, rcond=1e-12, hermitian=True)


def _noise(residual: np.ndarray, dof: int) -> np.ndarray:
    """σ̂² (m, 2) per sample and coordinate from residuals (n, m, 2)."""
    mean_square = np.sum(residual**2, axis=0) / max(dof, 1)
    return np.maximum(mean_square, NOISE_FLOOR * mean_square.mean())


class Separable(Interval):
    """The Laplace interval of a separable design z_o(w) = τ_o ⊗ h(w):
    s²_{oa}(w) = (hᵀH⁻¹h)(τ_oᵀ T_a⁻¹ τ_o) + σ̂²_{oa}, in scaled output units.

    Attributes
    ----------
    noise : jax.Array
        σ̂ per training sample and coordinate, shape (m, 2).
    features_inverse : jax.Array
        H⁻¹, shape (p_h, p_h).
    basis_inverse : jax.Array
        T_a⁻¹ per coordinate a, shape (2, p_τ, p_τ).
    """

    noise: jax.Array
    features_inverse: jax.Array
    basis_inverse: jax.Array
    kind: ClassVar[str] = "separable-laplace"

    def variance(self, design: dict) -> np.ndarray:
        """s² (n, m, 2) for the separable ``design`` of the functions asked about (on the
        training grid or another: the noise is interpolated in time)."""
        h, tau = design["features"], design["basis"]
        leverage = np.einsum("ip,pq,iq->i", h, np.asarray(self.features_inverse), h)
        spread = np.einsum("op,apq,oq->oa", tau, np.asarray(self.basis_inverse), tau)  # (m, 2)
        return leverage[:, None, None] * spread[None] + _on_grid(np.asarray(self.noise) ** 2, tau.shape[0])[None]


class Pointwise(Interval):
    """The Laplace interval of per-sample features z_o(w) (the FNO's projection):
    s²_{oa}(w) = z_o(w)ᵀ P_a⁻¹ z_o(w) + σ̂²_{oa}, in scaled output units; t Gaussian.

    Attributes
    ----------
    noise : jax.Array
        σ̂ per training sample and coordinate, shape (m, 2).
    precision_inverse : jax.Array
        P_a⁻¹ per coordinate a, shape (2, p, p).
    """

    noise: jax.Array
    precision_inverse: jax.Array
    kind: ClassVar[str] = "pointwise-laplace"

    def variance(self, design: dict) -> np.ndarray:
        """s² (n, m, 2) for the pointwise ``design`` of the functions asked about."""
        z = design["features"]
        return (np.einsum("iop,apq,ioq->ioa", z, np.asarray(self.precision_inverse), z)
                + _on_grid(np.asarray(self.noise) ** 2, z.shape[1])[None])


def fit_interval(designs, residual: np.ndarray, method: str) -> Separable | Pointwise:
    """The interval from the training design, given as ``designs`` of consecutive blocks of
    the functions (:func:`separable` or :func:`pointwise`, one kind), and residuals (n, m, 2),
    in scaled units. Only the designs' Gram matrices are kept (hᵀh, or Σ_i z_o(w_i) z_o(w_i)ᵀ
    per sample o), so memory does not grow with n."""
    residual = np.asarray(residual, dtype=np.float64)
    n = residual.shape[0]
    designs = iter(designs)
    first = next(designs)
    gram = _gram(first)
    for design in designs:
        gram += _gram(design)
    if first["kind"] == "separable":
        tau = first["basis"]
        dof = n - gram.shape[0]
        noise2 = _noise(residual, dof)
        basis = np.stack([_pinv(tau.T @ (tau / noise2[:, a, None])) for a in range(2)])
        return Separable(method=method, dof=max(dof, 1), noise=np.sqrt(noise2), features_inverse=_pinv(gram),
                         basis_inverse=basis)
    noise2 = _noise(residual, n)  # n·m points against p weights: Gaussian
    precision = np.stack([_pinv(np.einsum("opq,o->pq", gram, 1 / noise2[:, a])) for a in range(2)])
    return Pointwise(method=method, dof=None, noise=np.sqrt(noise2), precision_inverse=precision)


def _gram(design: dict) -> np.ndarray:
    """hᵀh (p_h, p_h) of a separable design; Σ_i z_io z_ioᵀ (m, p, p) of a pointwise one."""
    z = design["features"]
    return z.T @ z if design["kind"] == "separable" else np.einsum("iop,ioq->opq", z, z)


def _on_grid(values: np.ndarray, m: int) -> np.ndarray:
    """``values`` (m₀, 2) on equally spaced times, linearly interpolated to m of them."""
    if values.shape[0] == m:
        return values
    old, new = np.linspace(0.0, 1.0, values.shape[0]), np.linspace(0.0, 1.0, m)
    return np.stack([np.interp(new, old, values[:, a]) for a in range(values.shape[1])], axis=1)


def separable(features, basis) -> dict:
    """The design z_o(w) = τ_o ⊗ h(w) of ``features`` h (n, p_h) and ``basis`` τ (m, p_τ)."""
    return {"kind": "separable", "features": np.asarray(features, np.float64), "basis": np.asarray(basis, np.float64)}


def pointwise(features) -> dict:
    """The design of per-sample ``features`` z (n, m, p)."""
    return {"kind": "pointwise", "features": np.asarray(features, np.float64)}
