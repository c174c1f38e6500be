"""Networks that solve the equations, beside the exact solver (issue 12 §2, §3): accuracy and
time of the PINN (forward and inverse) and the Deep Ritz method, and the loss-balance ablation.

Parts (one JSON line each):
- forward: the PINN on the lecture's shot put (m = 7.26 kg, k = 1.8 kg/s, 15 m/s at 60°) and
  on a baseball under quadratic drag (m = 0.145 kg, c = 9e-4 kg/m, 40 m/s at 30°), over the
  flight time: relative L2 error against the exact trajectory (1001 times), training time,
  and the exact solver's time for the same 1001 points, cold (compile included) and warm;
  in the problem's units (the default) and in SI units (the ablation);
- boundary: the boundary-value shot to where the shot put is after 2 s, by Deep Ritz and by the
  PINN, against the closed-form path; the exact aim (hybridlab.inverse.aim) at the launch speed
  found, whose arcs must contain the launch angle;
- inverse: k from 10 points (σ = 5 cm) of the shot put, five noise seeds: the PINN's k beside
  TrajectoryFit's (Levenberg–Marquardt through the ODE, ± standard error), with Adam + L-BFGS and
  with Adam alone, in the problem's units and in SI, and with the physics term under-weighted.

Usage: python benchmarks/pinn.py [--parts forward,boundary,inverse] [--seeds 5]
"""

from __future__ import annotations

import argparse
import json
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import hybridlab as hl
from hybridlab.data import simulate_tracks
from hybridlab.dynamics import TrajectoryFit
from hybridlab.inverse import aim
from hybridlab.solvers import boundary_launch, inverse, pinn, relative_l2, ritz

G = 9.81
SHOT_PUT = hl.Projectile(hl.LinearDrag(k=1.8), mass=7.26, g=G)
BASEBALL = hl.Projectile(hl.QuadraticDrag(c=9e-4), mass=0.145, g=G)
CASES = {"shot put": (SHOT_PUT, 15.0, np.deg2rad(60.0)), "baseball": (BASEBALL, 40.0, np.deg2rad(30.0))}


def _exact_times(p, speed, angle, horizon):
    t = jnp.linspace(0.0, horizon, 1001)
    solve = eqx.filter_jit(lambda q, s, a, tt: q.trajectory(s, a, tt))
    start = time.perf_counter()
    jax.block_until_ready(solve(p, speed, angle, t))
    cold = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(10):
        jax.block_until_ready(solve(p, speed, angle, t))
    return cold, (time.perf_counter() - start) / 10


def forward():
    for name, (p, speed, angle) in CASES.items():
        horizon = float(p.flight_time(speed, angle))
        cold, warm = _exact_times(p, speed, angle, horizon)
        for scaled in (True, False):
            solution = pinn.shot(p, speed, angle, scaled=scaled)
            print(json.dumps({"part": "forward", "case": name, "scaled": scaled, "horizon_s": horizon,
                              "rel_l2": relative_l2(solution, p, speed, angle, horizon),
                              "train_s": solution.train_seconds_, "exact_cold_s": cold, "exact_warm_s": warm,
                              "final_loss": solution.history_["lbfgs"][-1]}), flush=True)


def boundary():
    speed, angle = 15.0, np.deg2rad(60.0)
    target = [float(c) for c in SHOT_PUT.trajectory(speed, angle, 2.0)]
    exact_speed, exact_angle = boundary_launch(SHOT_PUT, target, 2.0)
    arcs = aim(SHOT_PUT, target[0], target_height=target[1], speed=exact_speed)
    for method, module in (("ritz", ritz), ("pinn", pinn)):
        solution = module.boundary_shot(SHOT_PUT, target, 2.0)
        found = solution.launch()
        print(json.dumps({"part": "boundary", "method": method, "target": target,
                          "rel_l2": relative_l2(solution, SHOT_PUT, exact_speed, exact_angle, 2.0),
                          "train_s": solution.train_seconds_, "launch": found,
                          "exact_launch": [exact_speed, exact_angle],
                          "aim_arcs_at_that_speed_deg": [float(np.rad2deg(arcs.low)), float(np.rad2deg(arcs.high))],
                          "launch_angle_deg": float(np.rad2deg(found[1]))}), flush=True)


def inverse_part(seeds: int):
    variants = {"scaled, Adam + L-BFGS": dict(scaled=True, epochs=2000, polish=2000),
                "SI, Adam + L-BFGS": dict(scaled=False, epochs=2000, polish=2000),
                "scaled, Adam only": dict(scaled=True, epochs=3000, polish=0),
                "SI, Adam only": dict(scaled=False, epochs=3000, polish=0),
                "scaled, physics weight 1e-4": dict(scaled=True, epochs=2000, polish=2000, weight=1e-4)}
    guess = hl.Projectile(hl.LinearDrag(k=0.5), mass=7.26, g=G)
    for seed in range(seeds):
        tracks = simulate_tracks(SHOT_PUT, 1, 10, (15, 15), (np.deg2rad(60), np.deg2rad(60)), 0.05,
                                 jax.random.key(seed))
        start = time.perf_counter()
        grey = TrajectoryFit({"drag": {"law": "linear", "k": 0.5}, "mass": 7.26, "g": G}, unknown=("k",)).fit(tracks)
        row = {"part": "inverse", "seed": seed, "trajectory_fit": {"k": float(grey.values_[0]),
                                                                   "stderr": grey.stderr_[0],
                                                                   "s": time.perf_counter() - start}}
        for name, options in variants.items():
            found = inverse.learn(tracks, guess, ("k",), **options)
            row[name] = {"k": found.parameters["k"], "s": found.seconds}
        print(json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="forward,boundary,inverse")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    parts = args.parts.split(",")
    if "forward" in parts:
        forward()
    if "boundary" in parts:
        boundary()
    if "inverse" in parts:
        inverse_part(args.seeds)


if __name__ == "__main__":
    main()
