"""The learned inverse: an encoder P(d) → (v, θ) trained through a frozen decoder D(v, θ).

The hybrid-ML lecture's route to aiming: a decoder that predicts the range of a launch (a
network fitted on data, or the physics itself) is frozen, and an encoder network is trained so
that the decoder's range of the encoder's launch is the target, with the loss
(D(P(d)) − d)². The inverse is not unique (every target has a curve of launches), so a branch
penalty says which launch to learn; :func:`evaluate_aim` checks the learned launches against
the true physics and the exact least-speed shot.
"""

from __future__ import annotations

import functools
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.estimators import from_params, restore
from hybridlab.estimators.params import EPOCHS, RATE, SEED, STEPS, Check, Integer, OneOf, Optional, Real, Span
from hybridlab.inverse.aiming import aim
from hybridlab.models.base import Regressor, Scaler
from hybridlab.networks import training
from hybridlab.networks.network import Network
from hybridlab.networks.progress import QUIET
from hybridlab.physics import Projectile
from hybridlab.physics.batching import in_blocks
from hybridlab.physics.constants import STANDARD_GRAVITY

BRANCHES = ("least-speed", "low-arc", "high-arc", "none")
#: The angle step (rad) of the central difference ∂D/∂θ ≈ (D(θ + h) − D(θ − h))/2h of the
#: branch penalties: exact for a quadratic D(θ), so the least-speed shot, where ∂D/∂θ = 0, is
#: still a zero of the penalty; and it needs only the decoder's own (reverse-mode) gradient.
ANGLE_STEP = 1e-3


class PhysicsDecoder(eqx.Module):
    """The range of a projectile as a decoder: X (n, 2) of speed (m/s) and angle (rad) ↦ D (m).

    Called on X (n, 2), it returns the ranges (n,) in m (:meth:`Projectile.range`).

    Attributes
    ----------
    projectile : Projectile
        The physics whose range is the decoder.
    """

    projectile: Projectile

    def __call__(self, X):
        return self.projectile.range(X[:, 0], X[:, 1])


def _decoder_model(decoder):
    """``decoder`` as a rung (a record's: unfitted until its arrays are read) or a Projectile."""
    if decoder is None:
        return Projectile()
    if isinstance(decoder, (Regressor, Projectile)):
        return decoder
    if isinstance(decoder, dict):
        return from_params(decoder) if "model" in decoder else Projectile.from_spec(decoder)
    raise ValueError("must be a fitted differentiable model or a Projectile")


def _check_decoder(decoder) -> None:
    """ValueError unless ``decoder`` is a fitted differentiable rung (or its record, as saved),
    a Projectile, its spec or None."""
    model = _decoder_model(decoder)
    if isinstance(decoder, Regressor):
        model.as_function()  # ValueError for an unfitted or a non-differentiable rung


