"""The `ude` rung alone across seeds (issue 11 §4): on each seed's quick split of a scenario,
fit `UDERange` with the ladder's quick settings and print the interpolation and extrapolation
RMSE (m), the fitted exponent p, the learned force at 10 / 30 / 45 / 60 m/s (N) and the fit's
wall time (the first seed's includes the compiles).

Usage: python benchmarks/ude_seeds.py [--scenario baseball|shotput] [--seeds 0,1,...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from hybridlab.experiments.scenarios import SCENARIOS, _ude


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("baseball", "shotput"), default="baseball")
    parser.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    args = parser.parse_args()
    scenario = SCENARIOS[args.scenario]
    rmse = lambda model, split: float(np.sqrt(np.mean((model.predict(split.X) - split.y) ** 2)))  # noqa: E731
    for seed in (int(s) for s in args.seeds.split(",")):
        splits = scenario.splits(seed, True)
        model = _ude(float(scenario.truth.mass), True, seed)
        start = time.perf_counter()
        try:
            model.fit(splits["train"].X, splits["train"].y)
        except Exception as error:  # noqa: BLE001 -- a benchmark reports every failure and goes on
            print(f"seed {seed}: failed ({type(error).__name__}: {str(error).splitlines()[0]})", flush=True)
            continue
        force = np.array2string(model.force(np.array([10.0, 30.0, 45.0, 60.0])), precision=3)
        print(f"seed {seed}: RMSE interp {rmse(model, splits['interp']):.4f} extrap {rmse(model, splits['extrap']):.4f} "
              f"p {float(model.exponent_):.3f} force {force} N, fit {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
