"""Networks inside the equations of motion: the universal differential equation (Newton's law
and gravity known, the drag learned) and the neural ODE (the whole vector field learned)."""

from __future__ import annotations

import abc
import time
from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from hybridlab.data import Tracks
from hybridlab.dynamics import motion
from hybridlab.physics import newton
from hybridlab.dynamics.base import Dynamics
from hybridlab.networks import training
from hybridlab.estimators.params import BATCH_SIZE, EPOCHS, PHYSICS, RATE, SEED, STEPS, TOLERANCE, WIDTHS, OneOf
from hybridlab.networks.drag import FORMS, NetworkDrag, drag_network
from hybridlab.networks.network import ACTIVATIONS, Network
from hybridlab.physics import Projectile
from hybridlab.uncertainty import intervals

#: The most tracks one training step solves by default: beyond it an epoch is a pass over
#: shuffled mini-batches of this many tracks (a reverse-mode solve keeps its checkpoints for
#: every track of the batch).
BATCH_TRACKS = 1024
#: The starting states are trained as corrections to their data estimate in units of 0.1 m and
#: 0.1 m/s: Adam moves every parameter by about its learning rate per step, which in plain
#: units would shake the starts by centimetres per step, more than the noise of the data.
_START_UNIT = 0.1


class NetworkField(eqx.Module):
    """ds/dt = N(x/L, v/V) · (V, g): the whole vector field a network N of the state in units
    of a length L (m) and a speed V (m/s), its outputs in units of V (for dx/dt) and g (dv/dt).

    Called on a state s (2·dim,) — positions (m) then velocities (m/s) — it returns ds/dt
    (2·dim,): velocities (m/s) then accelerations (m/s²).

    Attributes
    ----------
    network : Network
        N, of 2·dim inputs and 2·dim outputs.
    length_scale : jax.Array
        The length unit L in m.
    speed_scale : jax.Array
        The speed unit V in m/s.
    g : jax.Array
        Gravitational acceleration in m/s²: the unit of dv/dt.
    """

    network: Network
    length_scale: jax.Array
    speed_scale: jax.Array
    g: jax.Array

    def __call__(self, s):
        dim = s.shape[0] // 2
        z = jnp.concatenate([s[:dim] / self.length_scale, s[dim:] / self.speed_scale])
        out = self.network(z[None])[0]
        return jnp.concatenate([out[:dim] * self.speed_scale, out[dim:] * self.g])


def _ude_field(network, scales):
    """The UDE's field from its network and (V, L, g), the drag's magnitude of softplus form."""
    speed, _, g = scales
    return newton.Newton(NetworkDrag(network, speed, g), g)


def _ude_power_field(network, scales):
    """The UDE's field, the drag's magnitude of power form (see :class:`NetworkDrag`)."""
    speed, _, g = scales
    return newton.Newton(NetworkDrag(network, speed, g, "power"), g)


def _neural_field(network, scales):
    """The neural ODE's field from its network and (V, L, g)."""
    speed, length, g = scales
    return NetworkField(network, length, speed, g)


class LastLayerField(eqx.Module):
    """θ ↦ the vector field ``build(network, scales)`` with the network's last layer (weight,
    bias) set to θ (flat)."""

    network: eqx.Module
    scales: tuple
    build: Callable = eqx.field(static=True)

    def __call__(self, theta):
        _, unravel = ravel_pytree(intervals.last_layer(self.network))
        return self.build(eqx.tree_at(intervals.last_layer, self.network, unravel(theta)), self.scales)


