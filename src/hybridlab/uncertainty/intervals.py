"""Predictive intervals: ŷ(x) ± t · s(x) for a new measurement at x, one typed abstraction.

Every interval is an :class:`Interval`, an Equinox module whose array leaves are saved with the
model's other arrays (``arrays.eqx``) and whose kind, method and degrees of freedom are saved in
``model.json`` (:meth:`Interval.describe`, read back by :meth:`Interval.like`). One convention:
``variance(...)`` is s², the variance of a new measurement (the model's share plus the noise
σ̂²), in the squared unit of the prediction; ``std(...)`` = √variance; ``quantile(level)`` is t,
Student's with ``dof`` degrees of freedom or Gaussian where ``dof`` is None. What ``variance``
takes depends on the kind (a model's sensitivities, a forecast's horizon, an operator's design):

- :class:`Delta` — **delta method** (linearised least squares): with J = ∂ŷ/∂θ (n, p) on the
  training inputs for a set θ of fitted parameters and r the training residuals,

      σ̂² = ‖r‖² / (n − p),   Σ = σ̂² (JᵀJ)⁺,   s(x)² = j(x)ᵀ Σ j(x) + σ̂²,

  t Student's with n − p degrees of freedom. θ is every coefficient of the linear and the basis
  model (the kept terms only: the textbook least-squares prediction interval, exact for them),
  every unknown of a grey-box fit, and the last layer of a network (the MLP, the hybrid's
  correction, the UDE's drag network): a last-layer Laplace approximation with a flat prior,
  the network's hidden features held fixed.
- :class:`GroupedDelta` — the same where each row also depends on parameters of its own group
  (a track's fitted starting state), kept as blocks whose size is linear in the groups.
- :class:`NoiseOnly` — the **jackknife** (nearest neighbour, which has no parameters): s = the
  RMS of the leave-one-out residuals, the same at every input; t Gaussian.
- :class:`ByHorizon` — an empirical s_k per step k of a forecast (the sequence models).

The operators' Laplace intervals (:mod:`hybridlab.operators.intervals`) are kinds of it too.
None of these constructions knows where the model leaves its data unless the linearisation does:
a network's features may saturate off the data and a neighbour's answer is as sure far away as
near; the coverage off the data (measured by the runner) is what tells.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from hybridlab.physics.batching import in_blocks


#: The nominal level of the intervals that the runs score (coverage and width).
NOMINAL = 0.9

#: The networks' interval, in words.
LAST_LAYER = "last-layer Laplace (delta method in the last layer, flat prior)"

#: The static fields every interval has; its other fields are its arrays.
_STATIC = ("method", "dof")


class Interval(eqx.Module):
    """A predictive interval ŷ ± t·s of a new measurement (see the module's docstring).

    Attributes
    ----------
    method : str
        How it was made, in words.
    dof : int or None
        Degrees of freedom of Student's t (None: Gaussian).
    """

    method: str = eqx.field(static=True)
    dof: int | None = eqx.field(static=True)

    #: Its name in ``model.json``; every kind with one is loadable by :meth:`like`.
    kind: ClassVar[str]
    kinds: ClassVar[dict[str, type[Interval]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            Interval.kinds[cls.kind] = cls

    @abc.abstractmethod
    def variance(self, *at) -> np.ndarray:
        """s² of a new measurement at what ``at`` describes (by kind), in the prediction's unit squared."""

    def std(self, *at) -> np.ndarray:
        """s = √``variance(*at)``, in the prediction's unit."""
        return np.sqrt(self.variance(*at))

    def quantile(self, level: float) -> float:
        """t, the two-sided ``level`` quantile: Student's with ``dof`` degrees of freedom
        (Gaussian without). ValueError unless ``level`` is in (0, 1)."""
        if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0 < level < 1:
            raise ValueError(f"level = {level!r}: must lie in (0, 1)")
        # SciPy's special functions (what stats.t.ppf and stats.norm.ppf evaluate), imported here:
        # scipy.stats costs 0.9 s of a process's start that a command printing no interval never needs.
        from scipy import special

        upper = 0.5 + level / 2
        return float(special.stdtrit(self.dof, upper) if self.dof is not None else special.ndtri(upper))

    def describe(self) -> dict[str, Any]:
        """What ``model.json`` records: ``kind``, ``method``, ``dof`` and each array's shape."""
        return {"kind": self.kind, "method": self.method, "dof": self.dof,
                "shapes": {name: list(np.shape(getattr(self, name))) for name in _arrays_of(type(self))}}

    @staticmethod
    def like(description) -> Interval:
        """An interval of the kind, method, dof and shapes ``description`` records (from
        :meth:`describe`), its arrays zeros: the placeholder its saved arrays are read into.
        ValueError for a description that is not one."""
        if not isinstance(description, dict) or description.get("kind") not in Interval.kinds:
            raise ValueError(f"interval {str(description)[:80]}: unknown kind; known: "
                             f"{', '.join(sorted(Interval.kinds))}")
        cls = Interval.kinds[description["kind"]]
        method, dof, shapes = description.get("method"), description.get("dof"), description.get("shapes")
        if not isinstance(method, str) or not (dof is None or type(dof) is int and dof >= 1):
            raise ValueError(f"interval {cls.kind!r}: method must be text and dof a positive integer or null")
        names = _arrays_of(cls)
        if not isinstance(shapes, dict) or sorted(shapes) != sorted(names) or not all(
                isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape) for shape in shapes.values()):
            raise ValueError(f"interval {cls.kind!r}: shapes must give {', '.join(names)} as lists of sizes")
        return cls(method=method, dof=dof, **{name: jnp.zeros(shapes[name]) for name in names})


