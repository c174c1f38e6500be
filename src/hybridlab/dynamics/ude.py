"""The universal differential equation: Newton's law and gravity known, the drag learned."""

from __future__ import annotations

import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.data import Tracks
from hybridlab.dynamics import motion
from hybridlab.dynamics.base import Dynamics
from hybridlab.models import training
from hybridlab.models.network import Network
from hybridlab.physics import Projectile
from hybridlab.physics.drag import speed_of

#: The drag network's starting magnitude, as a fraction of g at every speed: small, so that
#: the first solves are near free flight, and not 0, where softplus has no gradient to speak of.
_START = 0.05


class NetworkDrag(eqx.Module):
    """a(v) = −g · softplus(N(|v|/V)) · v/|v| (0 at rest): a drag acceleration (m/s²) along −v̂
    whose magnitude, a network N of the speed in units of V (m/s), is ≥ 0 — it can only take
    energy out of the motion."""

    network: Network
    speed_scale: jax.Array
    g: jax.Array

    def magnitude(self, speed):
        """|a| (m/s²) at speeds (n,) in m/s."""
        return self.g * jax.nn.softplus(self.network((speed / self.speed_scale)[:, None]))

    def __call__(self, v):
        speed = speed_of(v[0], v[-1]) if v.shape[0] == 2 else jnp.abs(v[0])
        moving = speed > 0
        direction = v / jnp.where(moving, speed, 1.0)
        return -self.magnitude(speed[None])[0] * jnp.where(moving, direction, 0.0)


class UDE(Dynamics):
    """ds/dt = (v, a(v) − g ŷ) with g known (``physics``: a Projectile or its spec; its drag is
    not used, its mass turns the learned acceleration into a force) and a(v) a
    :class:`NetworkDrag` (hidden ``widths``, ``activation``), trained with every track's
    starting state through Diffrax (Tsit5 at ``rtol``, reverse mode) on the mean squared
    position error: Adam (``epochs``, ``learning_rate``, cosine-decayed), then ``polish``
    L-BFGS steps. The speed unit V is the fastest starting speed of the data."""

    name = "ude"
    fitted_arrays = ("network", "starts")
    fitted_facts = ("tracks", "t0", "speed_scale", "train_mse", "epochs_run", "seconds")

    def __init__(self, physics=None, widths=(32, 32), activation="softplus", epochs=500, learning_rate=1e-2,
                 polish=0, rtol=1e-6, seed=0):
        start = physics if isinstance(physics, Projectile) else Projectile.from_spec(physics or {})
        self.physics = start.to_spec()
        self.widths, self.activation = tuple(int(w) for w in widths), activation
        Network(1, self.widths, activation, "default", jax.random.key(0))  # checks the activation
        for name, value, low in (("epochs", epochs, 1), ("polish", polish, 0)):
            if int(value) != value or value < low:
                raise ValueError(f"{name} = {value!r}: must be an integer >= {low}")
        if not (np.isfinite(learning_rate) and learning_rate > 0):
            raise ValueError(f"learning_rate = {learning_rate!r}: must be finite and > 0")
        if not (0 < rtol < 1):
            raise ValueError(f"rtol = {rtol!r}: must lie in (0, 1)")
        self.epochs, self.learning_rate, self.polish = int(epochs), float(learning_rate), int(polish)
        self.rtol, self.seed = float(rtol), int(seed)

    def projectile(self) -> Projectile:
        return Projectile.from_spec(self.physics)

    def drag(self) -> NetworkDrag:
        """The fitted drag acceleration."""
        return NetworkDrag(self.network_, jnp.asarray(self.speed_scale_), self.projectile().g)

    def field(self):
        return motion.Newton(self.drag(), self.projectile().g)

    def force(self, speed) -> np.ndarray:
        """The learned drag force magnitude m·|a| (N) at ``speed`` (m/s)."""
        self._check_fitted()
        speed = jnp.asarray(np.atleast_1d(np.asarray(speed, dtype=np.float64)))
        return np.asarray(self.projectile().mass * self.drag().magnitude(speed))

    def _fit(self, tracks: Tracks, progress):
        guess = jnp.asarray(motion.starting_states(tracks))
        self.speed_scale_ = float(np.max(np.linalg.norm(np.asarray(guess)[:, tracks.dim:], axis=1))) or 1.0
        network = Network(1, self.widths, self.activation, "default", jax.random.key(self.seed)).zero_last()
        network = eqx.tree_at(lambda n: n.layers[-1].bias, network, jnp.full(1, np.log(np.expm1(_START))))
        g = self.projectile().g
        ts, position, mask = motion.padded(tracks)
        data = (ts, position, mask, guess, jnp.asarray(self.speed_scale_), g, jnp.asarray(self.rtol))
        params = (network, jnp.zeros_like(guess))
        optimiser = training.optimiser("adam", self.learning_rate, "cosine", self.epochs)
        task = progress.task("ude", self.epochs)
        clock = time.perf_counter()
        params, self.epochs_run_ = training.first_order(params, _loss, data, None, optimiser, self.epochs, None, task)
        task.close()
        if self.polish:
            params = training.lbfgs(params, _loss, data, self.polish)
        self.seconds_ = time.perf_counter() - clock
        self.network_, shift = params
        self.starts_ = guess + shift
        self.train_mse_ = float(training.evaluate(_loss, params, data))

    def _arrays_like(self):
        network = Network(1, self.widths, self.activation, "default", jax.random.key(0))
        return {"network": network, "starts": jnp.zeros((len(self.tracks_), 2 * self.n_features_))}

    def summary(self):
        out = super().summary()
        out["formula"] = "m dv/dt = −m g ŷ − F(|v|) v̂, F a network"
        out["diagnostics"] = {"train_mse": self.train_mse_, "epochs_run": self.epochs_run_, "seconds": self.seconds_}
        return out


def _loss(params, data):
    """Mean squared position error (m², per observed coordinate)."""
    network, shift = params
    ts, position, mask, guess, speed_scale, g, rtol = data
    field = motion.Newton(NetworkDrag(network, speed_scale, g), g)
    states = motion.solve_tracks(field, guess + shift, ts, rtol)
    dim = position.shape[-1]
    error = jnp.where(mask[..., None], states[..., :dim] - position, 0.0)
    return jnp.sum(error**2) / (jnp.sum(mask) * dim)
