"""The trial solution (Lagaris et al., 1998): a shot's trajectory as a network of time, its
conditions built in, in the problem's own units; and the base of the network solvers.

Scales (the loss balance of every network solver here): time τ = t/T ∈ [0, 1], T the horizon
(s), and positions r̂ = r/L with L = g T² (m). Newton's law m r̈ = F(ṙ − w(t) x̂) − m g ŷ
then reads r̂'' = a(r̂' L/T, τ T)/g with gravity's share exactly −ŷ, and a network of τ on
[0, 1] with outputs of order 1 can represent any shot, from a 10 m lob to a 150 m drive.
``scaled=False`` (the ablation) keeps SI units: τ = t in s on [0, T], r̂ = r in m.

The conditions are built into the trial solution (hard constraints), so no loss term has to hold them:
    initial value (``"initial"``):   r̂(τ) = r̂₀ + v̂₀ τ + τ² N(τ)
    boundary value (``"boundary"``): r̂(τ) = r̂_A + (r̂_B − r̂_A) τ/S + τ (S − τ) N(τ)
with S = 1 (scaled) or T, N a network from τ to R².
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.estimators import Estimator
from hybridlab.estimators.params import PHYSICS, RATE, SEED, WIDTHS, Boolean, Integer, is_real
from hybridlab.networks import training
from hybridlab.networks.network import Network
from hybridlab.physics import Projectile

KINDS = ("initial", "boundary")
#: The most Adam epochs, and the most L-BFGS steps, of one training: a bound on its time (each
#: is about a millisecond; Adam's epochs run in compiled chunks, which no signal interrupts).
MAX_STEPS = 100_000
_STEPS = Integer(0, MAX_STEPS, what=f"an integer between 0 and {MAX_STEPS}")
#: The most Gauss–Legendre nodes of a path's quadrature: NumPy's rule solves an eigenproblem of
#: that size (4096 nodes: a second), and a network needs far fewer (128 by default).
MAX_POINTS = 4096
_POINTS = Integer(2, MAX_POINTS, what=f"an integer between 2 and {MAX_POINTS}")


class Problem(eqx.Module):
    """A shot's equation and conditions in solver units: ``start`` r̂(0) and ``slope`` (v̂₀ for
    an initial-value shot, (r̂_B − r̂_A)/S for a boundary-value one), ``time`` and ``length`` the
    units (s, m), ``span`` S the end of τ, and Gauss–Legendre ``nodes`` and ``weights`` on
    [0, S] for the integrals over the path."""

    projectile: Projectile
    start: jax.Array
    slope: jax.Array
    time: jax.Array
    length: jax.Array
    span: jax.Array
    nodes: jax.Array
    weights: jax.Array
    kind: str = eqx.field(static=True)


def fall(projectile: Projectile, horizon: float, given: str | None = None, least: float = 0.0) -> float:
    """g T² (m): the scale of a fall over the horizon T (s), the solvers' length unit L. A
    ValueError that names ``given`` (what set T; default ``time = T``) unless T is finite and
    > 0 and g T² a float64 in [``least``, 1.8e308] (the networks need L to be a normal number,
    which T < 5e-155 s at g = 9.81 m/s² is not)."""
    given = given or f"time = {horizon!r}"
    if not (np.isfinite(horizon) and horizon > 0):
        raise ValueError(f"{given}: must be finite and > 0 (s)")
    g = float(projectile.g)
    with np.errstate(over="ignore", under="ignore"):
        length = g * np.float64(horizon) ** 2
    if not least <= length < np.inf:
        low, high = np.sqrt(np.array([least, np.finfo(float).max]) / g)
        flows = "overflows" if length == np.inf else "underflows"
        span = f"between {low:.2g} and {high:.2g}" if least else f"at most {high:.2g}"
        raise ValueError(f"{given}: g T², the scale of the path's fall over T = {horizon:.3g} s, {flows} float64 "
                         f"(T must be {span} s)")
    return float(length)


def _pair(name: str, value, what: str) -> np.ndarray:
    """``value`` as two finite float64 numbers: a one-line ValueError naming ``name`` (its
    values shown only where there are two of them) otherwise."""
    try:
        pair = np.asarray(value)
    except (TypeError, ValueError):  # a ragged list
        pair = None
    if pair is not None and pair.dtype.kind not in "iuf":  # strings, booleans, objects are not numbers
        pair = None
    if pair is None or pair.shape != (2,):
        shape = "not numbers" if pair is None else f"shape {pair.shape}"
        raise ValueError(f"{name}: must be two finite numbers {what} (got {shape})")
    if not np.all(np.isfinite(pair)):
        raise ValueError(f"{name} = {tuple(pair.tolist())}: must be two finite numbers {what}")
    return pair.astype(float)


def check_velocity(velocity) -> np.ndarray:
    """The launch velocity (v_x, v_y) in m/s as an array: a ValueError naming ``velocity``
    unless it is two finite numbers."""
    return _pair("velocity", velocity, "(v_x, v_y) in m/s")


def check_target(to) -> np.ndarray:
    """The target (X, Y) in m as an array: a ValueError naming ``to`` unless X >= 0 (downrange)
    and Y >= 0 (the height above the ground), both finite. A path from a launch at or above the
    ground to such a target never dips below the ground: its height rises and then falls (v_y
    cannot turn from falling to rising while gravity pulls), so its lowest points are its ends."""
    to = _pair("to", to, "(X, Y) in m")
    shown = f"to = ({to[0]:g}, {to[1]:g})"
    if to[1] < 0:
        raise ValueError(f"{shown}: the target is below the ground (Y is its height above the ground, in m)")
    if to[0] < 0:
        raise ValueError(f"{shown}: the target is behind the launch (X is its distance downrange, in m)")
    return to


def problem(projectile: Projectile, kind: str, start, end_or_velocity, horizon: float, points: int,
            scaled: bool = True, given: str | None = None) -> Problem:
    """The :class:`Problem` of a shot of ``projectile`` over [0, ``horizon``] s from ``start``
    (x, y) in m, to ``end_or_velocity`` (x, y) in m (boundary) or launched at it (v_x, v_y) in
    m/s (initial); ``points`` Gauss–Legendre nodes (``kind`` and ``points`` checked by the
    solver that calls it). ``given``: what set the horizon, for the messages of :func:`fall`
    (default ``time = T``)."""
    if not is_real(horizon):
        raise ValueError(f"horizon: must be a number, the time T in s (got a {type(horizon).__name__} of shape "
                         f"{np.shape(horizon)})")
    (check_target if kind == "boundary" else check_velocity)(end_or_velocity)
    try:
        horizon = float(horizon)
    except OverflowError:  # an integer beyond float64
        raise ValueError(f"horizon = {str(horizon)[:12]}…: overflows float64 (s)") from None
    fallen = fall(projectile, horizon, given, least=np.finfo(float).tiny)
    time, length = (horizon, fallen) if scaled else (1.0, 1.0)
    span = horizon / time
    start = jnp.asarray(start, float) / length
    other = jnp.asarray(end_or_velocity, float)
    slope = other * time / length if kind == "initial" else (other / length - start) / span
    x, w = np.polynomial.legendre.leggauss(int(points))
    nodes, weights = 0.5 * span * (x + 1), 0.5 * span * w
    return Problem(projectile, start, slope, jnp.asarray(time), jnp.asarray(length), jnp.asarray(span),
                   jnp.asarray(nodes), jnp.asarray(weights), kind)


def network(widths, seed: int) -> Network:
    """N: τ ↦ R², tanh (smooth: the residual takes its second derivative)."""
    return Network(1, tuple(widths), "tanh", "glorot", jax.random.key(seed), n_out=2)


def position(net: Network, prob: Problem, tau):
    """r̂(τ) (2,) at a scalar τ."""
    bubble = tau**2 if prob.kind == "initial" else tau * (prob.span - tau)
    return prob.start + prob.slope * tau + bubble * net(jnp.reshape(tau, (1, 1)))[0]


def velocity(net: Network, prob: Problem, tau):
    """r̂'(τ) (2,)."""
    return jax.jacfwd(lambda s: position(net, prob, s))(tau)


