"""The UDE speed benchmark in hybridlab's JAX engine, against ude_torchdiffeq.py (PyTorch).

Setup (identical in both scripts): the data of ude_tracks_data.make_data(0) — 20 baseball
tracks × 30 points on one grid t = linspace(0, 1, 30) s, σ = 5 cm, true drag c v² with
c = 9e-4 kg/m, m = 0.145 kg. Model: the field newton.Newton(NetworkDrag(N, 45, g), g), i.e.
dv/dt = −g ŷ − g·softplus(N(|v|/45))·v̂, N = drag_network((32, 32), "softplus", key(0)) — a
1-32-32-1 softplus network whose last layer starts at weights 0 and bias log(expm1(0.05)).
The initial states are known (not trained). Loss: mean squared position error over all
tracks, points and both coordinates. Solve: newton.solve_tracks — Tsit5 at rtol = atol = 1e-6,
vmapped over the tracks (a step size per track), reverse mode through the solve
(RecursiveCheckpointAdjoint). Full-batch Adam, lr 1e-2, constant
(training.optimiser("adam", lr, None, epochs)). The engines differ only in the solve: Tsit5
with a step size per track here, dopri5 with one step size for the whole batch in torchdiffeq
(both 5(4) Runge–Kutta pairs at the same tolerances; the first epoch's MSE agrees to 5 digits).

One compiled value-and-grad + Adam step (equinox.filter_jit) per Python call, so that each
epoch's time and MSE are recorded; with --chunk K (K must divide the epochs), K epochs per
compiled call (jax.lax.scan, which also returns each epoch's MSE; training.first_order does
not return them). The MSE of epoch k is the training loss evaluated in that epoch (before
its update); epochs to the floor: the first with MSE ≤ 1.1·floor, its seconds counted from
the start of epoch 1 (compilation included) to the end of that epoch's call (of its chunk,
with --chunk). With --chunk K, each epoch's time is its chunk's over K, and first_epoch_s is the first chunk's
time (compilation and K epochs). compile_s = first_epoch_s − chunk·median_epoch_s; median,
mean and max epoch times over epochs 2..end (after the first chunk); a mean far above the
median means the CPUs were shared. Prints one JSON line.

Usage:
    .venv/bin/python benchmarks/ude_speed.py --epochs 200
    .venv/bin/python benchmarks/ude_speed.py --epochs 200 --chunk 50
    .venv/bin/python benchmarks/ude_speed.py --epochs 200 --chunk 50 --polish 100

--polish N adds N L-BFGS steps after Adam (total_s and final_mse then include them; the
per-epoch keys are Adam's).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import hybridlab  # noqa: F401  (float64)
from hybridlab.physics import newton
from hybridlab.networks import training
from hybridlab.networks.drag import NetworkDrag, drag_network

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ude_tracks_data import RATIO_SPEEDS, first_at_floor, make_data, significant, true_force  # noqa: E402

RTOL = 1e-6


def field(network, g):
    return newton.Newton(NetworkDrag(network, jnp.asarray(45.0), g), g)


def loss(network, data):
    """Mean squared position error (m², per coordinate)."""
    s0, ts, position, g = data
    states = newton.solve_tracks(field(network, g), s0, ts, RTOL)
    return jnp.mean((states[..., :2] - position) ** 2)


def _update(network, state, data, optimiser):
    """One Adam step: (network, state, loss before the step)."""
    value, grads = jax.value_and_grad(loss)(network, data)
    updates, state = optimiser.update(grads, state, network)
    return optax.apply_updates(network, updates), state, value


step = eqx.filter_jit(_update)


@eqx.filter_jit
def chunk(network, state, data, optimiser, steps):
    def one(carry, _):
        network, state, value = _update(*carry, data, optimiser)
        return (network, state), value

    (network, state), values = jax.lax.scan(one, (network, state), None, length=steps)
    return network, state, values


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--chunk", type=int, default=1, help="epochs per compiled call (lax.scan)")
    parser.add_argument("--polish", type=int, default=0,
                        help="L-BFGS steps after Adam (training.lbfgs, hybridlab's recipe for its UDEs)")
    args = parser.parse_args()
    if args.chunk < 1 or args.epochs % args.chunk:
        parser.error(f"--epochs {args.epochs} must be a multiple of --chunk {args.chunk} (a shorter last chunk "
                     "would compile a second program)")

    raw = make_data(0)
    g = jnp.asarray(raw["G"])
    ts = jnp.broadcast_to(jnp.asarray(raw["t"]), (len(raw["s0"]), len(raw["t"])))
    data = (jnp.asarray(raw["s0"]), ts, jnp.asarray(raw["noisy"]), g)
    network = drag_network((32, 32), "softplus", jax.random.key(0))
    optimiser = training.optimiser("adam", args.learning_rate, None, args.epochs)
    state = optimiser.init(network)

    mse, ends, epoch_s = [], [], []
    first_call = None
    clock = time.perf_counter()
    done = 0
    while done < args.epochs:
        k = args.chunk
        start = time.perf_counter()
        if args.chunk == 1:
            network, state, value = step(network, state, data, optimiser)
            values = [float(jax.block_until_ready(value))]
        else:
            network, state, value = chunk(network, state, data, optimiser, k)
            values = np.asarray(jax.block_until_ready(value)).tolist()
        now = time.perf_counter()
        first_call = now - start if first_call is None else first_call
        mse += values
        epoch_s += [(now - start) / k] * k
        ends += [now - clock] * k
        done += k
    adam_s = time.perf_counter() - clock
    adam_mse = float(training.evaluate(loss, network, data))
    if args.polish:
        network = jax.block_until_ready(training.lbfgs(network, loss, data, args.polish))
    total = time.perf_counter() - clock
    final = float(training.evaluate(loss, network, data))
    drag = NetworkDrag(network, jnp.asarray(45.0), g)
    force = raw["M"] * np.asarray(drag.magnitude(jnp.asarray(RATIO_SPEEDS)))
    epochs_to, seconds_to = first_at_floor(mse, raw["floor"], ends)
    first_k = args.chunk
    rest = epoch_s[first_k:]
    median = float(np.median(rest)) if rest else first_call / first_k
    print(json.dumps({
        "engine": "hybridlab JAX, " + ("one call per epoch" if args.chunk == 1 else f"lax.scan chunks of {args.chunk}"),
        "solver": "Tsit5 rtol=atol=1e-6, vmapped over 20 tracks, RecursiveCheckpointAdjoint",
        "versions": f"jax {jax.__version__}, equinox {eqx.__version__}",
        "epochs": args.epochs, "chunk": args.chunk, "first_epoch_s": first_call, "median_epoch_s": median,
        "compile_s": first_call - first_k * median,
        "mean_epoch_s": float(np.mean(rest)) if rest else median, "max_epoch_s": max(rest, default=median),
        "adam_s": adam_s, "adam_final_mse": adam_mse, "polish": args.polish, "total_s": total, "floor": raw["floor"],
        "mse": significant(mse), "epochs_to_floor": epochs_to, "seconds_to_floor": seconds_to,
        "force_ratio": {f"{v:g}": round(float(r), 4) for v, r in zip(RATIO_SPEEDS, force / true_force(RATIO_SPEEDS))},
        "final_mse": final}))


if __name__ == "__main__":
    main()
