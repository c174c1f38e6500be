"""DeepONet (Lu et al., 2021): G(w)(t) = Σ_k b_k(w) τ_k(t) + c, per output coordinate.

The branch network reads the input function's m samples and gives p coefficients per output
coordinate; the trunk network reads the time t/T and gives p basis functions shared by both.
It is tied to the input grid it was trained on (the branch takes exactly m samples)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.estimators.params import BATCH_SIZE, EPOCHS, RATE, SEED, Integer
from hybridlab.networks.network import Network
from hybridlab.operators import intervals
from hybridlab.operators.base import NetworkOperator, by_batches


class DeepONetNetwork(eqx.Module):
    branch: Network
    trunk: Network
    bias: jax.Array

    def __init__(self, samples: int, width: int, basis: int, key):
        k1, k2 = jax.random.split(key)
        self.branch = Network(samples, (width, width), "tanh", "glorot", k1, n_out=2 * basis)
        self.trunk = Network(1, (width, width), "tanh", "glorot", k2, n_out=basis)
        self.bias = jnp.zeros(2)

    def __call__(self, w):
        """Outputs (m, 2) for one input (m,), at the m times of its grid."""
        coefficients = self.branch(w[None])[0].reshape(2, -1)  # (2, p)
        return self.basis(w.shape[0]) @ coefficients.T + self.bias

    def basis(self, m: int):
        """The trunk's basis functions (m, p) at the m times of a grid."""
        return jnp.tanh(self.trunk(jnp.linspace(0.0, 1.0, m)[:, None]))


class DeepONet(NetworkOperator):
    """A DeepONet with ``width``-wide two-hidden-layer tanh branch and trunk networks and
    ``basis`` basis functions, trained by Adam (``epochs``, ``learning_rate`` cosine-decayed) on
    the mean squared scaled error, by mini-batches of ``batch_size`` functions where there are
    more (``NetworkOperator``). Inputs W (n, m) (a wind profile in m/s), outputs (n, m, 2) (a trajectory
    in m), on the training grid of m samples only.

    Parameters
    ----------
    width : int
        Width of the branch's and the trunk's two hidden layers, ≥ 1.
    basis : int
        Basis functions p, ≥ 1.
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
        If a hyperparameter breaks its constraint. ``predict`` raises one for inputs of another number of
        samples than the training grid's.
    """

    name = "deeponet"
    interval_method = "last-layer Laplace in the branch's last layer (flat prior), a noise level per sample"

    constraints = {"width": Integer(1), "basis": Integer(1), "epochs": EPOCHS, "learning_rate": RATE,
                   "batch_size": BATCH_SIZE, "seed": SEED}

    def __init__(self, *, width: int = 128, basis: int = 64, epochs: int = 2000, learning_rate: float = 1e-3,
                 batch_size: int | None = None, seed: int = 0):
        self.width, self.basis, self.epochs = width, basis, epochs
        self.learning_rate, self.batch_size, self.seed = learning_rate, batch_size, seed
        self.check_params()

    def _network(self):
        return DeepONetNetwork(self.n_features_, self.width, self.basis, jax.random.key(self.seed))

    def _design(self, w):
        features = np.asarray(_branch_features(self.network_, w))
        return intervals.separable(np.hstack([features, np.ones((len(features), 1))]),
                                   self.network_.basis(w.shape[1]))


@eqx.filter_jit
def _branch_features(network, w):
    """The branch's last hidden layer (n, width) for inputs (n, m)."""
    return by_batches(lambda one: network.branch.features(one[None])[0], w)
