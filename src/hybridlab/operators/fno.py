"""The Fourier neural operator (Li et al., 2021) in one dimension.

v₀(t) = P(w(t), t/T) lifts the input and the grid coordinate to ``width`` channels; each of
``layers`` Fourier layers maps v ↦ σ(K v + U v): K multiplies the lowest ``modes`` Fourier
modes of every channel by learned complex matrices (the rest are dropped; ``modes`` ≤ m/2 for
a grid of m points), U is pointwise;
Q projects to the two outputs. The learned weights act on Fourier modes, not on grid points,
so a trained FNO takes a profile sampled on any grid (zero-shot super-resolution).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.estimators.params import BATCH_SIZE, EPOCHS, RATE, SEED, Integer
from hybridlab.networks.network import Network
from hybridlab.networks.progress import ProgressMeter
from hybridlab.operators import intervals
from hybridlab.operators.base import NetworkOperator, by_batches


class SpectralLayer(eqx.Module):
    """σ(K v + U v) on v (m, width); ``last`` leaves out σ."""

    real: jax.Array
    imag: jax.Array
    weight: jax.Array
    bias: jax.Array
    last: bool = eqx.field(static=True)

    def __init__(self, width: int, modes: int, last: bool, key):
        k1, k2, k3 = jax.random.split(key, 3)
        scale = 1.0 / width
        self.real = scale * jax.random.normal(k1, (modes, width, width))
        self.imag = scale * jax.random.normal(k2, (modes, width, width))
        self.weight = jax.random.uniform(k3, (width, width), minval=-1.0, maxval=1.0) / jnp.sqrt(width)
        self.bias = jnp.zeros(width)
        self.last = last

    def __call__(self, v):
        m, modes = v.shape[0], self.real.shape[0]
        cos, sin = _fourier(m, modes)
        # The lowest modes of rfft(v) (real and imaginary parts) as matrix products: a truncated
        # DFT by matmul is 5× faster than FFT-then-truncate at these sizes on a CPU.
        real, imag = cos @ v, -(sin @ v)  # (modes, width)
        mixed_real = jnp.einsum("ki,kio->ko", real, self.real) - jnp.einsum("ki,kio->ko", imag, self.imag)
        mixed_imag = jnp.einsum("ki,kio->ko", real, self.imag) + jnp.einsum("ki,kio->ko", imag, self.real)
        # irfft of a spectrum zero beyond the kept modes: (1/m) Σ_k c_k Re(X_k e^{2πikj/m}),
        # c_0 = 1 and c_k = 2 (the conjugate half), with no Nyquist term while modes ≤ m/2.
        weight = jnp.where(jnp.arange(modes) == 0, 1.0, 2.0)[:, None] / m
        out = cos.T @ (weight * mixed_real) - sin.T @ (weight * mixed_imag) + v @ self.weight + self.bias
        return out if self.last else jax.nn.gelu(out)


def _fourier(m: int, modes: int):
    """(cos, sin) of 2π k j / m, (modes, m): the truncated DFT of a grid of m points."""
    phase = 2 * jnp.pi * jnp.outer(jnp.arange(modes), jnp.arange(m)) / m
    return jnp.cos(phase), jnp.sin(phase)


class FNONetwork(eqx.Module):
    lift: jax.Array
    layers: tuple[SpectralLayer, ...]
    project: Network

    def __init__(self, width: int, modes: int, layers: int, key):
        keys = jax.random.split(key, layers + 2)
        self.lift = jax.random.uniform(keys[0], (3, width), minval=-1.0, maxval=1.0)
        self.layers = tuple(SpectralLayer(width, modes, i == layers - 1, k) for i, k in enumerate(keys[1:-1]))
        self.project = Network(width, (width,), "gelu", "default", keys[-1], n_out=2)

    def __call__(self, w):
        """Outputs (m, 2) for one input (m,)."""
        return self.project(self._hidden(w))

    def features(self, w):
        """The projection's hidden layer (m, width) for one input (m,): the outputs are an
        affine map of it at every sample."""
        return self.project.features(self._hidden(w))

    def _hidden(self, w):
        grid = jnp.linspace(0.0, 1.0, w.shape[0])
        v = jnp.stack([w, grid, jnp.ones_like(w)], axis=1) @ self.lift  # (m, width): w, t/T and a bias
        for layer in self.layers:
            v = layer(v)
        return v


class FNO(NetworkOperator):
    """A 1-D Fourier neural operator (``width`` channels, ``modes`` Fourier modes, ``layers``
    Fourier layers), trained by Adam (``epochs``, ``learning_rate`` cosine-decayed) on the mean
    squared scaled error, by mini-batches of ``batch_size`` functions where there are more
    (``NetworkOperator``). Inputs W (n, m) (a wind profile in m/s), outputs (n, m, 2) (a trajectory in m).

    Parameters
    ----------
    width : int
        Channels, ≥ 1.
    modes : int
        Fourier modes kept, ≥ 1; every grid needs m ≥ 2·``modes`` samples.
    layers : int
        Fourier layers, ≥ 1.
    epochs : int
        Adam epochs, ≥ 1.
    learning_rate : float
        Adam's initial step size (cosine-decayed), finite and > 0.
    batch_size : int or None
        Functions per mini-batch, ≥ 1; None: 4096.
    seed : int
        Seed of the initialisation and the shuffles, in [0, 2**63 − 1].

    Attributes
    ----------
    network_ : equinox.Module
        The trained network.
    input_scale_ : float
        Standard deviation of the training inputs, in their unit (m/s for a wind).
    output_mean_ : list
        The training outputs' mean, (m, 2), in their unit (m for a trajectory).
    output_scale_ : list of float
        The outputs' standard deviation per coordinate (2 values, m).

    Raises
    ------
    ValueError
        If a hyperparameter breaks its constraint. ``fit`` and ``predict`` raise one for a grid of fewer than
        2·``modes`` samples.
    """

    name = "fno"
    interval_method = "last-layer Laplace in the projection's last layer (flat prior), a noise level per sample"
    resolution_free = True

    constraints = {"width": Integer(1), "modes": Integer(1), "layers": Integer(1), "epochs": EPOCHS,
                   "learning_rate": RATE, "batch_size": BATCH_SIZE, "seed": SEED}

    def __init__(self, *, width: int = 32, modes: int = 16, layers: int = 4, epochs: int = 1000,
                 learning_rate: float = 3e-3, batch_size: int | None = None, seed: int = 0):
        self.width, self.modes, self.layers, self.epochs = width, modes, layers, epochs
        self.learning_rate, self.batch_size, self.seed = learning_rate, batch_size, seed
        self.check_params()

    def _network(self):
        return FNONetwork(self.width, self.modes, self.layers, jax.random.key(self.seed))

    def _fit_scaled(self, w, y, progress: ProgressMeter) -> None:
        self._check_grid(w.shape[1])
        super()._fit_scaled(w, y, progress)

    def _predict_scaled(self, w):
        self._check_grid(w.shape[1])
        return super()._predict_scaled(w)

    def _design(self, w):
        self._check_grid(w.shape[1])
        features = np.asarray(_features(self.network_, w))
        return intervals.pointwise(np.concatenate([features, np.ones((*features.shape[:2], 1))], axis=2))

    def _check_grid(self, samples: int) -> None:
        if 2 * self.modes > samples:
            raise ValueError(f"W has {samples} samples per function: the FNO keeps {self.modes} Fourier modes, "
                             f"which need at least {2 * self.modes}")


@eqx.filter_jit
def _features(network, w):
    """The projection's hidden layer (n, m, width) for inputs (n, m)."""
    return by_batches(network.features, w)
