"""The inverse PINN: unknown drag parameters (and g) from a few noisy track points, Newton's
law's residual as the physics term.

Each track i gets its own path r̂_i(τ) = q_i(τ) + N_i(τ): q_i the least-squares quadratic
through its points (a start the data already like) and N_i a network (the networks of all
tracks are stacked and trained at once). The unknowns are u = ln(p/p₀). The loss, in the
problem's own units (:mod:`hybridlab.solvers.trial`: τ = (t − t₀,i)/T, r̂ = r/L, L = g T², T the
longest track's span), is

    mean over points |r̂_i(τ_ij) − r̂_ij|²  +  λ · mean over tracks (1/S_i) ∫₀^{S_i} |r̂_i'' − a T²/L|² dτ,

both terms dimensionless and of order 1 for a path wrong by its own size or an acceleration
wrong by g, so λ = 1 (``weight``). ``scaled=False`` (the ablation) writes the same sum in SI
units, m² and (m/s²)². Adam (Optax), then L-BFGS (SciPy's). There are no standard errors here: a PINN
estimate is a point estimate (the grey-box fit, ``TrajectoryFit``, gives them).
"""

from __future__ import annotations

import dataclasses
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.data import Tracks
from hybridlab.estimators.grey import drag_unknowns
from hybridlab.networks import training
from hybridlab.networks.network import Network
from hybridlab.physics import Projectile
from hybridlab.solvers.trial import newton


class InverseProblem(eqx.Module):
    """The tracks and the known physics in solver units: per track (m of them, padded to P
    points) ``tau`` (m, P), ``position`` (m, P, dim), ``mask`` (m, P), the baseline quadratic's
    coefficients ``baseline`` (m, 3, dim), Gauss–Legendre ``nodes`` and ``weights`` (m, Q) on
    [0, S_i]; ``projectile`` with the unknowns ``names`` at their starting values ``start``."""

    projectile: Projectile
    start: jax.Array
    tau: jax.Array
    position: jax.Array
    mask: jax.Array
    baseline: jax.Array
    nodes: jax.Array
    weights: jax.Array
    time: jax.Array
    length: jax.Array
    weight: jax.Array
    names: tuple[str, ...] = eqx.field(static=True)


def inverse_problem(tracks: Tracks, projectile: Projectile, unknown, points: int = 64, scaled: bool = True,
                    weight: float = 1.0) -> InverseProblem:
    """The :class:`InverseProblem` of ``tracks`` with the parameters ``unknown`` (names of
    ``projectile``'s, e.g. ("k",) or ("c", "g")) to be found; ``points`` quadrature nodes per track."""
    unknown = tuple(unknown)
    for name in unknown:
        projectile.value(name)  # a ValueError naming a parameter the projectile does not have
    rows = [np.flatnonzero(tracks.track == i) for i in range(len(tracks))]
    spans = np.array([tracks.t[r[-1]] - tracks.t[r[0]] for r in rows])
    if np.any(spans <= 0) or min(len(r) for r in rows) < 3:
        raise ValueError("tracks: every track needs at least 3 points at distinct times")
    horizon = float(spans.max())
    time_unit = horizon if scaled else 1.0
    length = float(projectile.g) * horizon**2 if scaled else 1.0
    width = max(len(r) for r in rows)
    tau, position = np.zeros((len(rows), width)), np.zeros((len(rows), width, tracks.dim))
    mask, baseline = np.zeros((len(rows), width), bool), np.zeros((len(rows), 3, tracks.dim))
    x, w = np.polynomial.legendre.leggauss(int(points))
    nodes, weights = np.zeros((len(rows), points)), np.zeros((len(rows), points))
    for i, r in enumerate(rows):
        tau[i, :len(r)] = (tracks.t[r] - tracks.t[r[0]]) / time_unit
        position[i, :len(r)] = tracks.position[r] / length
        mask[i, :len(r)] = True
        baseline[i] = np.polynomial.polynomial.polyfit(tau[i, :len(r)], position[i, :len(r)], 2)
        span = spans[i] / time_unit
        nodes[i], weights[i] = 0.5 * span * (x + 1), 0.5 * w  # weights sum to 1: a mean over the track
    start = jnp.asarray([float(projectile.value(name)) for name in unknown])
    return InverseProblem(projectile, start, *(jnp.asarray(a) for a in (tau, position, mask, baseline, nodes, weights)),
                          jnp.asarray(time_unit), jnp.asarray(length), jnp.asarray(float(weight)), unknown)


