"""The echo state network: a fixed random recurrent reservoir and a linear read-out trained in
closed form (reservoir computing; Jaeger 2001, Lukoševičius 2012's practical guide)."""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.estimators.params import SEED, Integer, Real
from hybridlab.forecasting.base import Forecaster, warm
from hybridlab.networks.progress import ProgressMeter


class Reservoir(eqx.Module):
    """r_k = (1 − α) r_{k−1} + α tanh(W_in [1; u_k] + W r_{k−1}), ŷ_k = W_out [1; r_k]: the
    leaky reservoir (N units) and its read-out, in scaled units."""

    W: jax.Array
    W_in: jax.Array
    W_out: jax.Array
    leak: jax.Array

    def initial(self):
        return jnp.zeros(self.W.shape[0])

    def update(self, r, u):
        drive = self.W_in @ jnp.concatenate([jnp.ones(1), u]) + self.W @ r
        return (1 - self.leak) * r + self.leak * jnp.tanh(drive)

    def readout(self, r):
        return jnp.concatenate([jnp.ones(1), r]) @ self.W_out


@functools.lru_cache(maxsize=8)
def reservoir(size: int, inputs: int, outputs: int, connectivity: float, spectral_radius: float,
              input_scaling: float, leak: float, seed: int) -> Reservoir:
    """A reservoir of ``size`` units drawn from ``seed``: W sparse (each entry nonzero with
    probability ``connectivity``, standard normal), rescaled so that its spectral radius (largest
    |eigenvalue|, computed by LAPACK on the host) is ``spectral_radius``; W_in uniform in
    ±``input_scaling`` over the bias and the ``inputs``; the read-out zero. Kept for the next
    fit with the same settings (the draw and its eigenvalues are a third of a warm fit)."""
    k_mask, k_values, k_in = jax.random.split(jax.random.key(seed), 3)
    W = np.asarray(jax.random.normal(k_values, (size, size)) * jax.random.bernoulli(k_mask, connectivity,
                                                                                   (size, size)))
    radius = float(np.max(np.abs(np.linalg.eigvals(W))))
    if radius > 0:
        W = W * (spectral_radius / radius)
    W_in = jax.random.uniform(k_in, (size, 1 + inputs), minval=-input_scaling, maxval=input_scaling)
    return Reservoir(jnp.asarray(W), W_in, jnp.zeros((size + 1, outputs)), jnp.asarray(float(leak)))


@eqx.filter_jit
def reservoir_states(cell: Reservoir, inputs):
    """The states (m, P, N) of the reservoir driven by each track's inputs (m, P, d) from rest."""
    return jax.vmap(lambda u: warm(cell, u, u.shape[0] + 1)[1])(inputs)


@jax.jit
def ridge_readout(states, targets, weights, ridge):
    """W_out = (XᵀDX + λI)⁻¹ XᵀDY with X = [1, states] (n, N + 1), D = diag(``weights``) (0 or 1:
    the rows learned from), Y the targets (n, d): ridge regression in closed form."""
    # Xᵀ laid out (N + 1, n), each of its columns (a row of X) scaled by √D: XLA's CPU product
    # Xᵀ X of a row-major X took 1.7× as long as Xᵀ (Xᵀ)ᵀ (115 against 65 ms for n = 9440,
    # N = 300, the transpose included).
    root = jnp.sqrt(weights)
    Xt = jnp.concatenate([root[None, :], states.T * root], axis=0)
    gram = Xt @ Xt.T + ridge * jnp.eye(Xt.shape[0])
    return jnp.linalg.solve(gram, Xt @ (targets * root[:, None]))


