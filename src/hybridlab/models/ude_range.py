"""Rung 7, the universal differential equation on ranges: Newton's law with gravity known and
the drag a network of the speed, trained from ranges alone through the event-terminated solve.

The ladder's :class:`~hybridlab.models.hybrid.Hybrid` corrects the *output* and inherits its
prior's growth off the data; here the learning sits inside the equations of motion, so a range
far from the data is still the flight of a body under gravity and a drag that only takes energy.
"""

from __future__ import annotations

import functools
import time

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from hybridlab.models.base import Regressor, check_inputs, check_targets
from hybridlab.networks import training
from hybridlab.estimators.params import BATCH_SIZE, EPOCHS, PHYSICS, RATE, SEED, STEPS, TOLERANCE, WIDTHS, OneOf
from hybridlab.networks.drag import FORMS, NetworkDrag, drag_network
from hybridlab.networks.network import ACTIVATIONS
from hybridlab.physics import NoDrag, Projectile, newton
from hybridlab.physics.batching import BLOCK, in_blocks
from hybridlab.physics.compiling import solve_jit
from hybridlab.uncertainty import intervals

#: Solver steps allowed per flight: tens are needed at the training tolerance.
MAX_STEPS = 256


class _Field(eqx.Module):
    """ds/dt of s = (x, y, v_x, v_y): (v, a(v) − g ŷ), g the network drag's own. (The dynamics'
    :class:`~hybridlab.physics.newton.Newton` is the same field with g apart and v sliced once:
    its gradients differ in the last bit, which training amplifies to millimetres.)"""

    drag: NetworkDrag

    def __call__(self, s):
        return jnp.concatenate([s[2:], self.drag(s[2:]).at[1].add(-self.drag.g)])


def flight_range(drag: NetworkDrag, height, speed, angle, rtol: float, adjoint=diffrax.RecursiveCheckpointAdjoint()):
    """(range in m, landed) of one launch at ``speed`` (m/s), ``angle`` (rad) from ``height``
    (m) under gravity and ``drag``: :func:`hybridlab.physics.newton.land` at ``rtol``, then one Newton step x − y·v_x/v_y onto y = 0 (its derivative is the
    implicit-function value whatever the event's). A flight that has not landed after
    4(v + √(2 g h))/g + 1 s (longer than any under a drag ≥ 0 of moderate size) or
    :data:`MAX_STEPS` steps gives the distance it covered, with ``landed`` False: short of the
    range, which is what a training step under a much too strong drag needs to see.

    A training tolerance, not the physics module's 1e-12: its Dopri8 solve costs some three
    times as much per gradient step. ``adjoint``: Diffrax's, for reverse-mode derivatives by
    default (``diffrax.ForwardMode()`` for forward mode)."""
    s0 = jnp.stack([0.0, height, speed * jnp.cos(angle), speed * jnp.sin(angle)])
    t_max = 4 * (speed + jnp.sqrt(2 * drag.g * height)) / drag.g + 1.0
    (x, y, vx, vy), landed = newton.land(_Field(drag), s0, t_max, rtol, MAX_STEPS, adjoint)
    # The Newton step only where it is one: elsewhere v_y may be 0 (a divide by zero, even in
    # the branch not taken, poisons the gradient).
    step = jnp.where(landed, y * vx / jnp.where(landed, vy, 1.0), 0.0)
    return x - step, landed


#: The power laws |a| = g·m(1)·(|v|/V)^p whose loss on (at most) GRID_SHOTS of the training
#: shots picks the start of the least-squares fit of the power law: every textbook drag law's
#: exponent, 0 to 3, and m(1), the drag at the fastest training speed over g, from 1e-3 to 10.
LAW_GRID = tuple((float(np.log(m)), float(p)) for p in np.linspace(0.0, 3.0, 7) for m in np.geomspace(1e-3, 10.0, 13))
GRID_SHOTS = 64


