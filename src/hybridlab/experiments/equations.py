"""``hybridlab run --scenario equations``: the networks that solve the equations, side by side
with the exact solver on the same shots — the PINN forward (the lecture's shot put, a baseball
under quadratic drag), the boundary-value shot by Deep Ritz, the PINN and the exact closed
form, and the inverse PINN beside the grey-box fit — with errors, times and each loss term's
curve, written as a run directory (metrics.json, trajectories.csv, losses.csv, figures, report.html).
"""

from __future__ import annotations

import os
import time

import jax
import numpy as np

from hybridlab.data import from_degrees, simulate_tracks, write_table
from hybridlab.dynamics import TrajectoryFit
from hybridlab.files import new_directory, run_directory, write_json
from hybridlab.physics import LinearDrag, Projectile, QuadraticDrag
from hybridlab.physics.constants import G
from hybridlab.report.equations import build_equations_report
from hybridlab.solvers import boundary_launch, inverse, pinn, relative_l2, ritz

#: The lecture's shot put (15 m/s at 60°) and a baseball (40 m/s at 30°).
SHOTS = {"shot put": (Projectile(LinearDrag(k=1.8), mass=7.26, g=G), 15.0, from_degrees(60.0)),
         "baseball": (Projectile(QuadraticDrag(c=9e-4), mass=0.145, g=G), 40.0, from_degrees(30.0))}
#: The boundary-value shot: where the shot put is after this many seconds.
BOUNDARY_TIME = 2.0
#: The inverse problem: points of one shot-put track and their noise (m).
INVERSE_POINTS, INVERSE_NOISE = 10, 0.05
_TIMES = 201


def run_equations(out: str | None = None, seed: int = 0, quick: bool = False, echo=print) -> dict:
    """Solve every case; write the run directory ``out`` (default ``runs/equations-<time>``).
    ``quick`` trains each network for a quarter of the steps. Returns the metrics."""
    out = run_directory(out, "equations")
    steps = {"epochs": 500 if quick else 2000, "polish": 500 if quick else 2000, "seed": seed}
    metrics = {"scenario": "equations", "seed": seed, "quick": quick, "forward": {}, "boundary": {}, "inverse": {}}
    trajectories, losses = {}, []
    with new_directory(out) as work:
        for case, (p, speed, angle) in SHOTS.items():
            horizon = float(p.flight_time(speed, angle))
            solution = pinn.shot(p, speed, angle, horizon, **steps)
            metrics["forward"][case] = _scored(solution, p, speed, angle, horizon, echo, f"forward {case}")
            _add_trajectory(trajectories, f"{case}: pinn", solution, p, speed, angle, horizon)
            losses += _losses(f"{case}: pinn", solution.history_)
        metrics["boundary"] = _boundary(steps, trajectories, losses, echo)
        metrics["inverse"] = _inverse(steps, seed, losses, echo)
        write_table(os.path.join(work, "trajectories.csv"), _columns(trajectories))
        write_table(os.path.join(work, "losses.csv"), {key: [row[i] for row in losses] for i, key in
                                                       enumerate(("run", "optimiser", "step", "term", "value"))})
        write_json(os.path.join(work, "metrics.json"), metrics)
        build_equations_report(work)
    metrics["directory"] = out
    return metrics


def _scored(solution, p, speed, angle, horizon, echo, label) -> dict:
    """Error against the exact path, the training time and the exact solver's (its second call:
    warm, where the first may compile)."""
    times = np.linspace(0.0, horizon, _TIMES)
    p.trajectory(speed, angle, times)
    clock = time.perf_counter()
    p.trajectory(speed, angle, times)
    exact = time.perf_counter() - clock
    error = relative_l2(solution, p, speed, angle, horizon)
    echo(f"  {label:<26} relative L2 {error:.2e}, trained in {solution.train_seconds_:5.1f} s (exact: {exact:.3f} s)")
    return {"rel_l2": error, "train_s": solution.train_seconds_, "exact_s": exact, "launch": list(solution.launch()),
            "horizon": horizon}


def _boundary(steps, trajectories, losses, echo) -> dict:
    p, speed, angle = SHOTS["shot put"]
    target = [float(c) for c in p.trajectory(speed, angle, BOUNDARY_TIME)]
    exact_speed, exact_angle = boundary_launch(p, target, BOUNDARY_TIME)
    out = {"target": target, "time": BOUNDARY_TIME, "exact_launch": [exact_speed, exact_angle]}
    for method, module in (("ritz", ritz), ("pinn", pinn)):
        solution = module.boundary_shot(p, target, BOUNDARY_TIME, **steps)
        out[method] = _scored(solution, p, exact_speed, exact_angle, BOUNDARY_TIME, echo, f"boundary {method}")
        _add_trajectory(trajectories, f"boundary: {method}", solution, p, exact_speed, exact_angle, BOUNDARY_TIME)
        losses += _losses(f"boundary: {method}", solution.history_)
    return out


def _inverse(steps, seed, losses, echo) -> dict:
    """k of the shot put from a few noisy points: the inverse PINN beside TrajectoryFit."""
    truth, speed, angle = SHOTS["shot put"]
    tracks = simulate_tracks(truth, 1, INVERSE_POINTS, (speed, speed), (angle, angle), INVERSE_NOISE,
                             jax.random.key(seed))
    guess = Projectile(LinearDrag(k=0.5), mass=float(truth.mass), g=G)  # k unknown, from 0.5 kg/s
    clock = time.perf_counter()
    grey = TrajectoryFit(guess).fit(tracks)
    grey_s = time.perf_counter() - clock
    found = inverse.learn(tracks, guess, epochs=steps["epochs"], polish=steps["polish"], seed=steps["seed"])
    losses += [("inverse: pinn", "adam", step, term, value) for step, data, physics in found.history["adam"]
               for term, value in (("data", data), ("physics", physics))]
    losses += [("inverse: pinn", "lbfgs", step, "total", value) for step, value in enumerate(found.history["lbfgs"])]
    k, k_fit = found.parameters["k"], float(grey.values_[0])
    echo(f"  inverse: k = {k:.4g} kg/s by the PINN ({found.seconds:.1f} s), {k_fit:.4g} ± {grey.stderr_[0]:.2g} by "
         f"TrajectoryFit ({grey_s:.1f} s); true 1.8")
    return {"true_k": float(truth.drag.k), "points": INVERSE_POINTS, "noise": INVERSE_NOISE,
            "pinn": {"k": k, "seconds": found.seconds},
            "trajectory_fit": {"k": k_fit, "stderr": grey.stderr_[0], "seconds": grey_s}}


def _add_trajectory(trajectories, label, solution, p, speed, angle, horizon) -> None:
    t = np.linspace(0.0, horizon, _TIMES)
    x, y = solution.trajectory(t)
    ex, ey = (np.asarray(a) for a in p.trajectory(speed, angle, t))
    trajectories[label] = (t, x, y, ex, ey)


def _columns(trajectories) -> dict:
    """trajectories.csv: one row per (run, time): t, the network's x and y, the exact x and y."""
    runs = [label for label, rows in trajectories.items() for _ in rows[0]]
    stacked = [np.concatenate([rows[i] for rows in trajectories.values()]) for i in range(5)]
    return dict(zip(("run", "t", "x", "y", "exact_x", "exact_y"), [runs, *stacked]))


def _losses(label, history) -> list[tuple]:
    rows = [(label, "adam", step, "residual" if label.endswith("pinn") else "action", value)
            for step, value in history["adam"]]
    return rows + [(label, "lbfgs", step, "total", value) for step, value in enumerate(history["lbfgs"])]