class EchoStateNetwork(Forecaster):
    """A forecaster whose recurrence is a fixed random reservoir (``size`` units, sparse with
    ``connectivity``, rescaled to ``spectral_radius``; inputs scaled by ``input_scaling``; leak
    rate ``leak``; drawn from ``seed``) and whose read-out is ridge regression (penalty ``ridge``)
    of the next scaled step on the reservoir states, in closed form, over every step of every
    fitted track after the first ``washout`` (the states still remembering their zero start).
    See :mod:`hybridlab.forecasting.base` for the inputs, the free run and the interval.

    Parameters
    ----------
    size : int
        Reservoir units N, ≥ 1.
    spectral_radius : float
        Largest |eigenvalue| of W, finite and ≥ 0.
    leak : float
        Leak rate α, in (0, 1].
    input_scaling : float
        W_in is uniform in ± this, finite and ≥ 0.
    connectivity : float
        Probability of each entry of W being nonzero, in (0, 1].
    ridge : float
        Ridge penalty λ of the read-out, finite and ≥ 0.
    washout : int
        First steps of each track left out of the read-out's fit, ≥ 0.
    validation : float
        Fraction of the training tracks held out for the interval, in [0, 1).
    seed : int
        Seed of the reservoir and of the held-out tracks, in [0, 2**63 − 1].

    Attributes
    ----------
    reservoir_ : Reservoir
        W (N, N), W_in (N, 1 + 2·dim), the fitted read-out W_out (N + 1, dim) and the leak.

    Raises
    ------
    ValueError
        If a hyperparameter breaks its constraint. A fit raises one too if ``washout`` leaves no step to learn
        from.
    """

    name = "esn"
    fitted_arrays = ("reservoir",)
    constraints = {"size": Integer(1), "spectral_radius": Real(0.0), "leak": Real(0.0, 1.0, open=True, high_in=True),
                   "input_scaling": Real(0.0), "connectivity": Real(0.0, 1.0, open=True, high_in=True), "ridge": Real(0.0),
                   "washout": Integer(0), "validation": Real(0.0, 1.0), "seed": SEED}

    def __init__(self, *, size=200, spectral_radius=0.9, leak=0.3, input_scaling=0.5, connectivity=0.1,
                 ridge=1e-6, washout=5, validation=0.2, seed=0):
        self.size, self.spectral_radius, self.leak, self.input_scaling = size, spectral_radius, leak, input_scaling
        self.connectivity, self.ridge, self.washout, self.validation, self.seed = (connectivity, ridge, washout,
                                                                                   validation, seed)
        self.check_params()

    def _train(self, positions, counts, progress: ProgressMeter) -> None:
        del progress  # one linear solve
        inputs, targets, mask = self._examples(positions, counts)
        cell = self._untrained()
        states = reservoir_states(cell, inputs)
        keep = mask & (jnp.arange(mask.shape[1]) >= self.washout)
        if not bool(keep.any()):
            raise ValueError(f"washout = {self.washout}: leaves no step to learn from (the longest track has "
                             f"{mask.shape[1] + 2} points)")
        n = states.shape[-1]
        W_out = ridge_readout(states.reshape(-1, n), targets.reshape(-1, targets.shape[-1]),
                              keep.reshape(-1).astype(jnp.float64), self.ridge)
        self.reservoir_ = eqx.tree_at(lambda r: r.W_out, cell, W_out)

    def least_observed(self) -> int:
        """The washout's points and two more: a state that has forgotten its zero start.

        Returns
        -------
        count : int
            max(3, ``washout`` + 2).
        """
        return max(3, self.washout + 2)

    def _untrained(self) -> Reservoir:
        dim = self.n_features_
        return reservoir(int(self.size), 2 * dim, dim, float(self.connectivity), float(self.spectral_radius),
                         float(self.input_scaling), float(self.leak), int(self.seed))

    def _cell(self) -> Reservoir:
        return self.reservoir_

    def _arrays_like(self):
        dim, size = self.n_features_, self.size
        return {"reservoir": Reservoir(jnp.zeros((size, size)), jnp.zeros((size, 1 + 2 * dim)),
                                       jnp.zeros((size + 1, dim)), jnp.zeros(()))}

    def n_params(self) -> int:
        """The read-out's weights: the reservoir is drawn, not fitted.

        Returns
        -------
        n : int
            (N + 1)·dim.
        """
        return int(np.size(self.reservoir_.W_out))

    def summary(self):
        """Facts about the fitted model (see ``Estimator.summary``), with the recurrence.

        Returns
        -------
        summary : dict
            ``formula`` and ``diagnostics`` (``dt`` in s, ``horizon`` in steps, ``held_out``), besides the
            common keys.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        out = super().summary()
        out["formula"] = (f"r_k = (1 − {self.leak:g}) r_(k−1) + {self.leak:g} tanh(W_in [1; u_k] + W r_(k−1)), "
                          f"Δx_(k+1) = W_out [1; r_k]; {self.size} units, spectral radius {self.spectral_radius:g}")
        out["diagnostics"] = {"dt": self.dt_, "horizon": self.horizon_, "held_out": self.held_out_}
        return out
