"""The shot-put lecture's decoder recipe against hybridlab's default MLP, on the same data.

MLP.lecture(): 2-250-500-500-250-1 tanh, Glorot-uniform, plain gradient descent η = 1e-4,
50 000 full-batch epochs (float32). MLP(): hybridlab's default recipe. Both are fitted on the
training split of the default ``shotput`` scenario (seed 0) and scored on its held-out
interpolation split. The claim checked: the default reaches a lower interpolation RMSE in at
least 20x less time.

Usage: python benchmarks/lecture_decoder.py [--epochs N]   (N defaults to the lecture's 50 000)
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import hybridlab  # noqa: F401  (float64 for the physics)
from hybridlab.experiments.runner import rmse
from hybridlab.experiments.scenarios import SCENARIOS
from hybridlab.models import MLP, ProgressMeter
from hybridlab.networks.progress import Labelled


class EpochPrinter(ProgressMeter):
    """Prints a line at every twentieth of a fit's epochs."""

    def task(self, label, total):
        every = max(total // 20, 1)

        class Task:
            def update(self, done):
                if done % every == 0:
                    print(f"  {label}: epoch {done}/{total}", flush=True)

            def close(self):
                pass

        return Task()


def timed_fit(model, split, label):
    start = time.perf_counter()
    model.fit(split.X, split.y, progress=Labelled(EpochPrinter(), label))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50_000)
    args = parser.parse_args()
    splits = SCENARIOS["shotput"].splits(0, quick=False)
    results = {}
    models = {"default": MLP(), "lecture": MLP.lecture(epochs=args.epochs)}
    for name, model in models.items():
        seconds = timed_fit(model, splits["train"], name)
        interp = model.predict(splits["interp"].X)
        results[name] = {
            "params": model.get_params(), "n_params": model.n_params(), "fit_seconds": seconds,
            "epochs_run": model.epochs_run_,
            "rmse_interp": rmse(interp, splits["interp"].y),
            "rmse_interp_true": rmse(interp, splits["interp"].true),
            "rmse_extrap": rmse(model.predict(splits["extrap"].X), splits["extrap"].y),
        }
        print(f"{name}: {seconds:.1f} s, interpolation RMSE {results[name]['rmse_interp']:.4g} m", flush=True)
    speedup = results["lecture"]["fit_seconds"] / results["default"]["fit_seconds"]
    results["time_ratio"] = speedup
    results["default_lower_rmse"] = bool(results["default"]["rmse_interp"] < results["lecture"]["rmse_interp"])
    results["target_met"] = bool(results["default_lower_rmse"] and speedup >= 20)
    print(json.dumps(results, indent=1, default=lambda x: np.asarray(x).tolist()))


if __name__ == "__main__":
    main()
