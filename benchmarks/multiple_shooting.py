"""Multiple shooting for the UDE on many long tracks (issue 32: "they need a better way to fit
many long tracks"), measured before building it into the library.

The forecast scenario's quick data (40 training baseball tracks and the observed 35 % of 20 test
tracks, a point every 0.1 s, σ = 0.05 m). Three fits of the track UDE (`UDE`, softplus drag, 600
Adam epochs at 3e-2 then up to 300 L-BFGS steps):

- single shooting, as the scenario fits it: each track solved from its fitted start;
- multiple shooting then single shooting: each track cut into segments of ``--segment`` steps
  (consecutive segments share a point), each segment solved from its own fitted start, the loss
  the mean squared position error plus ``--weight`` × the mean squared gap between a segment's
  end state and the next segment's start (velocities × the step, in m); its network then starts
  a single-shooting fit (1 Adam epoch at 1e-3, up to 300 L-BFGS steps).

For each: the training MSE (m²; the noise's is 0.0025) and the RMS error of the forecasts of the
test tracks after their cut, launched like the training tracks ("test") and faster ("off").

Usage: python benchmarks/multiple_shooting.py [--segment 10] [--weight 10]
"""

from __future__ import annotations

import argparse
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.data import Tracks, join_tracks
from hybridlab.dynamics import UDE, motion
from hybridlab.physics import newton
from hybridlab.dynamics.learned import _START_UNIT
from hybridlab.experiments.forecast import BASEBALL, SETS, STEP, simulated
from hybridlab.networks import training
from hybridlab.physics.constants import G

PHYSICS = {"mass": float(BASEBALL.mass), "g": G}
NETWORKS = {"epochs": 600, "polish": 300, "learning_rate": 3e-2, "seed": 0}


def segments(tracks: Tracks, steps: int) -> tuple[Tracks, np.ndarray, np.ndarray]:
    """Each track cut into segments of ``steps`` steps sharing their end points (a last segment
    of one step joins the one before); (segments, each one's successor, whether it has one)."""
    names, track, t, position, following, has_next = [], [], [], [], [], []
    for j, name in enumerate(tracks.names):
        rows = np.flatnonzero(tracks.track == j)
        starts = list(range(0, len(rows) - 1, steps))
        if len(starts) > 1 and len(rows) - 1 - starts[-1] < 2:
            starts.pop()
        for i, start in enumerate(starts):
            last = i + 1 == len(starts)
            piece = rows[start:(len(rows) - 1 if last else starts[i + 1]) + 1]
            track += [len(names)] * len(piece)
            t += list(tracks.t[piece])
            position += list(tracks.position[piece])
            following.append(len(names) + (0 if last else 1))
            has_next.append(not last)
            names.append(f"{name}#{start}")
    return (Tracks(tracks.kind, tuple(names), np.array(track), np.array(t), np.array(position)), np.array(following),
            np.array(has_next))


class ShootingLoss(eqx.Module):
    """Mean squared position error of the segments, each from its own start, plus ``weight`` ×
    the mean squared gap at the joins (velocities times the step: metres)."""

    build: object = eqx.field(static=True)
    scales: tuple
    rtol: jax.Array
    weight: float

    def __call__(self, params, data):
        network, shift = params
        ts, position, mask, guess, following, has_next = data
        starts = guess + _START_UNIT * shift
        states = newton.solve_tracks(self.build(network, self.scales), starts, ts, self.rtol)
        dim = position.shape[-1]
        error = jnp.where(mask[..., None], states[..., :dim] - position, 0.0)
        gap = states[:, -1] - starts[following]  # padding repeats a segment's last time
        gap = jnp.concatenate([gap[:, :dim], gap[:, dim:] * STEP], axis=1)
        joins = jnp.sum(jnp.where(has_next[:, None], gap**2, 0.0)) / (jnp.maximum(jnp.sum(has_next), 1) * dim)
        return jnp.sum(error**2) / (jnp.sum(mask) * dim) + self.weight * joins


def shooting_network(data: Tracks, steps: int, weight: float):
    """The network of a multiple-shooting fit (Adam then L-BFGS as ``NETWORKS``), and its loss."""
    pieces, following, has_next = segments(data, steps)
    model = UDE(PHYSICS, **NETWORKS)
    starts = motion.starting_states(data)  # the units as the UDE's own fit sets them
    model.scales_ = [float(np.max(np.linalg.norm(starts[:, 2:], axis=1))),
                     float(np.max(np.linalg.norm(data.position - starts[0, :2], axis=1)))]
    ts, position, mask = motion.padded(pieces)
    mask = np.asarray(mask).copy()
    counts = np.bincount(pieces.track)
    mask[np.flatnonzero(has_next), counts[has_next] - 1] = False  # the join: fitted as the next one's start
    guess = jnp.asarray(motion.starting_states(pieces))
    loss = ShootingLoss(model._build(), model._scales(), jnp.asarray(model.rtol), weight)
    batch = (ts, position, jnp.asarray(mask), guess, jnp.asarray(following), jnp.asarray(has_next))
    params = (model._network(2, jax.random.key(0)), jnp.zeros_like(guess))
    params, _ = training.adam_then_lbfgs(params, loss, batch, NETWORKS["learning_rate"], NETWORKS["epochs"],
                                         NETWORKS["polish"])
    return params[0], float(loss(params, batch)), len(pieces)


def scored(label: str, model: UDE, later: Tracks, seconds: float) -> None:
    predicted = model.predict(later)
    errors = {}
    for key, prefix in (("test", SETS["family"]), ("off", SETS["off"])):
        rows = np.array([later.names[i].startswith(prefix) for i in later.track])
        errors[key] = float(np.sqrt(np.mean(np.sum((predicted[rows] - later.position[rows]) ** 2, axis=1))))
    print(f"{label}: train MSE {model.train_mse_:.4g} m², forecast RMS test {errors['test']:.3g} m, off "
          f"{errors['off']:.3g} m; {seconds:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segment", type=int, default=10, help="steps per segment")
    parser.add_argument("--weight", type=float, default=10.0, help="weight of the joins' gaps")
    args = parser.parse_args()
    train, observed, later = simulated(0, True)
    data = join_tracks(train, observed)
    clock = time.perf_counter()
    scored("single shooting", UDE(PHYSICS, **NETWORKS).fit(data), later, time.perf_counter() - clock)
    clock = time.perf_counter()
    network, loss, count = shooting_network(data, args.segment, args.weight)
    print(f"  multiple shooting on {count} segments of {args.segment} steps, weight {args.weight:g}: loss "
          f"{loss:.4g}", flush=True)
    polished = UDE(PHYSICS, **{**NETWORKS, "epochs": 1, "learning_rate": 1e-3})
    polished._network = lambda dim, key: network  # start from the multiple-shooting network
    polished.fit(data)
    print(f"  then single shooting from its network: starting MSE {polished.initial_mse_:.4g} m²", flush=True)
    scored(f"multiple then single shooting (segments of {args.segment})", polished, later,
           time.perf_counter() - clock)


if __name__ == "__main__":
    main()
