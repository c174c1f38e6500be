"""A fully connected network with any widths: the learnable function of the MLP and Hybrid."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

ACTIVATIONS = {
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "relu": jax.nn.relu,
    "gelu": jax.nn.gelu,
    "softplus": jax.nn.softplus,
}
INITS = ("default", "glorot")


class Network(eqx.Module):
    """x ↦ W_L σ(… σ(W_1 x + b_1) …) + b_L, a scalar output (or ``n_out`` outputs) for each
    row of x.

    ``init``: "default" is Equinox's (uniform ±1/√fan_in); "glorot" draws every weight from
    the Glorot (Xavier) uniform distribution with zero biases, as the shot-put lecture does.
    """

    layers: tuple[eqx.nn.Linear, ...]
    activation: str = eqx.field(static=True)
    n_out: int = eqx.field(static=True)

    def __init__(self, n_in: int, widths, activation: str, init: str, key, dtype=jnp.float64, n_out: int = 1):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation = {activation!r}: must be one of {sorted(ACTIVATIONS)}")
        if init not in INITS:
            raise ValueError(f"init = {init!r}: must be one of {INITS}")
        self.layers = _initial_layers((n_in, *widths, n_out), init, key, dtype)
        self.activation = activation
        self.n_out = n_out

    def zero_last(self) -> Network:
        """This network with a zero last layer: it starts as the constant 0 (so a hybrid's
        correction starts at the prior)."""
        last = self.layers[-1]
        return eqx.tree_at(lambda n: (n.layers[-1].weight, n.layers[-1].bias), self,
                           (jnp.zeros_like(last.weight), jnp.zeros_like(last.bias)))

    def features(self, x):
        """The last hidden layer's activations (n, width) for inputs x (n, n_in): the outputs
        are an affine map of them (the last layer)."""
        sigma = ACTIVATIONS[self.activation]
        for layer in self.layers[:-1]:
            x = sigma(x @ layer.weight.T + layer.bias)
        return x

    def __call__(self, x):
        """Outputs (n,) for inputs x (n, n_in); (n, n_out) when n_out > 1."""
        last = self.layers[-1]
        out = self.features(x) @ last.weight.T + last.bias
        return out[:, 0] if self.n_out == 1 else out


@eqx.filter_jit
def _initial_layers(sizes: tuple[int, ...], init: str, key, dtype) -> tuple[eqx.nn.Linear, ...]:
    """The layers of a network of these ``sizes`` (inputs, widths, outputs), drawn from ``key``:
    compiled as one program per architecture (eagerly, each layer's draws compiled several small
    programs of their own, a fresh process's largest cost in building a network)."""
    keys = jax.random.split(key, len(sizes) - 1)
    layers = [eqx.nn.Linear(a, b, key=k, dtype=dtype) for a, b, k in zip(sizes[:-1], sizes[1:], keys)]
    if init == "glorot":
        glorot = jax.nn.initializers.glorot_uniform()
        layers = [
            eqx.tree_at(lambda l: (l.weight, l.bias), layer,
                        (glorot(k, layer.weight.shape, dtype), jnp.zeros_like(layer.bias)))
            for layer, k in zip(layers, jax.random.split(keys[0], len(layers)))
        ]
    return tuple(layers)
