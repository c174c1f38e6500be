"""Aiming latency, cold and warm: hybridlab.inverse.aim for one target, per drag law and mode.

    python benchmarks/aim_latency.py

Each (law, mode) runs in a fresh process, so "cold" includes tracing and compiling, as a user
pays it on the first call; "warm" is the second call (same shapes, other values). Target: 100 m
downrange, 2 m above a launch point 1 m up; speed 45 m/s or angle 0.5 rad where given.
Many targets at once against a per-target SciPy brentq: benchmarks/aim_targets.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = """
import json, sys, time, jax
from hybridlab.inverse import aim
from hybridlab.physics import LinearDrag, Projectile, QuadraticDrag
law, mode = sys.argv[1], sys.argv[2]
drag = {"none": None, "linear": LinearDrag(0.02), "quadratic": QuadraticDrag(9e-4)}[law]
p = Projectile(drag, mass=0.145, height=1.0)
kwargs = {"speed": {"speed": 45.0}, "angle": {"angle": 0.5}, "least": {"curve_points": 8}}[mode]
times = []
for distance in (100.0, 90.0):
    start = time.perf_counter()
    jax.block_until_ready(aim(p, distance, target_height=2.0, **kwargs))
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def main() -> None:
    print(f"{'law':<10}{'mode':<8}{'cold s':>9}{'warm s':>9}")
    for law in ("none", "linear", "quadratic"):
        for mode in ("angle", "speed", "least"):
            out = subprocess.run([sys.executable, "-c", CHILD, law, mode], capture_output=True, text=True, check=True)
            cold, warm = json.loads(out.stdout)
            print(f"{law:<10}{mode:<8}{cold:>9.2f}{warm:>9.3f}")


if __name__ == "__main__":
    main()
