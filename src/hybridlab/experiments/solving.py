"""One shot solved by a chosen method — exact, PINN or Deep Ritz — beside the exact answer: the
job of ``hybridlab solve``."""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np

from hybridlab.data import from_degrees, in_file_units, write_table
from hybridlab.experiments.jobs import MAX_ROWS
from hybridlab.files import check_output_file
from hybridlab.physics import Projectile
from hybridlab.solvers import NetworkSolver, boundary_launch, pinn, relative_l2, ritz

METHODS = ("exact", "pinn", "ritz")


def solve_shot(spec: Mapping, method: str, *, speed: float | None, angle: float | None, to, horizon: float | None,
               points: int, out: str | None = None, epochs: int = 2000, polish: int = 2000, seed: int = 0) -> dict:
    """Solve the initial-value shot (``speed`` m/s, ``angle`` degrees, on [0, ``horizon``] s,
    default its flight time) or the boundary-value one (``to`` = (X, Y) m after ``horizon`` s)
    by ``method``; write t, x, y at ``points`` equally spaced times to ``out`` if given. Returns
    {"method", "launch": {"speed" m/s, "angle" degrees}, "rel_l2_vs_exact", "seconds"}. The path
    stays above the ground: a target below it, or a horizon past the landing, is refused."""
    if method not in METHODS:
        raise ValueError(f"method = {method!r}: must be one of {METHODS}")
    # Bounded before the times are allocated (8 bytes each, three columns).
    if int(points) != points or not 2 <= points <= MAX_ROWS:
        raise ValueError(f"points = {points!r}: must be an integer between 2 and {MAX_ROWS}")
    if horizon is not None and not (np.isfinite(horizon) and horizon > 0):
        raise ValueError(f"time = {horizon!r}: must be finite and > 0 (s)")
    if out is not None:
        check_output_file(out, "out")
    p = Projectile.from_spec(spec)
    if method == "ritz" and to is None:
        raise ValueError("method = 'ritz' solves the boundary-value shot: give a target (to) and a time")
    if method == "ritz":
        ritz.check_action(p)
    clock = time.perf_counter()
    speed, angle = _launch(p, speed, None if angle is None else float(from_degrees(angle)), to, horizon)
    solution = _network(p, method, speed, angle, to, horizon, epochs=epochs, polish=polish, seed=seed)
    horizon = float(p.flight_time(speed, angle)) if horizon is None else float(horizon)
    t = np.linspace(0.0, horizon, int(points))
    x, y = p.trajectory(speed, angle, t) if solution is None else solution.trajectory(t)
    seconds = time.perf_counter() - clock
    launched = (speed, angle) if solution is None else solution.launch()
    error = 0.0 if solution is None else relative_l2(solution, p, speed, angle, horizon)
    if not (np.all(np.isfinite([*launched, error])) and np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError(f"the {method} solution is not finite (launch speed {launched[0]:.3g} m/s, error "
                         f"{error:.3g}): its trajectory overflows float64")
    if out is not None:
        write_table(out, {"t": t, "x": np.asarray(x), "y": np.asarray(y)})
    return in_file_units({"method": method, "launch": {"speed": launched[0], "angle": launched[1]},
                          "rel_l2_vs_exact": error, "seconds": seconds})


def _launch(p: Projectile, speed, angle, to, horizon) -> tuple[float, float]:
    """(speed m/s, angle rad): the boundary-value shot's exact launch to ``to``, or the given
    one, whose horizon must not pass its landing (the trajectory would go through the ground)."""
    if to is not None:
        return boundary_launch(p, to, horizon)
    if horizon is not None and horizon > (landing := float(p.flight_time(speed, angle))):
        raise ValueError(f"time = {horizon!r}: the shot lands after {landing:.10g} s; a longer horizon would take its "
                         "trajectory through the ground")
    return speed, angle


def _network(p: Projectile, method: str, speed, angle, to, horizon, **steps) -> NetworkSolver | None:
    """The network ``method``'s solution; None for the exact one. Given no horizon, the PINN
    takes the flight time, and its messages name the speed that set it."""
    if method == "exact":
        return None
    if to is not None:
        return (pinn if method == "pinn" else ritz).boundary_shot(p, to, horizon, **steps)
    return pinn.shot(p, speed, angle, horizon, **steps)