def _arrays_of(cls: type[Interval]) -> list[str]:
    """The names of an interval class's array fields (all but :data:`_STATIC`)."""
    return [field.name for field in dataclasses.fields(cls) if field.name not in _STATIC]


class NoiseOnly(Interval):
    """s² = σ̂² at every input: the jackknife's (leave-one-out residuals), t Gaussian.

    Attributes
    ----------
    noise : jax.Array
        σ̂, shape (), in the prediction's unit.
    """

    noise: jax.Array
    kind: ClassVar[str] = "noise"

    @classmethod
    def jackknife(cls, loo_residual, method: str) -> NoiseOnly:
        """σ̂ = the RMS of the leave-one-out residuals (n,)."""
        loo_residual = np.asarray(loo_residual, dtype=np.float64)
        return cls(method=method, dof=None, noise=np.sqrt(np.mean(loo_residual**2)))

    def variance(self, *_) -> np.ndarray:
        """σ̂², whatever is asked about (the sensitivities a rung passes are ignored)."""
        return np.asarray(self.noise, dtype=np.float64) ** 2


class Delta(Interval):
    """The delta method: s(x)² = j(x)ᵀ Σ j(x) + σ̂² (see the module's docstring).

    Attributes
    ----------
    noise : jax.Array
        σ̂, shape (), in the prediction's unit.
    covariance : jax.Array
        Σ, shape (p, p), of the parameters θ the interval is linearised in.
    """

    noise: jax.Array
    covariance: jax.Array
    kind: ClassVar[str] = "delta"

    @classmethod
    def from_residuals(cls, J, residual, method: str) -> Delta:
        """σ̂² = ‖r‖²/(n − p) and Σ = σ̂² (JᵀJ)⁺ from the sensitivities J (n, p) and the training
        residuals r (n,), the pseudo-inverse taken on unit columns (so that its cut-off does not
        depend on the parameters' units)."""
        J, residual = np.asarray(J, dtype=np.float64), np.asarray(residual, dtype=np.float64)
        dof = max(len(residual) - J.shape[1], 1)
        noise2 = float(np.sum(residual**2) / dof)
        norms = _norms(np.sum(J**2, axis=0))
        scaled = J / norms
        covariance = noise2 * np.linalg.pinv(scaled.T @ scaled, rcond=1e-12, hermitian=True) / np.outer(norms, norms)
        return cls(method=method, dof=int(dof), noise=np.sqrt(noise2), covariance=covariance)

    def variance(self, J) -> np.ndarray:
        """s² (n,) at the inputs whose sensitivities are J (n, p)."""
        J = np.asarray(J, dtype=np.float64)
        return np.einsum("ij,jk,ik->i", J, np.asarray(self.covariance), J) + np.asarray(self.noise) ** 2