class _NetworkDynamics(Dynamics):
    """A vector field with a network in it, trained with every track's starting state through
    Diffrax (Tsit5 at ``rtol``, reverse mode) on the mean squared position error: Adam
    (``epochs``, ``learning_rate``, cosine-decayed; full-batch up to ``batch_size`` tracks,
    default :data:`BATCH_TRACKS`, and beyond it each epoch a pass over shuffled mini-batches of that
    many tracks, from ``seed``), then up to ``polish`` full-batch L-BFGS steps. Its
    predictive interval: the delta method in the network's last layer and the starting states
    (a last-layer Laplace approximation with a flat prior; see :class:`Dynamics`). The units:
    V (m/s) the fastest starting speed of the data, L (m) the largest distance of a position
    from the first track's start. ``physics`` (a Projectile or its spec) gives g (m/s²) and the
    mass (kg)."""

    fitted_arrays = ("network", "starts")
    fitted_facts = ("tracks", "t0", "scales", "initial_mse", "train_mse", "epochs_run", "seconds")
    #: The module-level function (network, (V, L, g)) ↦ vector field (a subclass's).
    build: ClassVar[Callable]

    constraints = {"physics": PHYSICS, "widths": WIDTHS, "activation": OneOf(tuple(ACTIVATIONS)), "epochs": EPOCHS,
                   "learning_rate": RATE, "polish": STEPS, "rtol": TOLERANCE, "seed": SEED, "batch_size": BATCH_SIZE}

    def __init__(self, physics=None, *, widths=(32, 32), activation="softplus", epochs=500, learning_rate=1e-2,
                 polish=0, rtol=1e-6, seed=0, batch_size=None):
        self.physics, self.widths, self.activation, self.epochs = physics, widths, activation, epochs
        self.learning_rate, self.polish, self.rtol, self.seed, self.batch_size = learning_rate, polish, rtol, seed, batch_size
        self.check_params()

    def _check_together(self) -> None:
        self.projectile()

    def projectile(self) -> Projectile:
        """The Projectile of ``physics`` (its g and mass)."""
        return self.physics if isinstance(self.physics, Projectile) else Projectile.from_spec(self.physics or {})

    def _scales(self):
        speed, length = self.scales_
        return jnp.asarray(speed), jnp.asarray(length), self.projectile().g

    def _build(self) -> Callable:
        """The module-level function (network, (V, L, g)) ↦ vector field."""
        return type(self).build

    interval_method = intervals.LAST_LAYER + " and the starting states"

    def field(self):
        return self._build()(self.network_, self._scales())

    def parametrised(self):
        theta, _ = ravel_pytree(intervals.last_layer(self.network_))
        return theta, LastLayerField(self.network_, self._scales(), self._build())

    @abc.abstractmethod
    def _network(self, dim: int, key) -> Network:
        """The untrained network for states of ``dim`` position components."""

    def _fit(self, tracks: Tracks, progress):
        guess = jnp.asarray(motion.starting_states(tracks))
        starts = np.asarray(guess)
        speed = float(np.max(np.linalg.norm(starts[:, tracks.dim:], axis=1))) or 1.0
        length = float(np.max(np.linalg.norm(tracks.position - starts[0, :tracks.dim], axis=1))) or 1.0
        self.scales_ = [speed, length]
        ts, position, mask = motion.padded(tracks)
        loss = TrackLoss(self._build(), self._scales(), jnp.asarray(self.rtol))
        data = (ts, position, mask, guess, jnp.arange(len(tracks)))
        params = (self._network(tracks.dim, jax.random.key(self.seed)), jnp.zeros_like(guess))
        task = progress.task(self.name, self.epochs)
        clock = time.perf_counter()
        # The losses from the training's own program: a forward-only one would be compiled as well.
        self.initial_mse_ = float(training.value_and_grad(loss, params, data, solves=True)[0])
        params, self.epochs_run_ = training.adam_then_lbfgs(params, loss, data, self.learning_rate, self.epochs,
                                                           self.polish, task, self.batch_size or BATCH_TRACKS, self.seed)
        task.close()
        self.seconds_ = time.perf_counter() - clock
        self.network_, shift = params
        self.starts_ = guess + _START_UNIT * shift
        self.train_mse_ = float(training.value_and_grad(loss, params, data, solves=True)[0])

    def _check_fit(self, tracks: Tracks) -> None:
        """ValueError where the training diverged: a loss that is not finite at the end (Adam's
        steps can leave every finite point; the model would predict NaN or inf everywhere)."""
        if not np.isfinite(self.train_mse_):
            raise ValueError(f"the {self.name} training diverged (its loss became {self.train_mse_}); try a smaller "
                             f"learning_rate than {self.learning_rate:g}")

    def _arrays_like(self):
        return {"network": self._network(self.n_features_, jax.random.key(0)),
                "starts": jnp.zeros((len(self.tracks_), 2 * self.n_features_))}

    def summary(self):
        out = super().summary()
        out["diagnostics"] = {"initial_mse": self.initial_mse_, "train_mse": self.train_mse_,
                              "epochs_run": self.epochs_run_, "seconds": self.seconds_}
        return out


