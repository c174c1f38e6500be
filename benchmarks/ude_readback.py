"""The UDE's read-back alone on the selection benchmark's UDE problems (every 10th of
``benchmarks/selection.py``'s draw, the same problems and scoring), one JSON line each:
``python benchmarks/ude_readback.py [START]``."""
import json
import sys
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
sys.path.insert(0, "benchmarks")
from selection import correct, draw, identifiable, ude  # noqa: E402

for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 0, 200, 10):
    problem = draw(np.random.default_rng([2026, i]))
    known = identifiable(problem)
    clock = time.perf_counter()
    try:
        law, error = ude(problem)[0], None
    except ValueError as failure:
        law, error = "failed", str(failure)
    row = {"i": i, "truth": problem["law"], "known": known, "ude": law, "correct": correct(problem["law"], law, known),
           "s": time.perf_counter() - clock, "error": error}
    print(json.dumps(row), flush=True)