def _path(net: Network, coefficients, tau):
    """r̂(τ) (dim,) = q(τ) + N(τ)."""
    return coefficients[0] + coefficients[1] * tau + coefficients[2] * tau**2 + net(jnp.reshape(tau, (1, 1)))[0]


def _physics(prob: InverseProblem, u) -> Projectile:
    return prob.projectile.replace(prob.names, prob.start * jnp.exp(u))


def _residual(net, coefficients, p: Projectile, prob: InverseProblem, tau):
    """r̂'' − a(r̂' L/T) T²/L at τ (dim,), a the acceleration of :func:`path.newton` (the time
    is the track's own, from its first point)."""
    def velocity(s):
        return jax.jacfwd(lambda q: _path(net, coefficients, q))(s)

    rate, acceleration = velocity(tau), jax.jacfwd(velocity)(tau)
    a = newton(p, tau * prob.time, rate * prob.length / prob.time)
    return acceleration - a * prob.time**2 / prob.length


def terms(params, prob: InverseProblem):
    """(data term, physics term) of the loss."""
    nets, u = params
    p = _physics(prob, u)

    def one(net, coefficients, tau, position, mask, nodes, weights):
        fitted = jax.vmap(lambda s: _path(net, coefficients, s))(tau)
        misfit = jnp.sum(jnp.where(mask[:, None], (fitted - position) ** 2, 0.0))
        residuals = jax.vmap(lambda s: _residual(net, coefficients, p, prob, s))(nodes)
        return misfit, jnp.sum(weights * jnp.sum(residuals**2, axis=-1))

    misfit, physics = eqx.filter_vmap(one)(nets, prob.baseline, prob.tau, prob.position, prob.mask, prob.nodes,
                                           prob.weights)
    dim = prob.position.shape[-1]
    return jnp.sum(misfit) / (jnp.sum(prob.mask) * dim), jnp.mean(physics) / dim


def loss(params, prob: InverseProblem):
    data, physics = terms(params, prob)
    return data + prob.weight * physics


@dataclasses.dataclass
class InverseSolution:
    """The parameters found ({name: value}, SI), each track's starting state (position m,
    velocity m/s at its first time; (m, 2·dim)), the loss ``history`` ({"adam": [(epoch,
    data term, physics term)], "lbfgs": [loss at the start and after each step]}) and the training ``seconds``."""

    parameters: dict[str, float]
    starts: np.ndarray
    history: dict
    seconds: float


def _starts(nets, prob: InverseProblem) -> np.ndarray:
    def one(net, coefficients):
        r = _path(net, coefficients, jnp.asarray(0.0))
        v = jax.jacfwd(lambda s: _path(net, coefficients, s))(jnp.asarray(0.0))
        return jnp.concatenate([r * prob.length, v * prob.length / prob.time])

    return np.asarray(eqx.filter_vmap(one)(nets, prob.baseline))


def learn(tracks: Tracks, projectile: Projectile, unknown=None, *, widths=(32, 32), points: int = 64,
          epochs: int = 3000, polish: int = 2000, learning_rate: float = 1e-2, scaled: bool = True,
          weight: float = 1.0, seed: int = 0) -> InverseSolution:
    """Fit the parameters ``unknown`` of ``projectile`` (the rest known; None: its drag law's
    coefficients of value > 0, as a grey box's default) to ``tracks``."""
    unknown = drag_unknowns(projectile) if unknown is None else unknown
    prob = inverse_problem(tracks, projectile, unknown, points, scaled, weight)
    keys = jax.random.split(jax.random.key(seed), len(tracks))
    nets = eqx.filter_vmap(lambda k: Network(1, tuple(widths), "tanh", "glorot", k, n_out=tracks.dim).zero_last())(keys)
    params = (nets, jnp.zeros(len(prob.names)))
    history = {"adam": [], "lbfgs": []}

    def record(done, current):
        data, physics = (float(v) for v in training.evaluate(terms, current, prob))
        history["adam"].append((done, data, physics))

    clock = time.perf_counter()
    if epochs:
        adam = training.optimiser("adam", float(learning_rate), "cosine", int(epochs))
        params, _ = training.first_order(params, loss, prob, None, adam, int(epochs), None, None, record)
    if polish:
        params, values = training.lbfgs(params, loss, prob, int(polish), True)
        history["lbfgs"] = np.asarray(values).tolist()
    seconds = time.perf_counter() - clock
    nets, u = params
    values = np.asarray(prob.start * jnp.exp(u))
    return InverseSolution(dict(zip(prob.names, values.tolist())), _starts(nets, prob), history, seconds)