class UDE(_NetworkDynamics):
    """The universal differential equation: ds/dt = (v, a(v) − g ŷ) with g known and the drag
    a(v) a :class:`NetworkDrag` — a network of the speed (hidden ``widths``, ``activation``)
    for a magnitude ≥ 0 along −v̂, of ``form`` softplus or power. :meth:`force` reads the
    learned law back as m·|a| (N).

    Trained as every network in the equations here: with every track's starting state, through Diffrax
    (Tsit5 at ``rtol``, reverse mode), on the mean squared position error: Adam (cosine-decayed), then
    up to ``polish`` full-batch L-BFGS steps. Units: V (m/s) the fastest starting speed of the data, L (m) the
    largest distance of a position from the first track's start.

    Parameters
    ----------
    physics : Projectile or dict or None
        Gives g (m/s²) and the mass (kg); None: ``Projectile()``.
    widths : sequence of int
        Hidden layer widths, each ≥ 1.
    activation : str
        One of ``"tanh"``, ``"sigmoid"``, ``"relu"``, ``"gelu"``, ``"softplus"``.
    form : str
        The drag magnitude's form: ``"softplus"`` or ``"power"``.
    epochs : int
        Adam epochs, ≥ 1.
    learning_rate : float
        Adam's initial step size, finite and > 0.
    polish : int
        The most full-batch L-BFGS steps after Adam (it stops sooner where the loss is flat to rounding), ≥ 0.
    rtol : float
        Relative tolerance of the solves, in (0, 1).
    seed : int
        Seed of the initialisation and the mini-batches, in [0, 2**63 − 1].
    batch_size : int or None
        Tracks per mini-batch, ≥ 1; None: 1024.

    Attributes
    ----------
    network_ : Network
        The trained network.
    starts_ : jax.Array
        Fitted starting state of each track at its first time, shape (m, 2·dim): positions (m), velocities (m/s).
    tracks_ : list of str
        The fitted tracks' names, in order.
    t0_ : list of float
        Each track's first observation time in s.
    scales_ : list of float
        [V, L]: the speed unit in m/s and the length unit in m.
    initial_mse_ : float
        Training loss (mean squared position error, m²) at the start.
    train_mse_ : float
        Training loss (m²) at the end.
    epochs_run_ : int
        Adam epochs run.
    seconds_ : float
        Training time in s.

    Raises
    ------
    ValueError
        If a hyperparameter breaks its constraint or ``physics`` is not a valid projectile.
    """

    name = "ude-tracks"
    build = staticmethod(_ude_field)

    constraints = {**_NetworkDynamics.constraints, "form": OneOf(FORMS)}

    def __init__(self, physics=None, *, widths=(32, 32), activation="softplus", form="softplus", epochs=500,
                 learning_rate=1e-2, polish=0, rtol=1e-6, seed=0, batch_size=None):
        self.form = form
        super().__init__(physics, widths=widths, activation=activation, epochs=epochs, learning_rate=learning_rate,
                         polish=polish, rtol=rtol, seed=seed, batch_size=batch_size)

    def _build(self):
        return _ude_power_field if self.form == "power" else _ude_field

    def _network(self, dim, key):
        return drag_network(tuple(self.widths), self.activation, key, self.form)

    def drag(self) -> NetworkDrag:
        """The fitted drag acceleration.

        Returns
        -------
        drag : NetworkDrag
            a(v) in m/s², a callable module of the velocity (m/s).
        """
        return self.field().drag

    def force(self, speed) -> np.ndarray:
        """The learned drag force magnitude m·|a| (N) at ``speed`` (m/s).

        Parameters
        ----------
        speed : array_like
            Speeds in m/s, a scalar or shape (n,).

        Returns
        -------
        force : numpy.ndarray
            m·|a| in N, shape (n,) (1 for a scalar).

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        self._check_fitted()
        speed = jnp.asarray(np.atleast_1d(np.asarray(speed, dtype=np.float64)))
        return np.asarray(self.projectile().mass * self.drag().magnitude(speed))

    def summary(self):
        """Facts about the fitted model (see ``Estimator.summary``), with the training's diagnostics.

        Returns
        -------
        summary : dict
            ``formula`` and ``diagnostics`` (``initial_mse`` and ``train_mse`` in m², ``epochs_run``,
            ``seconds``), besides the common keys.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        out = super().summary()
        out["formula"] = "m dv/dt = −m g ŷ − F(|v|) v̂, F ≥ 0 a network"
        return out