@functools.lru_cache(maxsize=None)
def _objective(form: str):
    """(ranges, loss, law_linearised, law_losses) over data (X, y/s, V, g, h, rtol, s) for a
    drag of ``form`` with parameters (network, exponent): the ranges (n,) in m, compiled (NaN
    for a flight that did not land); the loss mean(((D − y)/s)²), s the RMS range, D the
    distance flown where a flight did not land; of a pure power law [ln m(1), p], with data's
    eighth entry the network (its last layer 0, so that it is its bias, ln m(1)), the
    residuals (D − y)/s and their Jacobian (n, 2) by forward-mode solves, compiled, and the
    mean squared residual of each of a stack of laws, compiled — one set of function objects
    per form, so that their compiled programs are reused from fit to fit."""

    def flights(drag, data, adjoint=diffrax.RecursiveCheckpointAdjoint()):
        X, height, rtol = data[0], data[4], data[5]
        return jax.vmap(flight_range, in_axes=(None, None, 0, 0, None, None))(drag, height, X[:, 0], X[:, 1], rtol,
                                                                               adjoint)

    def drag(params, data):
        network, exponent = params
        return NetworkDrag(network, data[2], data[3], form, exponent)

    def ranges(params, data, adjoint=diffrax.RecursiveCheckpointAdjoint()):
        distance, landed = flights(drag(params, data), data, adjoint)
        return jnp.where(landed, distance, jnp.nan)

    def loss(params, data):
        distance, _ = flights(drag(params, data), data)
        return jnp.mean((distance / data[6] - data[1]) ** 2)

    def law_residuals(law, data):
        scale, exponent = law
        network = eqx.tree_at(lambda n: n.layers[-1].bias, data[7], jnp.reshape(scale, (1,)))
        distance, _ = flights(drag((network, exponent), data), data, diffrax.ForwardMode())
        return distance / data[6] - data[1]

    def law_losses(laws, data):
        return jax.vmap(lambda law: jnp.mean(law_residuals(law, data) ** 2))(laws)

    def law_linearised(law, data):
        of = lambda u: law_residuals((u[0], u[1]), data)  # noqa: E731
        return of(law), jax.jacfwd(of)(law)

    return solve_jit(ranges), loss, solve_jit(law_linearised), solve_jit(law_losses)


@solve_jit
def _last_layer_jacobian(form: str, params, data):
    """∂D/∂(W_L, b_L) (n, p): the ranges' sensitivity to the drag network's last layer, by
    forward mode through the solves (one tangent per last-layer parameter, where reverse mode
    needs a pass per shot; its compile is the cheaper too)."""
    ranges, *_ = _objective(form)
    network, exponent = params
    theta, unravel = ravel_pytree(intervals.last_layer(network))

    def of(flat):
        return ranges((eqx.tree_at(intervals.last_layer, network, unravel(flat)), exponent), data,
                      diffrax.ForwardMode())

    return jax.jacfwd(of)(theta)