class EncoderDecoder(Regressor, rung=False):
    """P(d) = (v, θ): the launch that a frozen ``decoder`` D says lands at the target distance d
    (m, from the launch point, at the launch height's ground), learned by an encoder network.

    The encoder is a tanh network of ``depth`` hidden layers of ``width`` on the standardised
    target; its outputs map to a speed v = v₀·e^a (v₀ = √(g·median d)), or into ``speeds`` =
    (lo, hi) m/s by a sigmoid, and to an angle in ``angles`` = (lo, hi) rad (default (0, π/2))
    by a sigmoid; with ``speed`` given, every launch has that speed and the encoder learns the
    angle only. It minimises, with Adam (a cosine-decayed ``learning_rate``) for ``epochs``
    full-batch epochs and then ``polish`` steps of L-BFGS,

        L = mean(((D(P(d)) − d)/d)²) + penalty·mean(B(s)²),   s = (∂D/∂θ)(P(d)) / d,

    where the branch term B selects which of the many launches that land at d is learned:

    - ``"least-speed"`` (needs ``speed`` None): B(s) = s. Both terms vanish only where
      D = d and ∂D/∂θ = 0, i.e. at the decoder's optimal angle for the least speed that
      reaches d: it converges to the least-speed shot of the decoder's physics.
    - ``"low-arc"`` / ``"high-arc"`` (need ``speed``): B(s) = max(−s, 0) / max(s, 0): zero
      on the rising (low) or falling (high) side of D(θ) at that speed, so it converges to the
      low or the high arc; to the maximum-range angle where d is beyond the speed's reach.
    - ``"none"``: no penalty, the lecture's loss: it converges to whichever point of the
      solution curve the initialisation leads to (a different one from seed to seed).

    ``decoder``: a fitted differentiable rung of the ladder (its :meth:`~Regressor.as_function`;
    X columns speed and angle in rad), a fitted ``PhysicsFit``, or a ``Projectile`` (or its
    spec): the physics itself. It is frozen, and saved with the encoder. ``predict(d)`` returns
    (n, 2): speed (m/s), angle (rad), for target distances d (m, finite and > 0, flattened to
    (n,)). The encoder has no predictive interval: ``return_std`` (and so ``predict_interval``)
    is a ValueError that says so.

    Parameters
    ----------
    decoder : Regressor or Projectile or dict or None
        The frozen decoder D (m) of (speed m/s, angle rad): a fitted differentiable rung, a Projectile or its
        spec (a rung's record only as saved with the encoder); None: ``Projectile()``.
    branch : str
        ``"least-speed"``, ``"low-arc"``, ``"high-arc"`` or ``"none"``.
    speed : float or None
        A fixed launch speed in m/s, > 0 (needed by the arcs, refused by ``"least-speed"``).
    speeds : tuple of float or None
        (lo, hi) bounds of the learned speed in m/s, 0 ≤ lo < hi; None: v₀·e^a, unbounded.
    angles : tuple of float
        (lo, hi) bounds of the learned angle in rad, −π/2 ≤ lo < hi ≤ π/2.
    penalty : float
        Weight of the branch term, finite and ≥ 0.
    width : int
        Width of each hidden layer, ≥ 1.
    depth : int
        Number of hidden layers, ≥ 1.
    epochs : int
        Adam epochs, ≥ 1.
    learning_rate : float
        Adam's initial step size, finite and > 0.
    polish : int
        The most L-BFGS steps after Adam (it stops sooner where the loss is flat to rounding), ≥ 0.
    seed : int
        Seed of the encoder's initialisation, in [0, 2**63 − 1].

    Attributes
    ----------
    scaler_ : Scaler
        Mean and standard deviation of the training distances (m).
    encoder_ : Network
        The trained encoder.
    decoder_ : dict or None
        The decoder rung's fitted arrays (None for a Projectile).
    decoder_record_ : dict or None
        The decoder rung's record (None for a Projectile).
    speed_scale_ : float
        v₀ = √(g·median d) in m/s.
    train_loss_ : float
        Final training loss L (dimensionless).
    epochs_run_ : int
        Adam epochs run.
    seconds_ : float
        Training time in s.

    Raises
    ------
    ValueError
        If a hyperparameter breaks its constraint, ``decoder`` is an unfitted or non-differentiable rung,
        ``speed`` is given to ``"least-speed"`` or missing for an arc.
    """

    name = "encoder-decoder"
    fitted_arrays = ("scaler", "encoder", "decoder")
    fitted_facts = ("decoder_record", "speed_scale", "train_loss", "epochs_run", "seconds")

    constraints = {"decoder": Check(_check_decoder, "a fitted differentiable model or a Projectile"),
                   "branch": OneOf(BRANCHES), "speed": Optional(Real(0.0, open=True)),
                   "speeds": Optional(Span(0.0, np.inf)), "angles": Span(-np.pi / 2, np.pi / 2), "penalty": Real(0.0),
                   "width": Integer(1), "depth": Integer(1), "epochs": EPOCHS, "learning_rate": RATE,
                   "polish": STEPS, "seed": SEED}

    def __init__(self, decoder=None, *, branch="least-speed", speed=None, speeds=None, angles=(0.0, np.pi / 2),
                 penalty=1.0, width=32, depth=2, epochs=3000, learning_rate=1e-2, polish=500, seed=0):
        self.decoder, self.branch, self.speed, self.speeds, self.angles = decoder, branch, speed, speeds, angles
        self.penalty, self.width, self.depth, self.epochs = penalty, width, depth, epochs
        self.learning_rate, self.polish, self.seed = learning_rate, polish, seed
        self.check_params()

    def _check_together(self) -> None:
        if self.branch == "least-speed" and self.speed is not None:
            raise ValueError("speed: the least-speed branch learns the speed; give no speed")
        if self.branch in ("low-arc", "high-arc") and self.speed is None:
            raise ValueError(f"speed: the {self.branch} branch needs the launch speed (m/s)")

    # The contract ----------------------------------------------------------------------------
    def fit(self, distances, progress=QUIET, context=None) -> EncoderDecoder:
        """Train the encoder on target ``distances`` (m, > 0; a vector); returns self.

        Parameters
        ----------
        distances : array_like
            Target distances in m, finite and > 0, n ≥ 1 (flattened to (n,)).
        progress : ProgressMeter
            Shows the epochs; quiet by default.
        context : dict, optional
            JSON-able facts about the data, kept as ``context_``.

        Returns
        -------
        self : EncoderDecoder
            The fitted model.

        Raises
        ------
        ValueError
            If a distance is not finite and > 0, there is none, a hyperparameter breaks its constraint,
            ``decoder`` is a record of an unfitted rung or a rung not fitted on 2 inputs.
        """
        def check():
            d = _distances(distances)
            return (d[:, None], d), 1, {} if context is None else context, {}

        return self._fit_checked(check, progress)

    def _checked(self, distances) -> tuple:
        return super()._checked(_distances(distances)[:, None])

    def _fit(self, X, y, progress):
        if isinstance(self.decoder, dict) and "model" in self.decoder:
            raise ValueError(f"decoder = {self.decoder['model']!r}: a record names an unfitted model; give the "
                             "fitted model (or load the saved encoder-decoder, which holds it)")
        if isinstance(self.decoder, Regressor) and self.decoder.n_features_ != 2:
            raise ValueError(f"decoder: fitted on {self.decoder.n_features_} inputs; it must take speed and angle")
        self.scaler_ = Scaler.fit(y)
        # The speed scale √(g·d) of the targets, at standard gravity (the encoder knows no physics).
        self.speed_scale_ = float(np.sqrt(STANDARD_GRAVITY * np.median(y)))
        self.decoder_ = self._decoder_arrays()
        self.encoder_ = self._new_encoder(jax.random.key(self.seed))
        data = (self.scaler_.forward(jnp.asarray(y)), jnp.asarray(y), self._launch_map(), self._decoder_function(),
                jnp.asarray(self.penalty))
        loss = _loss(self.branch)
        optimiser = training.optimiser("adam", self.learning_rate, "cosine", self.epochs)
        task = progress.task(self.name, self.epochs)
        start = time.perf_counter()
        self.encoder_, self.epochs_run_ = training.first_order(self.encoder_, loss, data, None, optimiser,
                                                               self.epochs, None, task)
        if self.polish:
            self.encoder_ = training.lbfgs(self.encoder_, loss, data, self.polish)
        task.close()
        self.seconds_ = time.perf_counter() - start
        self.train_loss_ = float(training.evaluate(loss, self.encoder_, data))
        self.decoder_record_ = self.decoder.record() if isinstance(self.decoder, Regressor) else None

    def _predict(self, X):
        z = self.scaler_.forward(jnp.asarray(X[:, 0]))
        return self._launch_map()(self.encoder_, z)

    # Parts -----------------------------------------------------------------------------------
    def _new_encoder(self, key) -> Network:
        return Network(1, (self.width,) * self.depth, "tanh", "default", key, n_out=1 if self.speed is not None else 2)

    def _launch_map(self) -> LaunchMap:
        speeds = (np.nan, np.nan) if self.speeds is None else self.speeds
        fixed = np.nan if self.speed is None else self.speed
        return LaunchMap(jnp.asarray(speeds), jnp.asarray(self.angles), jnp.asarray(fixed),
                         jnp.asarray(self.speed_scale_), self.speed is not None, self.speeds is not None)

    def _decoder_arrays(self):
        return self.decoder._arrays() if isinstance(self.decoder, Regressor) else None

    def _decoder_function(self):
        if isinstance(self.decoder, Regressor):
            return self.decoder.as_function()
        return PhysicsDecoder(self.decoder_model())

    def decoder_model(self):
        """The frozen decoder: the fitted rung, or the Projectile (``Projectile()`` when
        ``decoder`` is None).

        Returns
        -------
        decoder : Regressor or Projectile
            The rung, or the Projectile ``decoder`` gives or describes.

        Raises
        ------
        ValueError
            If ``decoder`` is not one of the accepted kinds.
        """
        return _decoder_model(self.decoder)

    # Persistence: the fitted decoder travels inside the encoder's record and arrays -------------
    def _arrays_like(self):
        decoder = self.decoder._saved_like() if isinstance(self.decoder, Regressor) else None
        return {"scaler": Scaler.like(None), "encoder": self._new_encoder(jax.random.key(0)), "decoder": decoder}

    def _set_arrays(self, arrays):
        super()._set_arrays(arrays)
        if isinstance(self.decoder, Regressor):
            self.decoder._set_arrays(arrays["decoder"])

    def _set_metadata(self, metadata):
        super()._set_metadata(metadata)
        if self.decoder_record_ is not None:
            self.decoder = restore(self.decoder_record_)

    def n_params(self) -> int:
        """The encoder's weights and biases (the frozen decoder's are not fitted here).

        Returns
        -------
        n : int
            The count.
        """
        return int(sum(np.size(leaf) for leaf in jax.tree.leaves(self.encoder_)))

    def summary(self):
        """Facts about the fitted model (see ``Estimator.summary``), with the decoder and the training.

        Returns
        -------
        summary : dict
            ``decoder`` (a rung's name or the projectile in words), ``formula`` and ``diagnostics``
            (``train_loss``, ``epochs_run``, ``seconds``), besides the common keys.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        out = super().summary()
        decoder = self.decoder_model()
        out["decoder"] = decoder.name if isinstance(decoder, Regressor) else decoder.label()
        out["formula"] = f"P(d) = (v, θ) through the frozen decoder {out['decoder']}, branch {self.branch}"
        out["diagnostics"] = {"train_loss": self.train_loss_, "epochs_run": self.epochs_run_,
                              "seconds": self.seconds_}
        return out


class LaunchMap(eqx.Module):
    """The encoder's raw outputs (a, b) ↦ a launch (v m/s, θ rad), inside the allowed ranges:
    θ = lo + (hi − lo)·σ(b); v = the fixed speed, or lo + (hi − lo)·σ(a), or v₀·e^a."""

    speeds: jax.Array
    angles: jax.Array
    fixed: jax.Array
    speed_scale: jax.Array
    fixed_speed: bool = eqx.field(static=True)
    bounded_speed: bool = eqx.field(static=True)

    def __call__(self, encoder, z):
        out = encoder(z[:, None]).reshape(len(z), -1)
        angle = self.angles[0] + (self.angles[1] - self.angles[0]) * jax.nn.sigmoid(out[:, -1])
        if self.fixed_speed:
            speed = jnp.broadcast_to(self.fixed, angle.shape)
        elif self.bounded_speed:
            speed = self.speeds[0] + (self.speeds[1] - self.speeds[0]) * jax.nn.sigmoid(out[:, 0])
        else:
            speed = self.speed_scale * jnp.exp(out[:, 0])
        return jnp.stack([speed, angle], axis=1)


@functools.lru_cache(maxsize=None)
def _loss(branch: str):
    """The training loss of ``branch`` as one function object per branch (so that its compiled
    training steps are reused from fit to fit); data = (z, d, launch map, decoder, penalty)."""

    def loss(encoder, data):
        z, d, launch, decoder, penalty = data
        shot = launch(encoder, z)
        miss = (decoder(shot) - d) / d
        if branch == "none":
            return jnp.mean(miss**2)
        step = jnp.array([0.0, ANGLE_STEP])
        slope = (decoder(shot + step) - decoder(shot - step)) / (2 * ANGLE_STEP) / d
        term = {"least-speed": slope, "low-arc": jnp.maximum(-slope, 0.0), "high-arc": jnp.maximum(slope, 0.0)}
        return jnp.mean(miss**2) + penalty * jnp.mean(term[branch] ** 2)

    return loss


def evaluate_aim(model: EncoderDecoder, truth: Projectile, distances, least_speed=None) -> dict:
    """How the learned launches P(d) really do, flown by the ``truth`` projectile, for target
    ``distances`` (m): the relative miss |D_true(P(d)) − d|/d and the speed excess
    v/v_min − 1 over the exact least speed v_min (:func:`~hybridlab.inverse.aim`; or
    ``least_speed`` (m/s), one per target, where the caller has it: under a drag law it costs
    an ODE search per target), each as {"median", "p95", "max"}, and the per-target arrays
    (``miss``, ``speed_excess``).

    Parameters
    ----------
    model : EncoderDecoder
        The fitted encoder.
    truth : Projectile
        The physics that flies the learned launches.
    distances : array_like
        Target distances in m, finite and > 0 (flattened to (n,)).
    least_speed : array_like, optional
        The exact least speed in m/s of each target, n values; None: computed with ``aim``.

    Returns
    -------
    report : dict
        ``miss`` and ``speed_excess`` (each {"median", "p95", "max"}, dimensionless) and ``per_target``:
        arrays (n,) of ``distance`` (m), ``speed`` (m/s), ``angle`` (rad), ``landed`` (m), ``miss``,
        ``speed_excess``.

    Raises
    ------
    ValueError
        If a distance is not finite and > 0, ``least_speed`` does not hold one value per target, or the
        model is not fitted.
    """
    d = _distances(distances)
    if least_speed is None:
        least_speed = aim(truth, d, curve_points=0).speed
    least_speed = np.asarray(least_speed, dtype=np.float64).reshape(-1)
    if least_speed.shape != d.shape:
        raise ValueError(f"least_speed: {least_speed.size} values for {d.size} distances")
    shots = model.predict(d)
    # In blocks of one size: the truth's solve compiles once, whatever the number of targets.
    landed = in_blocks(lambda block: truth.range(block[:, 0], block[:, 1]), np.asarray(shots))
    miss = np.abs(landed - d) / d
    excess = shots[:, 0] / least_speed - 1.0
    return {"miss": quantiles(miss), "speed_excess": quantiles(excess), "per_target": {
        "distance": d, "speed": shots[:, 0], "angle": shots[:, 1], "landed": landed, "miss": miss,
        "speed_excess": excess}}


def quantiles(values) -> dict:
    """{"median", "p95", "max"} of ``values``: how the errors of a set of aims are reported."""
    return {"median": float(np.median(values)), "p95": float(np.quantile(values, 0.95)),
            "max": float(np.max(values))}


def _distances(distances) -> np.ndarray:
    d = np.asarray(distances, dtype=np.float64).reshape(-1)
    if d.size == 0:
        raise ValueError("distances: give at least one target distance")
    bad = np.flatnonzero(~(np.isfinite(d) & (d > 0)))
    if bad.size:
        raise ValueError(f"distances[{bad[0]}] = {d[bad[0]]}: must be finite and > 0 m")
    return d
