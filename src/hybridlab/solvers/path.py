"""A shot's path as a network of time, its conditions built in, in the problem's own units.

Scales (the loss balance of every network solver here): time τ = t/T ∈ [0, 1], T the horizon
(s), and positions r̂ = r/L with L = g T² (m). Newton's law m r̈ = F(ṙ − w(t) x̂) − m g ŷ
then reads r̂'' = a(r̂' L/T, τ T)/g with gravity's share exactly −ŷ, and a network of τ on
[0, 1] with outputs of order 1 can represent any shot, from a 10 m lob to a 150 m drive.
``scaled=False`` (the ablation) keeps SI units: τ = t in s on [0, T], r̂ = r in m.

The conditions are built into the path (hard constraints), so no loss term has to hold them:
    initial value (``"initial"``):   r̂(τ) = r̂₀ + v̂₀ τ + τ² N(τ)
    boundary value (``"boundary"``): r̂(τ) = r̂_A + (r̂_B − r̂_A) τ/S + τ (S − τ) N(τ)
with S = 1 (scaled) or T, N a network from τ to R².
"""

from __future__ import annotations

import dataclasses
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.networks import training
from hybridlab.networks.network import Network
from hybridlab.physics import Projectile

KINDS = ("initial", "boundary")
#: The most Adam epochs, and the most L-BFGS steps, of one training: a bound on its time (each
#: is about a millisecond; Adam's epochs run in compiled chunks, which no signal interrupts).
MAX_STEPS = 100_000


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


def check_target(to) -> np.ndarray:
    """The target (X, Y) in m as an array: a ValueError naming ``to`` unless X >= 0 (downrange)
    and Y >= 0 (the height above the ground), both finite. A path from a launch at or above the
    ground to such a target never dips below the ground: its height rises and then falls (v_y
    cannot turn from falling to rising while gravity pulls), so its lowest points are its ends."""
    to = np.asarray(to, float)
    if to.shape != (2,) or not np.all(np.isfinite(to)):
        raise ValueError(f"to = {tuple(to.ravel().tolist())}: must be two finite numbers (X, Y) in m")
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
    m/s (initial); ``points`` Gauss–Legendre nodes. ``given``: what set the horizon, for the
    messages of :func:`fall` (default ``time = T``)."""
    if kind not in KINDS:
        raise ValueError(f"kind = {kind!r}: must be one of {KINDS}")
    if int(points) != points or points < 2:
        raise ValueError(f"points = {points!r}: must be an integer >= 2")
    if kind == "boundary":
        check_target(end_or_velocity)
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


def newton(p: Projectile, t, v):
    """The acceleration (m/s², (dim,)) Newton's law gives at time t (s) and velocity v (m/s):
    drag on the air-relative velocity over the mass, and gravity along the last axis; dim 2 for
    a shot, 1 for a vertical drop (v_x = 0, no wind)."""
    if v.shape[0] == 1:
        return jnp.stack([p.drag.force(jnp.zeros_like(v[0]), v[0])[1]]) / p.mass - p.g
    wind = 0.0 if p.wind is None else p.wind(t)
    fx, fy = p.drag.force(v[0] - wind, v[1])
    return jnp.stack([fx, fy]) / p.mass - jnp.stack([0.0, p.g])


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
    tau = jnp.atleast_1d(jnp.asarray(t, float)) / prob.time
    r = jax.vmap(lambda s: position(net, prob, s))(tau) * prob.length
    return np.asarray(r[:, 0]), np.asarray(r[:, 1])


def launch(net: Network, prob: Problem) -> tuple[float, float]:
    """(speed m/s, angle rad) of the path at t = 0."""
    v = np.asarray(velocity(net, prob, jnp.asarray(0.0))) * float(prob.length / prob.time)
    return float(np.hypot(*v)), float(np.arctan2(v[1], v[0]))


@dataclasses.dataclass
class Solution:
    """A network solution of one shot: ``method`` ("pinn" or "ritz"), its network and
    :class:`Problem`, the loss ``history`` ({"adam": [(epoch, loss), …] every
    training.CHUNK epochs, "lbfgs": [loss at the start and after each step]}) and the training ``seconds``
    (compilation included).

    Parameters
    ----------
    method : str
        ``"pinn"`` or ``"ritz"``.
    network : Network
        The trained network N (τ ↦ R²).
    problem : Problem
        The shot in solver units: its conditions, the time unit (s) and length unit (m), the quadrature.
    history : dict
        The loss history: ``"adam"`` [(epoch, loss), …] every 100 epochs, ``"lbfgs"`` [loss at the start and
        after each step].
    seconds : float
        Training time in s, compilation included.
    """

    method: str
    network: Network
    problem: Problem
    history: dict
    seconds: float

    def trajectory(self, t) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) in m at times t (s).

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
        return trajectory(self.network, self.problem, t)

    def launch(self) -> tuple[float, float]:
        """(speed m/s, angle rad) at t = 0.

        Returns
        -------
        speed : float
            Launch speed in m/s.
        angle : float
            Launch angle in rad above the horizontal.
        """
        return launch(self.network, self.problem)


def train(method: str, loss, prob: Problem, widths, epochs: int, polish: int, learning_rate: float,
          seed: int) -> Solution:
    """Minimise ``loss(network, problem)`` over the network: Adam (cosine-decayed from
    ``learning_rate`` over ``epochs``), then up to ``polish`` L-BFGS steps (SciPy's,
    :func:`~hybridlab.networks.training.lbfgs`)."""
    for name, value in (("epochs", epochs), ("polish", polish)):
        if int(value) != value or not 0 <= value <= MAX_STEPS:
            raise ValueError(f"{name} = {value!r}: must be an integer between 0 and {MAX_STEPS}")
    if epochs + polish == 0:
        raise ValueError("epochs + polish = 0: nothing would be trained")
    net = network(widths, seed)
    history = {"adam": [], "lbfgs": []}
    clock = time.perf_counter()
    if epochs:
        adam = training.optimiser("adam", float(learning_rate), "cosine", int(epochs))
        record = lambda done, params: history["adam"].append(  # noqa: E731
            (done, float(training.evaluate(loss, params, prob))))
        net, _ = training.first_order(net, loss, prob, None, adam, int(epochs), None, None, record)
    if polish:
        net, values = training.lbfgs(net, loss, prob, int(polish), True)
        history["lbfgs"] = np.asarray(values).tolist()
    final = float(training.evaluate(loss, net, prob))
    if not np.isfinite(final):
        start, slope = (", ".join(f"{v:.3g}" for v in np.asarray(a)) for a in (prob.start, prob.slope))
        raise ValueError(f"the {method} training diverged (its loss became {final}): the shot's conditions in the "
                         f"solver's units, start ({start}) and slope ({slope}), are too far from order 1")
    return Solution(method, net, prob, history, time.perf_counter() - clock)