class NeuralODE(_NetworkDynamics):
    """The black box: ds/dt = :class:`NetworkField`, the whole vector field a network of the
    state (hidden ``widths``, ``activation``; it starts at ds/dt = 0). Knows no physics: g
    and the mass only set its units.

    Trained as the UDE is (see ``UDE``): with every track's starting state, through Diffrax, Adam then L-BFGS;
    units V (m/s) and L (m) from the data.

    Parameters
    ----------
    physics : Projectile or dict or None
        Gives g (m/s²) and the mass (kg); None: ``Projectile()``.
    widths : sequence of int
        Hidden layer widths, each ≥ 1.
    activation : str
        One of ``"tanh"``, ``"sigmoid"``, ``"relu"``, ``"gelu"``, ``"softplus"``.
    epochs : int
        Adam epochs, ≥ 1.
    learning_rate : float
        Adam's initial step size, finite and > 0.
    polish : int
        The most full-batch L-BFGS steps after Adam (it stops sooner where the loss is flat to rounding), ≥ 0.
    rtol : float
        Relative tolerance of the solves, in (0, 1).
    seed : int
        Seed of the initialisation and the mini-batches, in [0, 2**63 − 1].
    batch_size : int or None
        Tracks per mini-batch, ≥ 1; None: 1024.

    Attributes
    ----------
    network_ : Network
        The trained network.
    starts_ : jax.Array
        Fitted starting state of each track at its first time, shape (m, 2·dim): positions (m), velocities (m/s).
    tracks_ : list of str
        The fitted tracks' names, in order.
    t0_ : list of float
        Each track's first observation time in s.
    scales_ : list of float
        [V, L]: the speed unit in m/s and the length unit in m.
    initial_mse_ : float
        Training loss (mean squared position error, m²) at the start.
    train_mse_ : float
        Training loss (m²) at the end.
    epochs_run_ : int
        Adam epochs run.
    seconds_ : float
        Training time in s.

    Raises
    ------
    ValueError
        If a hyperparameter breaks its constraint or ``physics`` is not a valid projectile.
    """

    name = "neural-ode"
    build = staticmethod(_neural_field)

    def _network(self, dim, key):
        return Network(2 * dim, tuple(self.widths), self.activation, "default", key, n_out=2 * dim).zero_last()

    def summary(self):
        """Facts about the fitted model (see ``Estimator.summary``), with the training's diagnostics.

        Returns
        -------
        summary : dict
            ``formula`` and ``diagnostics`` (``initial_mse`` and ``train_mse`` in m², ``epochs_run``,
            ``seconds``), besides the common keys.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        out = super().summary()
        out["formula"] = "ds/dt = N(s), N a network"
        return out


class TrackLoss(eqx.Module):
    """The training loss of a network in the field ``build(network, scales)``: the mean squared
    position error (m², per observed coordinate) of a batch of tracks — data (times (b, P),
    positions (b, P, dim), mask (b, P), starting guesses (b, 2·dim), the tracks' indices (b,))
    — each solved (tolerance ``rtol``) from its guess moved by its own fitted shift."""

    build: Callable = eqx.field(static=True)
    scales: tuple
    rtol: jax.Array

    def __call__(self, params, data):
        network, shift = params
        ts, position, mask, guess, index = data
        states = newton.solve_tracks(self.build(network, self.scales), guess + _START_UNIT * shift[index], ts, self.rtol)
        dim = position.shape[-1]
        error = jnp.where(mask[..., None], states[..., :dim] - position, 0.0)
        return jnp.sum(error**2) / (jnp.sum(mask) * dim)
