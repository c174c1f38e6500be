"""Recovering a gust from a track: ``hybridlab recover-wind`` (one track from a file) and
``hybridlab run --scenario gust`` (a smooth and a step gust, held-out families of both, the
L-curves and the singular values of the forward map).

Tracks are simulated with the wind sampled four times finer than the grid it is recovered on,
so that no method is scored on data made by its own discretisation (the "inverse crime").
"""

from __future__ import annotations

import os
import time

import jax
import numpy as np

from hybridlab.data import from_degrees, in_file_units, to_degrees, write_table
from hybridlab.data.formats import read_track
from hybridlab.files import check_new_directory, new_directory, run_directory, write_json
from hybridlab.inverse.aiming import aim, aim_sensitivity, reach
from hybridlab.inverse.regularisation import (METHODS, REGULARISED, RULE_TITLES, LearnedRegulariser,
                                              regularisation_path)
from hybridlab.inverse.wind import (Recovered, WindProblem, check_noise, check_sizes, check_track, forward_map, recover,
                                    refine, relative_error, smooth_gusts, step_gusts, wind_problem)
from hybridlab.physics import LinearDrag, Projectile
from hybridlab.physics.constants import G
from hybridlab.report.gust import build_gust_report, draw_recovery

#: A football-sized ball (0.43 kg, k = 0.1 kg/s: β = 0.23 /s) kicked at 25 m/s, 45°, tracked
#: at 120 times (about 37 frames per second) with 1 cm of noise; the wind on 41 samples.
BALL = Projectile(LinearDrag(k=0.1), mass=0.43)
SPEED, ANGLE, POINTS, NOISE, SAMPLES, FINER = 25.0, float(from_degrees(45.0)), 120, 0.01, 41, 4
#: The two examples: a smooth gust and a step (m/s, t in s).
EXAMPLES = {"smooth": lambda t: 3.0 + 4.0 * np.exp(-(((t - 1.5) / 0.5) ** 2)),
            "step": lambda t: np.where(t < 1.7, -2.0, 4.0)}


def forward_maps(projectile: Projectile, t, samples: int) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """((A, C, b) on ``samples`` wind samples, A on a grid FINER times finer): one Jacobian."""
    fine, c, b = forward_map(projectile, t, FINER * (samples - 1) + 1)
    return (fine @ refine(samples, FINER), c, b), fine