def acceleration(net: Network, prob: Problem, tau):
    """r̂''(τ) (2,)."""
    return jax.jacfwd(lambda s: velocity(net, prob, s))(tau)


def newton(projectile: Projectile, t, v):
    """The acceleration (m/s², (dim,)) Newton's law gives at time t (s) and velocity v (m/s):
    drag on the air-relative velocity over the mass, and gravity along the last axis; dim 2 for
    a shot, 1 for a vertical drop (v_x = 0, no wind)."""
    if v.shape[0] == 1:
        return jnp.stack([projectile.drag.force(jnp.zeros_like(v[0]), v[0])[1]]) / projectile.mass - projectile.g
    wind = 0.0 if projectile.wind is None else projectile.wind(t)
    fx, fy = projectile.drag.force(v[0] - wind, v[1])
    return jnp.stack([fx, fy]) / projectile.mass - jnp.stack([0.0, projectile.g])


def force_per_mass(prob: Problem, tau, rate):
    """The acceleration of :func:`newton` at τ for a path moving at r̂' = ``rate``, in solver
    units: a T²/L."""
    return newton(prob.projectile, tau * prob.time, rate * prob.length / prob.time) * prob.time**2 / prob.length


def residual(net: Network, prob: Problem, tau):
    """Newton's law's residual r̂'' − a T²/L at τ (2,), dimensionless when scaled."""
    return acceleration(net, prob, tau) - force_per_mass(prob, tau, velocity(net, prob, tau))


