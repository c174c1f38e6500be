"""``hybridlab demo``: the lecture's shot put, its range table and the time for its 100 × 100 grid."""

from __future__ import annotations

import time

import jax
import numpy as np

from hybridlab.data import from_degrees
from hybridlab.physics import LinearDrag, NoDrag, Projectile

SPEEDS = (5.0, 15.0, 30.0, 60.0, 85.0)  # m/s
ANGLES = (15.0, 30.0, 45.0, 60.0, 75.0)  # degrees


def range_table(projectile: Projectile) -> str:
    """Range (m) of the projectile on a small speed × angle grid, as a text table."""
    speed, angle = np.meshgrid(SPEEDS, from_degrees(ANGLES), indexing="ij")
    ranges = np.asarray(projectile.range(speed, angle))
    lines = ["v (m/s) \\ θ (°) " + "".join(f"{a:>10.0f}" for a in ANGLES)]
    lines += [f"{v:>16.0f}" + "".join(f"{d:>10.3f}" for d in row) for v, row in zip(SPEEDS, ranges)]
    return "\n".join(lines)


def grid_timing(projectile: Projectile, n: int = 100) -> tuple[float, float]:
    """(seconds, largest range) for the lecture's n × n grid v, θ ∈ [5, 85], jitted, warm."""
    axis = np.linspace(5.0, 85.0, n)
    speed, angle = np.meshgrid(axis, from_degrees(axis), indexing="ij")
    ranged = jax.jit(lambda v, a: projectile.range(v, a))
    ranged(speed, angle).block_until_ready()
    start = time.perf_counter()
    ranges = ranged(speed, angle).block_until_ready()
    return time.perf_counter() - start, float(ranges.max())


def demo() -> str:
    """The report printed by ``hybridlab demo``."""
    shot_put = Projectile(LinearDrag(k=1.8), mass=7.26)
    check = Projectile(LinearDrag(k=0.45), mass=7.26).range(15.0, from_degrees(60.0))
    seconds, longest = grid_timing(shot_put)
    return "\n".join(
        [
            "Shot put (m = 7.26 kg) with Stokes drag k = 1.8 kg/s, launched from the ground: range in m",
            range_table(shot_put),
            "",
            "The same without drag:",
            range_table(Projectile(NoDrag(), mass=7.26)),
            "",
            f"Lecture's test vector (k = 0.45 kg/s, v = 15 m/s, θ = 60°): {float(check):.13f} m"
            " (lecture: 17.880019852509413)",
            f"The lecture's 100 × 100 grid (v, θ ∈ [5, 85]), jitted and warm: {seconds * 1e3:.2f} ms"
            f" ({1e4 / seconds:,.0f} ranges/s), longest {longest:.3f} m",
        ]
    )
