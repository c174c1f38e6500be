"""One shot solved by a chosen method — exact, PINN or Deep Ritz — beside the exact answer: the
job of ``hybridlab solve``."""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np

from hybridlab.data import write_table
from hybridlab.files import check_output_file
from hybridlab.physics import Projectile
from hybridlab.solvers import boundary_launch, pinn, relative_l2, ritz

METHODS = ("exact", "pinn", "ritz")


def solve_shot(spec: Mapping, method: str, speed: float | None, angle: float | None, to, horizon: float | None,
               points: int, out: str | None = None, epochs: int = 2000, polish: int = 2000, seed: int = 0) -> dict:
    """Solve the initial-value shot (``speed`` m/s, ``angle`` rad, on [0, ``horizon``] s,
    default its flight time) or the boundary-value one (``to`` = (X, Y) m after ``horizon`` s)
    by ``method``; write t, x, y at ``points`` equally spaced times to ``out`` if given. Returns
    {"method", "launch": {"speed" m/s, "angle" rad}, "rel_l2_vs_exact", "seconds"}."""
    if method not in METHODS:
        raise ValueError(f"method = {method!r}: must be one of {METHODS}")
    if int(points) != points or points < 2:
        raise ValueError(f"points = {points!r}: must be an integer >= 2")
    if horizon is not None and not (np.isfinite(horizon) and horizon > 0):
        raise ValueError(f"time = {horizon!r}: must be finite and > 0 (s)")
    if out is not None:
        check_output_file(out, "out")
    p = Projectile.from_spec(spec)
    boundary = to is not None
    if method == "ritz" and not boundary:
        raise ValueError("method = 'ritz' solves the boundary-value shot: give a target (to) and a time")
    clock = time.perf_counter()
    if boundary:
        speed, angle = boundary_launch(p, to, horizon)
    horizon = float(p.flight_time(speed, angle)) if horizon is None else float(horizon)
    if method == "exact":
        solution = None
    elif boundary:
        solution = (pinn if method == "pinn" else ritz).boundary_shot(p, to, horizon, epochs=epochs, polish=polish,
                                                                      seed=seed)
    else:
        solution = pinn.shot(p, speed, angle, horizon, epochs=epochs, polish=polish, seed=seed)
    t = np.linspace(0.0, horizon, int(points))
    x, y = p.trajectory(speed, angle, t) if solution is None else solution.trajectory(t)
    seconds = time.perf_counter() - clock
    launched = (speed, angle) if solution is None else solution.launch()
    error = 0.0 if solution is None else relative_l2(solution, p, speed, angle, horizon)
    if out is not None:
        write_table(out, {"t": t, "x": np.asarray(x), "y": np.asarray(y)})
    return {"method": method, "launch": {"speed": launched[0], "angle": launched[1]}, "rel_l2_vs_exact": error,
            "seconds": seconds}