def mean_square(values, prob: Problem):
    """(1/S) ∫₀^S |f|² dτ by the quadrature, for f's values (nodes, 2) at the nodes."""
    return jnp.sum(prob.weights * jnp.sum(values**2, axis=-1)) / prob.span


def trajectory(net: Network, prob: Problem, t) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) in m at times t (s)."""
    r = np.asarray(_positions(net, prob, t))
    return r[:, 0], r[:, 1]


def launch(net: Network, prob: Problem) -> tuple[float, float]:
    """(speed m/s, angle rad) of the path at t = 0."""
    v = np.asarray(_launch_velocity(net, prob))
    return float(np.hypot(*v)), float(np.arctan2(v[1], v[0]))


# The network's evaluations as programs: run eagerly, each of their operations (and of the
# forward-mode derivative) would compile one of its own, some 60 in all.
@eqx.filter_jit
def _positions(net: Network, prob: Problem, t):
    """r̂ (P, 2) in m at times t (s)."""
    tau = jnp.atleast_1d(jnp.asarray(t, float)) / prob.time
    return jax.vmap(lambda s: position(net, prob, s))(tau) * prob.length


@eqx.filter_jit
def _launch_velocity(net: Network, prob: Problem):
    """The velocity (2,) in m/s at t = 0."""
    return velocity(net, prob, jnp.asarray(0.0)) * (prob.length / prob.time)


class NetworkSolver(Estimator, rung=False):
    """A network solution of one shot, as an estimator: ``fit(horizon, ...)`` trains the path
    network N on the shot's conditions (Adam, cosine-decayed from ``learning_rate`` over
    ``epochs``, then up to ``polish`` L-BFGS steps, SciPy's); ``predict(t)`` gives its positions.
    A subclass sets ``loss(network, problem)`` (the residual, or the action) and ``fit``.

    Parameters
    ----------
    physics : Projectile or dict or None
        The shot's physics (or its spec), launched from (0, h), h its height in m; None: no drag.
    widths : sequence of int
        Hidden layer widths of the network N (tanh).
    points : int
        Gauss–Legendre nodes of the quadrature, an integer ≥ 2.
    epochs : int
        Adam epochs (cosine-decayed), an integer in [0, 100000].
    polish : int
        The most L-BFGS steps after Adam (fewer where the loss is flat to rounding), an integer in
        [0, 100000]; ``epochs`` + ``polish`` > 0.
    learning_rate : float
        Adam's initial step size, > 0.
    scaled : bool
        Whether to work in the problem's units (τ = t/T, r̂ = r/(g T²)); False: SI units (the ablation).
    seed : int
        Seed of the network's initialisation.

    Attributes
    ----------
    network_ : Network
        The trained network N (τ ↦ R²).
    problem_ : Problem
        The shot in solver units, rebuilt from the physics and ``context_`` (the kind, the horizon
        T in s, the start in m and the launch velocity in m/s or the target in m).
    history_ : dict
        The loss history: ``"adam"`` [(epoch, loss), …] every 100 epochs, ``"lbfgs"`` [loss at the
        start and after each step].
    train_seconds_ : float
        Training time in s, compilation included.
    """

    fitted_arrays = ("network",)
    fitted_facts = ("history", "train_seconds")
    constraints = {"physics": PHYSICS, "widths": WIDTHS, "points": _POINTS, "epochs": _STEPS,
                   "polish": _STEPS, "learning_rate": RATE, "scaled": Boolean(), "seed": SEED}
    #: How the network is trained: loss(network, problem), a scalar to minimise.
    loss: ClassVar[Callable]
    #: The kinds of shot the method solves.
    kinds: ClassVar[tuple[str, ...]] = KINDS

    def __init__(self, physics=None, *, widths=(32, 32), points=128, epochs=2000, polish=2000,
                 learning_rate=1e-2, scaled=True, seed=0):
        self.physics, self.widths, self.points, self.epochs = physics, widths, points, epochs
        self.polish, self.learning_rate, self.scaled, self.seed = polish, learning_rate, scaled, seed
        self.check_params()

    def _check_together(self) -> None:
        if self.epochs + self.polish == 0:
            raise ValueError("epochs + polish = 0: nothing would be trained")
        self.projectile()

    def projectile(self) -> Projectile:
        """The shot's Projectile: ``physics``, or the one its spec describes (no drag for None).

        Returns
        -------
        projectile : Projectile
            The physics the network solves.
        """
        return self.physics if isinstance(self.physics, Projectile) else Projectile.from_spec(self.physics or {})

    def _fit_shot(self, kind: str, conditions, horizon, given: str | None = None) -> NetworkSolver:
        """Fit to the shot of ``kind`` over [0, ``horizon``] s: ``conditions`` the launch
        velocity (m/s) or the target (m); ``given`` what set the horizon (its messages)."""
        def check():
            context = {"kind": kind, "horizon": horizon, "conditions": conditions}
            prob = self._problem(context, given)  # checks them all
            context.update(horizon=float(horizon), conditions=np.asarray(conditions, float).tolist())
            return (prob,), 1, context, {}
        return self._fit_checked(check)

    def _problem(self, context: dict, given: str | None = None) -> Problem:
        """The shot's :class:`Problem` from ``context`` (kind, horizon, conditions), each checked:
        a record written by hand or damaged is refused here, on load."""
        if context.get("kind") not in self.kinds:
            raise ValueError(f"kind = {context.get('kind')!r}: the {self.name} solves a shot of kind {self.kinds}")
        p = self.projectile()
        return problem(p, context["kind"], (0.0, float(p.height)), context.get("conditions"), context.get("horizon"),
                       self.points, self.scaled, given)

    def _fit(self, prob: Problem, progress) -> None:
        self.problem_, self.history_ = prob, {"adam": [], "lbfgs": []}
        clock = time.perf_counter()
        net = network(self.widths, self.seed)
        if self.epochs:
            adam = training.optimiser("adam", float(self.learning_rate), "cosine", int(self.epochs))
            record = lambda done, params: self.history_["adam"].append(  # noqa: E731
                (done, float(training.evaluate(type(self).loss, params, prob))))
            net, _ = training.first_order(net, type(self).loss, prob, None, adam, int(self.epochs), None, None, record)
        if self.polish:
            net, values = training.lbfgs(net, type(self).loss, prob, int(self.polish), True)
            self.history_["lbfgs"] = np.asarray(values).tolist()
        self.network_, self.train_seconds_ = net, time.perf_counter() - clock

    def _check_fit(self, prob: Problem) -> None:
        final = float(training.evaluate(type(self).loss, self.network_, prob))
        if not np.isfinite(final):
            start, slope = (", ".join(f"{v:.3g}" for v in np.asarray(a)) for a in (prob.start, prob.slope))
            raise ValueError(f"the {self.name} training diverged (its loss became {final}): the shot's conditions in "
                             f"the solver's units, start ({start}) and slope ({slope}), are too far from order 1")

    def _arrays_like(self):
        return {"network": network(self.widths, self.seed)}

    def _set_metadata(self, metadata) -> None:
        super()._set_metadata(metadata)
        self.problem_ = self._problem(self.context_)  # a damaged context is refused here, on load

    def predict(self, t) -> np.ndarray:
        """Positions (x, y) in m at times t (s).

        Parameters
        ----------
        t : array_like
            Times in s, a scalar or shape (P,), in [0, T] (T the horizon it was fitted over).

        Returns
        -------
        positions : numpy.ndarray
            Shape (P, 2) (P = 1 for a scalar): x downrange and y the height, in m.

        Raises
        ------
        ValueError
            If the solver is not fitted or a time is not finite or outside [0, T].
        """
        self._check_fitted()
        t = np.atleast_1d(np.asarray(t, float))
        if t.ndim != 1 or not np.all(np.isfinite(t)):
            raise ValueError(f"t: must be finite times in s, a scalar or one axis (got shape {t.shape})")
        horizon = self.context_["horizon"]
        if np.any((t < 0) | (t > horizon)):
            bad = float(t[(t < 0) | (t > horizon)][0])
            raise ValueError(f"t = {bad:g}: the solution is a path over [0, {horizon:g}] s, its horizon; solve "
                             "over a longer one to see further")
        return np.column_stack(trajectory(self.network_, self.problem_, t))

    def trajectory(self, t) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) in m at times t (s): :meth:`predict`'s columns.

        Parameters
        ----------
        t : array_like
            Times in s, a scalar or shape (P,).

        Returns
        -------
        x : numpy.ndarray
            Horizontal positions in m, shape (P,) (1 for a scalar).
        y : numpy.ndarray
            Heights in m, shape (P,).
        """
        positions = self.predict(t)
        return positions[:, 0], positions[:, 1]

    def launch(self) -> tuple[float, float]:
        """(speed m/s, angle rad) of the path at t = 0.

        Returns
        -------
        speed : float
            Launch speed in m/s.
        angle : float
            Launch angle in rad above the horizontal.
        """
        self._check_fitted()
        return launch(self.network_, self.problem_)
