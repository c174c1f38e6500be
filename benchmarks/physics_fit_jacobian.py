"""The Jacobian ∂D_i/∂c that PhysicsFit's Levenberg–Marquardt needs, for baseball shots whose
range comes from a Diffrax solve: reverse mode over the whole batch against PhysicsFit's
per-shot gradients, and the full baseball PhysicsFit.

    python benchmarks/physics_fit_jacobian.py [--shots N]

(a) ``jax.jacrev`` of the batched range: one backward pass through the batched solve per
    output row, n passes in all (forward mode cannot go through Diffrax's custom VJP);
(b) PhysicsFit's range (``jax.jacfwd`` through its custom JVP): one vmapped backward pass of
    per-shot gradients.
Both jitted and warmed up; the time is the best of 3 repeats. Their Jacobians must agree.
Then the time of ``PhysicsFit.fit`` on the baseball scenario's training split (compile included,
as a user sees it) and its estimate of c.
"""

from __future__ import annotations

import argparse
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

import hybridlab as hl
from hybridlab.experiments.scenarios import SCENARIOS
from hybridlab.models import PhysicsFit


def best_time(function, repeats=3):
    jax.block_until_ready(function())  # warm-up: compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(function())
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=800)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, jax {jax.__version__} on {jax.devices()[0]}")
    splits = SCENARIOS["baseball"].splits(0, quick=False)
    X = jnp.asarray(splits["train"].X[: args.shots])
    model = PhysicsFit({"drag": "quadratic", "c": 9e-4, "mass": 0.145}, unknown=["c"])
    c = jnp.array([9e-4])

    def batched(values):
        return hl.Projectile(drag=hl.QuadraticDrag(c=values[0]), mass=0.145).range(X[:, 0], X[:, 1])

    reverse = jax.jit(jax.jacrev(batched))
    per_shot = jax.jit(jax.jacfwd(lambda values: model._range(values, X)))
    difference = float(np.max(np.abs(reverse(c) - per_shot(c)) / np.abs(reverse(c))))
    t_reverse, t_per_shot = best_time(lambda: reverse(c)), best_time(lambda: per_shot(c))
    print(f"Jacobian of {len(X)} baseball ranges with respect to c (max relative difference {difference:.1e})")
    print(f"  (a) jacrev of the batched solve   {t_reverse:9.3f} s")
    print(f"  (b) per-shot gradients (PhysicsFit) {t_per_shot:7.3f} s   {t_reverse / t_per_shot:,.0f}x faster")

    start = time.perf_counter()
    model = PhysicsFit({"drag": "quadratic", "c": 5e-4, "mass": 0.145}, unknown=["c"])
    model.fit(splits["train"].X, splits["train"].y)
    estimate = model.physics_estimates()["c"]
    print(f"PhysicsFit on {len(splits['train'].y)} baseball shots (c from 5e-4, compile included): "
          f"{time.perf_counter() - start:.1f} s, c = {estimate['value']:.6g} ± {estimate['stderr']:.2g} kg/m")


if __name__ == "__main__":
    main()