def gust_family(count: int, grid: np.ndarray, key: jax.Array) -> np.ndarray:
    """(count, len(grid)) winds (m/s): half smooth gusts, half steps."""
    return np.vstack([smooth_gusts(count // 2, grid, key),
                      step_gusts(count - count // 2, grid, jax.random.fold_in(key, 1))])


def learned_for(problem: WindProblem, fine: np.ndarray, seed: int, count: int = 200):
    """A regulariser learned on ``count`` synthetic problems with this problem's times, forward
    map and noise σ (smooth gusts and steps, on the fine grid) — never on the problem itself.
    The launch is projected out, so the training tracks need none."""
    key = jax.random.key(seed)
    winds = gust_family(count, np.linspace(0.0, problem.t[-1], fine.shape[1]), key)
    noise = problem.sigma * np.asarray(jax.random.normal(jax.random.fold_in(key, 2), (count, fine.shape[0])))
    pa, _ = problem.projected()
    return LearnedRegulariser(seed=seed).fit(pa, problem.sigma, winds[:, ::FINER],
                                             problem.project(winds @ fine.T + noise))


def recover_all(problem: WindProblem, methods, fine: np.ndarray, seed: int, rule: str | None = None,
                learned=None) -> tuple[dict[str, Recovered], dict]:
    """Every method's recovery of one problem (the learned regulariser trained first, unless
    given), λ by ``rule`` (default each method's own), and the paths of the regularised ones."""
    if "learned" in methods and learned is None:
        learned = learned_for(problem, fine, seed)
    paths = {name: regularisation_path(*problem.projected(), name, learned=learned, sigma=problem.sigma)
             for name in methods if name in REGULARISED}
    return {name: recover(problem, name, learned, rule, paths.get(name)) for name in methods}, paths


def recover_wind_file(path: str, mass: float, k: float, out: str, *, methods=METHODS, launch=None,
                      noise: float | None = None, samples: int | None = None, g: float = G, height: float = 0.0,
                      rule: str | None = None, seed: int = 0) -> dict:
    """Recover the wind of the track in ``path`` (t,x,y[,wind]; the optional ``wind`` column the
    true wind at each time, m/s) by each method, on ``samples`` wind samples (default SAMPLES, or
    the track's points if fewer); write ``out``/ wind.csv, result.json, the figures and, for the
    regularised methods, lcurve.csv; return the result. ``launch`` (speed m/s, angle degrees)
    and the result's launch angles are in file units. λ by ``rule``
    (default each method's own, ``DEFAULT_RULES``); result.json says which rule and why. Sizes and scales
    are checked before the file is read and before the forward map is computed."""
    check_new_directory(out, "out")
    launch = None if launch is None else (launch[0], float(from_degrees(launch[1])))
    check_noise(noise)  # before the forward map's compilation
    if samples is not None:
        check_sizes(samples)  # before the file is read, then against its points
    track = read_track(path)
    samples = min(SAMPLES, len(track["t"])) if samples is None else samples
    check_sizes(samples, len(track["t"]), path)
    t, positions = check_track(track["t"], np.column_stack([track["x"], track["y"]]), launch)
    projectile = Projectile(LinearDrag(k=k), mass=mass, g=g, height=height)
    maps, fine = forward_maps(projectile, t, samples)
    problem = wind_problem(projectile, t, positions, samples, launch, noise, maps)
    found, paths = recover_all(problem, methods, fine, seed, rule)
    truth = np.interp(problem.grid, track["t"], track["wind"]) if "wind" in track else None
    result = in_file_units(_result(problem, found, truth, launch, given=rule is not None))
    with new_directory(out) as work:
        columns = {"t": problem.grid, **({"true": truth} if truth is not None else {}),
                   **{name: entry.wind for name, entry in found.items()}}
        write_table(os.path.join(work, "wind.csv"), columns)
        if paths:  # only the regularised methods have an L-curve
            write_table(os.path.join(work, "lcurve.csv"), _curve_table({"track": paths}, {"track": found}))
        write_json(os.path.join(work, "result.json"), result)
        draw_recovery(work)
    return result


def _result(problem: WindProblem, found: dict[str, Recovered], truth, launch, given: bool = False) -> dict:
    """The JSON of recover-wind: each method's wind, weight and residual; the launch (given,
    or the first regularised method's)."""
    methods = {}
    for name, entry in found.items():
        methods[name] = {"t": problem.grid.tolist(), "wind": entry.wind.tolist(), "lambda": entry.weight,
                         "rule": entry.rule, "rule_why": _why(name, entry.rule, given), "residual_rms": entry.residual_rms}
        if entry.launch is not None:
            methods[name]["launch"] = {"speed": entry.launch[0], "angle": entry.launch[1]}
        if truth is not None:
            methods[name]["relative_error"] = relative_error(entry.wind, truth)
    fitted = next((entry.launch for name, entry in found.items() if name in REGULARISED),
                  next(iter(found.values())).launch)
    speed, angle = launch if launch is not None else fitted
    return {"methods": methods, "launch": {"speed": speed, "angle": angle, "fitted": launch is None},
            "noise": {"sigma": problem.sigma, "estimated": problem.sigma_estimated}}


def _why(method: str, rule: str | None, given: bool) -> str | None:
    """Why ``rule`` chose the λ of ``method`` (for result.json)."""
    if rule is None:
        return None
    if not given:
        return (f"{RULE_TITLES[rule]}, {method}'s own rule: on the λ benchmark's tuning draw "
                "(benchmarks/wind_lambda.py) it had the most cases within 1.5× of the error at the best λ in hindsight")
    return f"{RULE_TITLES[rule]}, given (--rule)"


def run_gust(out: str | None = None, seed: int = 0, quick: bool = False, echo=print) -> dict:
    """The scenario: the two examples, ``held`` held-out gusts of each family (8 quick, 30
    otherwise), the learned regulariser trained on 200 others; write the run directory."""
    out = run_directory(out, "gust")
    flight = float(BALL.flight_time(SPEED, ANGLE))
    t = np.linspace(flight / POINTS, flight, POINTS)
    clock = time.perf_counter()
    maps, fine = forward_maps(BALL, t, SAMPLES)
    echo(f"  forward map (the physics' Jacobian, {fine.shape[1]} wind samples) in {time.perf_counter() - clock:.1f} s")
    fine_grid = np.linspace(0.0, t[-1], fine.shape[1])
    velocity = SPEED * np.array([np.cos(ANGLE), np.sin(ANGLE)])
    # Apart from the learned regulariser's training problems (drawn from jax.random.key(seed)).
    key = jax.random.fold_in(jax.random.key(seed), 7)

    def problem_of(wind, index):
        clean = fine @ wind + maps[1] @ velocity + maps[2]
        noisy = clean + NOISE * np.asarray(jax.random.normal(jax.random.fold_in(key, index), clean.shape))
        return wind_problem(BALL, t, noisy.reshape(2, -1).T, SAMPLES, maps=maps)

    examples = {name: problem_of(shape(fine_grid), i) for i, (name, shape) in enumerate(EXAMPLES.items())}
    learned = learned_for(examples["smooth"], fine, seed)
    held = 8 if quick else 30
    metrics = {"scenario": "gust", "seed": seed, "quick": quick, "held_out": held, "noise": NOISE,
               "setup": {"mass": BALL.mass.item(), "k": BALL.drag.k.item(), "speed": SPEED, "angle_deg": 45.0,
                         "points": POINTS, "samples": SAMPLES},
               "singular_values": np.linalg.svd(examples["smooth"].projected()[0], compute_uv=False).tolist(),
               "examples": {}, "families": {}}
    table, curves, chosen = {"t": examples["smooth"].grid}, {}, {}
    for name, problem in examples.items():
        truth = EXAMPLES[name](problem.grid)
        found, curves[name] = recover_all(problem, METHODS, fine, seed, learned=learned)
        chosen[name] = found
        metrics["examples"][name] = {method: {"relative_error": relative_error(entry.wind, truth),
                                              "lambda": entry.weight, "rule": entry.rule}
                                     for method, entry in found.items()}
        table |= {f"{name}:true": truth, **{f"{name}:{method}": entry.wind for method, entry in found.items()}}
        echo(f"  {name} gust: " + ", ".join(f"{m} {e['relative_error']:.3f}" for m, e in
                                             metrics["examples"][name].items()))
    for family, draw in (("smooth", smooth_gusts), ("step", step_gusts)):
        winds = draw(held, fine_grid, jax.random.fold_in(key, 100 + len(family)))
        errors = {method: [] for method in METHODS}
        for i, wind in enumerate(winds):
            problem = problem_of(wind, 1000 * len(family) + i)
            for method in METHODS:
                errors[method].append(relative_error(recover(problem, method, learned).wind, wind[::FINER]))
        metrics["families"][family] = {method: {"mean": float(np.mean(e)), "median": float(np.median(e)),
                                                "max": float(np.max(e))} for method, e in errors.items()}
        echo(f"  held-out {family} gusts (median): " + ", ".join(
            f"{m} {v['median']:.3f}" for m, v in metrics["families"][family].items()))
    metrics["aim"] = aim_conditioning(BALL, SPEED)
    with new_directory(out) as work:
        write_table(os.path.join(work, "winds.csv"), table)
        write_table(os.path.join(work, "lcurve.csv"), _curve_table(curves, chosen))
        write_json(os.path.join(work, "metrics.json"), metrics)
        build_gust_report(work)
    metrics["directory"] = out
    return metrics


def aim_conditioning(projectile: Projectile, speed: float, points: int = 40) -> dict:
    """How a small error in a target's distance moves the launch angle (deg per m), on the low
    and the high arc at ``speed`` (m/s), for targets on the ground from 1 % of the farthest
    reach to within 10⁻⁶ of it (geometrically closer)."""
    farthest = float(reach(projectile, speed)[0])
    gap = farthest * np.logspace(-6.0, np.log10(0.99), points)
    distance = farthest - gap
    hits = aim(projectile, distance, speed=speed)
    return {"speed": speed, "reach": farthest, "gap": gap.tolist(),
            **{arc: to_degrees(np.asarray(aim_sensitivity(projectile, speed, getattr(hits, arc), distance))).tolist()
               for arc in ("low", "high")}}


def _curve_table(curves, found) -> dict:
    """lcurve(s).csv: per example, method and λ (largest first): the residual (m), the penalty
    and whether it is the λ chosen (``found``: each example's :class:`Recovered` by method)."""
    rows = {"example": [], "method": [], "lambda": [], "residual": [], "penalty": [], "chosen": []}
    for name, paths in curves.items():
        for method, path in paths.items():
            rows["example"] += [name] * len(path.weights)
            rows["method"] += [method] * len(path.weights)
            rows["lambda"] += path.weights.tolist()
            rows["residual"] += path.residuals.tolist()
            rows["penalty"] += path.penalties.tolist()
            rows["chosen"] += (path.weights == found[name][method].weight).astype(float).tolist()
    return rows
