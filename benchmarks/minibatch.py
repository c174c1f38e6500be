"""Training cost against data size (issue 14 §2): time per epoch and peak memory of the MLP
and the Hybrid on 10⁴, 10⁵ and 10⁶ shot-put shots. Above ``training.BATCH`` rows (32 768) an
epoch is a pass of mini-batches of that size; below, one full-batch step.

Each size runs in its own process (peak memory is the process's maximum resident size).
Each model is fitted for E and 2E epochs of Adam (E = max(20, 2·10⁷/n): a difference of seconds
at every size) (no early stopping, no polish), each once cold
(compiling) and once warm; the time per epoch is (warm 2E − warm E)/E, which cancels the fit's
fixed costs (data scaling, the Hessian's diagnostics on at most 1 024 rows, the interval's
calibration).

Usage: python benchmarks/minibatch.py [--sizes 10000,100000,1000000] [--device cpu|gpu]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import jax
import numpy as np

import hybridlab as hl
from hybridlab.data import simulate_shots
from hybridlab.experiments.jobs import select_device
from hybridlab.models import MLP, Hybrid

SHOT_PUT = hl.Projectile(hl.LinearDrag(k=1.8), mass=7.26)


def one(n: int, epochs: int) -> dict:
    shots = simulate_shots(SHOT_PUT, n, (5.0, 85.0), (np.deg2rad(5), np.deg2rad(85)), 0.1, jax.random.key(0))
    X, y = np.column_stack([shots["speed"], shots["angle"]]), shots["distance"]
    out = {"n": n, "epochs": epochs}
    for name, make in (("mlp", lambda e: MLP(epochs=e, validation=0.0, patience=None, polish=0)),
                       ("hybrid", lambda e: Hybrid(hl.Projectile(hl.NoDrag(), mass=7.26),
                                                   network=MLP(epochs=e, validation=0.0, patience=None, polish=0)))):
        seconds = {}
        for run in ("cold", "warm"):
            for e in (epochs, 2 * epochs):
                start = time.perf_counter()
                model = make(e).fit(X, y)
                seconds[run, e] = time.perf_counter() - start
        rmse = float(np.sqrt(np.mean((model.predict(X) - y) ** 2)))
        out[name] = {"cold_s": seconds["cold", epochs], "warm_s": seconds["warm", epochs],
                     "per_epoch_ms": 1e3 * (seconds["warm", 2 * epochs] - seconds["warm", epochs]) / epochs,
                     "train_rmse": rmse}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--epochs", type=int, default=None, help="E (default max(20, 2e7/n))")
    parser.add_argument("--device", choices=("cpu", "gpu"), default=None)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = select_device(args.device)
    if args.one:
        print(json.dumps(one(args.one, args.epochs or max(20, 20_000_000 // args.one))))
        return
    print(f"device: {device}; {os.cpu_count()} CPUs; per epoch from warm fits of E and 2E epochs")
    for n in (int(s) for s in args.sizes.split(",")):
        command = [sys.executable, os.path.abspath(__file__), "--one", str(n)]
        command += ["--epochs", str(args.epochs)] if args.epochs else []
        command += ["--device", args.device] if args.device else []
        row = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
        print(f"n = {n:>8} (E = {row['epochs']}): peak {row['peak_rss_mb']:7.0f} MB; " + "; ".join(
            f"{name} {row[name]['per_epoch_ms']:8.2f} ms/epoch (cold fit {row[name]['cold_s']:.1f} s, "
            f"RMSE {row[name]['train_rmse']:.3g} m)" for name in ("mlp", "hybrid")), flush=True)


if __name__ == "__main__":
    main()