class UDERange(Regressor):
    """ŷ = D(v, θ) of m dv/dt = −m g ŷ − m·|a_N(|v|)| v̂ with |a_N| a :class:`NetworkDrag` — a
    network of the speed (hidden ``widths``, ``activation``), ≥ 0 along −v̂ — trained from the
    ranges alone through the event-terminated solve (:func:`flight_range`, Tsit5 at ``rtol``):
    ``epochs`` of Adam (``learning_rate``, cosine-decayed; full-batch up to ``batch_size``
    shots, default :data:`~hybridlab.networks.training.BATCH_ROWS`, beyond it shuffled mini-batches of
    that many, from ``seed``), then up to ``polish`` full-batch steps of L-BFGS, on the mean squared
    error in units of the RMS range. The magnitude's ``form`` is
    ``"power"`` by default (see :class:`NetworkDrag`): trained on the data's speeds, it must
    still be a drag at the faster launches of an extrapolation. In that form the training
    starts from a power law, |a| = g·m(1)·(|v|/V)^p, m(1) and p fitted first (the network's
    last layer 0) by Levenberg–Marquardt (MINPACK's, up to ``law_steps`` evaluations) from the best law of a
    coarse grid (:data:`LAW_GRID`; ``law_steps=0``: no such start, p = 0), and the network then
    learns what the power law misses: from its random start alone, the quick baseball run's
    UDE collapsed to no drag in 2 of 10 seeds and met a NaN in a third (benchmarks/RESULTS.md).
    ``physics`` (a Projectile or its spec, without a drag law) gives g, the mass and the launch
    height; X columns: speed (m/s), angle (rad).

    :meth:`force` reads the learned law back as a force m·|a| (N) against the speed, the curve
    the report draws and :func:`hybridlab.dynamics.discover_drag` can turn into a formula.

    Parameters
    ----------
    physics : Projectile or dict or None
        g (m/s²), mass (kg) and launch height (m), without drag; None: ``Projectile()``.
    widths : sequence of int
        Hidden layer widths of the drag network, each ≥ 1.
    activation : str
        One of ``"tanh"``, ``"sigmoid"``, ``"relu"``, ``"gelu"``, ``"softplus"``.
    form : str
        The magnitude's form: ``"power"`` or ``"softplus"``.
    epochs : int
        Adam epochs, ≥ 1.
    learning_rate : float
        Adam's step size, finite and > 0.
    polish : int
        The most L-BFGS steps after Adam (it stops sooner where the loss is flat to rounding), ≥ 0.
    rtol : float
        Relative and absolute tolerance of the solve, in (0, 1).
    seed : int
        Seed of the initialisation and the mini-batches, in [0, 2**63 − 1].
    batch_size : int or None
        Shots per mini-batch, ≥ 1; None: ``training.BATCH_ROWS`` (32768).
    law_steps : int
        Levenberg–Marquardt evaluations of the power-law start, ≥ 0 (0: no such start).

    Attributes
    ----------
    network_ : Network
        The drag network N.
    exponent_ : jax.Array
        The power form's exponent p (dimensionless, a scalar; 0 in the softplus form).
    speed_scale_ : float
        V, the fastest training launch in m/s.
    y_scale_ : float
        s, the RMS training range in m.
    initial_loss_ : float
        Loss at the network's start (mean squared error over s²).
    law_loss_ : float
        Loss after the power-law start.
    train_loss_ : float
        Loss after training.
    epochs_run_ : int
        Adam epochs run.
    train_seconds_ : float
        Wall-clock training time in s.

    Raises
    ------
    ValueError
        If a hyperparameter breaks its constraint or ``physics`` has a drag law. A fit raises one unless X
        has 2 columns, or if the training diverges.
    """

    name = "ude"
    fitted_arrays = ("network", "exponent")
    interval_method = intervals.LAST_LAYER
    predicts_in_blocks = True
    compiles_for_long = True
    fitted_facts = ("speed_scale", "y_scale", "initial_loss", "law_loss", "train_loss", "epochs_run", "train_seconds")

    constraints = {"physics": PHYSICS, "widths": WIDTHS, "activation": OneOf(tuple(ACTIVATIONS)),
                   "form": OneOf(FORMS), "epochs": EPOCHS, "learning_rate": RATE, "polish": STEPS,
                   "rtol": TOLERANCE, "seed": SEED, "batch_size": BATCH_SIZE, "law_steps": STEPS}

    def __init__(self, physics=None, *, widths=(16, 16), activation="softplus", form="power", epochs=100,
                 learning_rate=1e-2, polish=100, rtol=1e-6, seed=0, batch_size=None, law_steps=30):
        self.physics, self.widths, self.activation, self.form = physics, widths, activation, form
        self.epochs, self.learning_rate, self.polish, self.rtol = epochs, learning_rate, polish, rtol
        self.seed, self.batch_size, self.law_steps = seed, batch_size, law_steps
        self.check_params()

    def _check_together(self) -> None:
        start = self.projectile()
        if not isinstance(start.drag, NoDrag):
            raise ValueError(f"physics = {start.label()}: the UDE learns the drag; give g, mass and height only")

    def projectile(self) -> Projectile:
        """The Projectile of ``physics`` (g, mass, height; no drag).

        Returns
        -------
        projectile : Projectile
            ``physics``, or the projectile its spec describes.

        Raises
        ------
        ValueError
            If ``physics`` is an invalid spec.
        """
        return self.physics if isinstance(self.physics, Projectile) else Projectile.from_spec(self.physics or {})

    def _data(self, X, y, speed_scale, y_scale):
        """The objective's data (X, y/s, V, g, h, rtol, s)."""
        p = self.projectile()
        return (jnp.asarray(X), jnp.asarray(y / y_scale), jnp.asarray(speed_scale), jnp.asarray(p.g),
                jnp.asarray(p.height), jnp.asarray(self.rtol), jnp.asarray(y_scale))

    @staticmethod
    def _scales(X, y) -> tuple[float, float]:
        """(V, s): the speed scale (the fastest launch, m/s) and the RMS range (m) of X (2 columns) and y."""
        if X.shape[1] != 2:
            raise ValueError(f"X must have 2 columns (speed m/s, angle rad), got {X.shape[1]}")
        return float(np.max(X[:, 0])) or 1.0, float(np.sqrt(np.mean(y**2))) or 1.0

    def power_law(self, X, y) -> tuple[float, float]:
        """(C, p) of the drag force |F| = C·|v|^p (N, |v| in m/s; C in N·(s/m)^p) that the
        ranges y (m) of launches X alone give: the power law the power form's training starts
        from (see the class docstring), fitted without the network; a fitted model is left as it is.

        Parameters
        ----------
        X : array_like
            Launches, shape (n, 2): speed (m/s), angle (rad).
        y : array_like
            Ranges in m, shape (n,).

        Returns
        -------
        C : float
            The coefficient in N·(s/m)^p.
        p : float
            The exponent (dimensionless).

        Raises
        ------
        ValueError
            If ``form`` is not ``"power"`` or ``law_steps`` is 0, or X, y are not finite arrays of those shapes.
        """
        if self.form != "power" or not self.law_steps:
            raise ValueError(f"form = {self.form!r}, law_steps = {self.law_steps}: the power law is the power "
                             "form's start (law_steps >= 1)")
        X = check_inputs(X)
        y = check_targets(y, X.shape[0])
        speed_scale, y_scale = self._scales(X, y)
        _, _, *law = _objective(self.form)
        network = drag_network(tuple(self.widths), self.activation, jax.random.key(self.seed), self.form)
        network, exponent = self._power_law(network, self._data(X, y, speed_scale, y_scale), *law)
        p = self.projectile()
        coefficient = p.mass * p.g * jnp.exp(network.layers[-1].bias[0]) / speed_scale**exponent
        return float(coefficient), float(exponent)

    def _fit(self, X, y, progress):
        self.speed_scale_, self.y_scale_ = self._scales(X, y)
        data = self._data(X, y, self.speed_scale_, self.y_scale_)
        _, loss, *law = _objective(self.form)
        task = progress.task(self.name, self.epochs)
        clock = time.perf_counter()
        network = drag_network(tuple(self.widths), self.activation, jax.random.key(self.seed), self.form)
        # The losses from the training's own program: a forward-only one would be compiled as well.
        self.initial_loss_ = float(training.value_and_grad(loss, (network, jnp.zeros(())), data, solves=True)[0])
        params = self._power_law(network, data, *law)
        self.law_loss_ = float(training.value_and_grad(loss, params, data, solves=True)[0])
        params, self.epochs_run_ = training.adam_then_lbfgs(params, loss, data, self.learning_rate, self.epochs,
                                                            self.polish, task, self.batch_size or training.BATCH_ROWS,
                                                            self.seed)
        task.close()
        self.network_, self.exponent_ = params
        self.train_seconds_ = time.perf_counter() - clock
        self.train_loss_ = float(training.value_and_grad(loss, params, data, solves=True)[0])
        if not np.isfinite(self.train_loss_):
            raise ValueError("the UDE's training diverged; try a smaller learning_rate")

    def _power_law(self, network, data, linearised, losses):
        """(network, exponent) where the network's training starts: ``network`` (its last layer
        0: |a| = :data:`~hybridlab.networks.drag.START`·g) and p = 0; in the power form, m(1) and p of the power law fitted by
        Levenberg–Marquardt (MINPACK's, up to ``law_steps`` evaluations, full batch) from the best of
        :data:`LAW_GRID` on every ⌈n/GRID_SHOTS⌉-th shot. From p = 0 the fit stopped on a slope
        (p = −0.49 where the truth was 2), and the network's training from there, or from its
        random start, collapsed to no drag in some seeds."""
        if self.form != "power" or not self.law_steps:
            return network, jnp.zeros(())
        data = (*data, network)
        every = -(-len(data[0]) // GRID_SHOTS)
        grid = jnp.asarray(LAW_GRID)
        best = grid[int(jnp.argmin(losses((grid[:, 0], grid[:, 1]), (data[0][::every], data[1][::every], *data[2:]))))]
        if len(data[0]) < 2:  # MINPACK's Levenberg–Marquardt needs as many residuals as unknowns
            scale, exponent = (float(value) for value in best)
        else:  # MINPACK on one compiled linearisation: Optimistix's loop compiled the solves twice more
            (scale, exponent), _ = training.minpack(lambda u: linearised(jnp.asarray(u), data), best,
                                                    self.law_steps)
        return eqx.tree_at(lambda n: n.layers[-1].bias, network, jnp.full((1,), scale)), jnp.asarray(exponent)

    def _predict(self, X):
        ranges, *_ = _objective(self.form)
        return ranges((self.network_, self.exponent_), self._data(X, np.zeros(len(X)), self.speed_scale_, self.y_scale_))

    def drag(self) -> NetworkDrag:
        """The fitted drag acceleration.

        Returns
        -------
        drag : NetworkDrag
            a(v) in m/s², from the fitted network, V and the exponent.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        self._check_fitted()
        return NetworkDrag(self.network_, jnp.asarray(self.speed_scale_), self.projectile().g, self.form,
                           self.exponent_)

    def force(self, speed) -> np.ndarray:
        """The learned drag force magnitude m·|a| (N) at ``speed`` (m/s).

        Parameters
        ----------
        speed : array_like
            Speeds in m/s, a scalar or shape (n,).

        Returns
        -------
        force : numpy.ndarray
            Force magnitudes in N, shape (n,) (1 for a scalar).

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        speed = jnp.asarray(np.atleast_1d(np.asarray(speed, dtype=np.float64)))
        return np.asarray(self.projectile().mass * self.drag().magnitude(speed))

    def _sensitivities(self, X):
        zeros = np.zeros(BLOCK)
        return in_blocks(lambda block: _last_layer_jacobian(
            self.form, (self.network_, self.exponent_), self._data(block, zeros, self.speed_scale_, self.y_scale_)), X)

    def _arrays_like(self):
        return {"network": drag_network(tuple(self.widths), self.activation, jax.random.key(0), self.form),
                "exponent": jnp.zeros(())}

    def summary(self):
        """Facts about the fitted model (see ``Estimator.summary``), with the learned law.

        Returns
        -------
        summary : dict
            ``formula`` (the equation, m in kg, g in m/s²) and ``diagnostics`` (``initial_loss``,
            ``law_loss``, ``train_loss``, ``epochs_run``, ``train_seconds``, ``exponent``), besides the common
            keys.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        out = super().summary()
        p = self.projectile()
        law = (f"F = m g (|v|/V)^p exp(N(ln |v|/V)), p = {float(self.exponent_):.4g}, V = {self.speed_scale_:g} m/s"
               if self.form == "power" else "F = m g softplus(N(|v|/V))")
        out["formula"] = (f"range of m dv/dt = −m g ŷ − F(|v|) v̂, F ≥ 0: {law}, N a network; "
                          f"m = {float(p.mass):g} kg, g = {float(p.g):g} m/s²")
        out["diagnostics"] = {"initial_loss": self.initial_loss_, "law_loss": self.law_loss_,
                              "train_loss": self.train_loss_,
                              "epochs_run": self.epochs_run_, "train_seconds": self.train_seconds_,
                              "exponent": float(self.exponent_)}
        return out