#: Groups whose blocks :meth:`GroupedDelta.from_grams` works on at once.
GROUP_CHUNK = 1 << 14


class GroupedDelta(Interval):
    """The delta method where every row depends on p shared parameters θ and on the q
    parameters of its own group only (each track's fitted starting state).

    It is :class:`Delta` of the full Jacobian without forming it (whose p + m·q columns grow
    with the data): from the Gram blocks A = JᵀJ (p, p) over all rows, and per group g (of m)
    B_g = J_gᵀK_g (m, p, q) and D_g = K_gᵀK_g (m, q, q), with J = ∂ŷ/∂θ and K = ∂ŷ/∂(the
    group's parameters), by block elimination: G_g = B_g D_g⁺, the Schur complement
    S = A − Σ_g G_g B_gᵀ, Σ_θθ = σ̂² S⁺, and a row (j, k) of group g has

        s² = uᵀ Σ_θθ u + kᵀ C_g k + σ̂²,   u = j − G_g k,   C_g = σ̂² D_g⁺,

    memory and time linear in m; σ̂² = ‖r‖²/(n − p − m·q). Where every D_g and S are invertible
    the result is the full pseudo-inverse's exactly.

    Attributes
    ----------
    noise : jax.Array
        σ̂, shape (), in m.
    covariance : jax.Array
        Σ_θθ, shape (p, p).
    gain : jax.Array
        G, shape (m, p, q).
    start : jax.Array
        C, shape (m, q, q).
    """

    noise: jax.Array
    covariance: jax.Array
    gain: jax.Array
    start: jax.Array
    kind: ClassVar[str] = "grouped-delta"

    @classmethod
    def from_grams(cls, A, B, D, residual, method: str) -> GroupedDelta:
        """The interval from the Gram blocks and the training residuals (any shape). The
        columns are scaled to unit norm first (θ's over all rows, each group's over its rows),
        so that the pseudo-inverses' cut-off does not depend on the units."""
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
        return cls(method=method, dof=int(dof), noise=np.sqrt(noise2), covariance=covariance, gain=gain, start=start)

    def variance(self, J, K, group) -> np.ndarray:
        """s² (n,) at rows with sensitivities J (n, p) to θ and K (n, q) to the parameters of
        their groups ``group`` (n,)."""
        gain, start = np.asarray(self.gain), np.asarray(self.start)
        u = J - np.einsum("npq,nq->np", gain[group], K)
        return (np.einsum("np,pr,nr->n", u, np.asarray(self.covariance), u)
                + np.einsum("nq,nqr,nr->n", K, start[group], K) + np.asarray(self.noise) ** 2)


def _norms(squares: np.ndarray) -> np.ndarray:
    """Column norms from their squares, with 1 for a zero column (left unscaled)."""
    norms = np.sqrt(np.maximum(squares, 0.0))
    return np.where(norms > 0, norms, 1.0)


class ByHorizon(Interval):
    """An empirical s_k for a forecast k steps ahead (k = 1 … H), t Gaussian.

    Attributes
    ----------
    spread : jax.Array
        s_k, shape (H, dim), in m.
    """

    spread: jax.Array
    kind: ClassVar[str] = "by-horizon"

    def variance(self, horizon: int) -> np.ndarray:
        """s_k² (horizon, dim) for k = 1 … ``horizon`` (at most H)."""
        return np.asarray(self.spread)[:horizon] ** 2


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
