"""Aiming at many targets: hybridlab's exact aim against a per-target SciPy baseline, and the
learned encoder–decoders against the truth (issue 10 §4).

For each scenario (shotput: linear drag; baseball: quadratic drag) ``--n`` random reachable
targets are drawn: a speed v uniform in the training speeds and a target at the range of a
random angle in [5°, 85°], so that both arcs exist. Timed:

- exact: ``aim(projectile, d, speed=v)`` (both arcs) for all targets in one call, after a
  warm-up call on other targets of the same shape (compile time reported apart);
- SciPy: what a user writes per target — a range function (``solve_ivp`` with a ground event,
  rtol 1e-12) and ``brentq`` on each side of the best angle (``minimize_scalar``, bounded), for
  ``--scipy-n`` of the targets (it is slow), giving a time per target;
- residuals: max |D(v, θ) − d| / max(d, 1 m) over the answers, D from ``Projectile.range``.

Then the encoder–decoders (least-speed branch) through the scenario's fitted MLP and physics
fit, trained on 64 targets, and checked on ``--held-out`` targets against the true physics
and the exact least speed.

Usage: python benchmarks/aim_targets.py [--n 10000] [--scipy-n 100] [--held-out 1000]
       [--scenarios shotput,baseball] [--parts exact,learned]
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, minimize_scalar

import hybridlab  # noqa: F401  (float64)
from hybridlab.experiments.aiming import least_speed_encoder
from hybridlab.experiments.scenarios import SCENARIOS
from hybridlab.inverse import aim, evaluate_aim


def targets(spec, n: int, seed: int):
    rng = np.random.default_rng(seed)
    speed = rng.uniform(*spec.speed, n)
    angle = np.deg2rad(rng.uniform(5.0, 85.0, n))
    return speed, np.asarray(spec.truth.range(speed, angle))


def scipy_range(p, speed, angle):
    """The range by solve_ivp with a ground event: the per-shot function a user writes."""
    m, g = float(p.mass), float(p.g)
    law = p.label()
    k = float(getattr(p.drag, "k", 0.0))
    c = float(getattr(p.drag, "c", 0.0))

    def field(t, s):
        vx, vy = s[2], s[3]
        speed_now = np.hypot(vx, vy)
        drag = (k if "linear" in law else c * speed_now) / m
        return [vx, vy, -drag * vx, -g - drag * vy]

    ground = lambda t, s: s[1]  # noqa: E731
    ground.terminal, ground.direction = True, -1
    t_max = 10 * speed / g + 10
    sol = solve_ivp(field, (0, t_max), [0, 0, speed * np.cos(angle), speed * np.sin(angle)], events=ground,
                    rtol=1e-12, atol=1e-12, method="DOP853")
    return sol.y_events[0][0][0] if sol.t_events[0].size else np.nan


def scipy_arcs(p, speed, distance):
    best = minimize_scalar(lambda a: -scipy_range(p, speed, a), bounds=(1e-6, np.pi / 2 - 1e-6), method="bounded",
                           options={"xatol": 1e-10}).x
    miss = lambda a: scipy_range(p, speed, a) - distance  # noqa: E731
    return (brentq(miss, 1e-6, best, xtol=1e-14, rtol=1e-15), brentq(miss, best, np.pi / 2 - 1e-6, xtol=1e-14,
                                                                        rtol=1e-15))


def residual(p, speed, angles, distance):
    landed = np.asarray(p.range(speed, angles))
    return float(np.max(np.abs(landed - distance) / np.maximum(distance, 1.0)))


def exact_part(spec, n: int, scipy_n: int) -> dict:
    p = spec.truth
    warm_v, warm_d = targets(spec, n, 1)
    speed, distance = targets(spec, n, 0)
    start = time.perf_counter()
    jax.block_until_ready(aim(p, warm_d, speed=warm_v))
    cold = time.perf_counter() - start
    start = time.perf_counter()
    hits = jax.block_until_ready(aim(p, distance, speed=speed))
    warm = time.perf_counter() - start
    ok = np.asarray(hits.count) == 2
    result = {"n": n, "compile_and_first_s": cold, "warm_s": warm, "per_target_s": warm / n,
              "both_arcs_found": int(ok.sum()),
              "max_residual": max(residual(p, speed[ok], np.asarray(hits.low)[ok], distance[ok]),
                                  residual(p, speed[ok], np.asarray(hits.high)[ok], distance[ok]))}
    start = time.perf_counter()
    arcs = np.array([scipy_arcs(p, v, d) for v, d in zip(speed[:scipy_n], distance[:scipy_n])])
    scipy_s = (time.perf_counter() - start) / scipy_n
    result["scipy"] = {"n": scipy_n, "per_target_s": scipy_s,
                       "max_residual": max(residual(p, speed[:scipy_n], arcs[:, 0], distance[:scipy_n]),
                                           residual(p, speed[:scipy_n], arcs[:, 1], distance[:scipy_n])),
                       "max_angle_difference_rad": float(np.max(np.abs(
                           arcs - np.column_stack([hits.low, hits.high])[:scipy_n])))}
    result["speedup_warm"] = scipy_s / result["per_target_s"]
    result["speedup_cold"] = scipy_s * n / (cold + 0.0)
    return result


def learned_part(spec, held_out: int) -> dict:
    splits = spec.splits(0, quick=False)
    ladder = spec.ladder(False, 0)
    case = spec.aiming
    rng = np.random.default_rng(2)
    test = rng.uniform(case.near, case.far, held_out)
    out = {}
    for name in ("mlp", "physics"):
        decoder = ladder[name]
        start = time.perf_counter()
        decoder.fit(splits["train"].X, splits["train"].y)
        decoder_s = time.perf_counter() - start
        model = least_speed_encoder(spec, decoder, quick=False, seed=0)
        start = time.perf_counter()
        model.fit(np.linspace(case.near, case.far, 64))
        seconds = time.perf_counter() - start
        scored = evaluate_aim(model, spec.truth, test)
        out[name] = {"decoder_fit_s": decoder_s, "encoder_train_s": seconds, "miss": scored["miss"],
                     "speed_excess": scored["speed_excess"]}
        print(name, json.dumps(out[name]), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--scipy-n", type=int, default=100)
    parser.add_argument("--held-out", type=int, default=1000)
    parser.add_argument("--scenarios", default="shotput,baseball")
    parser.add_argument("--parts", default="exact,learned", help="exact, learned or both")
    args = parser.parse_args()
    results = {}
    for name in args.scenarios.split(","):
        spec = SCENARIOS[name]
        results[name] = {}
        if "exact" in args.parts:
            results[name]["exact"] = exact_part(spec, args.n, args.scipy_n)
            print(name, json.dumps(results[name]["exact"]), flush=True)
        if "learned" in args.parts:
            results[name]["learned"] = learned_part(spec, args.held_out)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
