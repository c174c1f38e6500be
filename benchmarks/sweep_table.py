"""A sweep directory's table for benchmarks/RESULTS.md: each model's errors, coverage and
amplification as mean ± standard deviation over the seeds (from summary.json), and for pairs of
models the number of seeds in which the first has the lower extrapolation RMSE (from the runs'
metrics.json).

Usage: python benchmarks/sweep_table.py SWEEP_DIR [--pairs hybrid:mlp,ude:mlp]
"""

from __future__ import annotations

import argparse
import json
import os

COLUMNS = ("rmse_interp", "rmse_extrap", "coverage_interp", "coverage_extrap", "amplification_interp",
           "amplification_extrap", "fit_seconds")


def cell(stats: dict | None) -> str:
    return "—" if stats is None else f"{stats['mean']:.4g} ± {stats['std']:.2g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep")
    parser.add_argument("--pairs", default="")
    args = parser.parse_args()
    with open(os.path.join(args.sweep, "summary.json"), encoding="utf-8") as handle:
        summary = json.load(handle)
    print(f"{summary['scenario']}{' (quick)' if summary['quick'] else ''}: seeds {summary['seeds']}, "
          f"failed {summary['failed']}\n")
    print("| model | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for name, metrics in summary["models"].items():
        print(f"| {name} | " + " | ".join(cell(metrics.get(key)) for key in COLUMNS) + " |")
    runs = []
    for seed in summary["seeds"]:
        with open(os.path.join(args.sweep, f"seed-{seed}", "metrics.json"), encoding="utf-8") as handle:
            runs.append(json.load(handle)["models"])
    for pair in filter(None, args.pairs.split(",")):
        first, second = pair.split(":")
        wins = sum(run[first]["rmse_extrap"] < run[second]["rmse_extrap"] for run in runs)
        ratios = sorted(run[second]["rmse_extrap"] / run[first]["rmse_extrap"] for run in runs)
        print(f"\n{first} has a lower extrapolation RMSE than {second} in {wins} of {len(runs)} seeds; "
              f"{second}/{first} from {ratios[0]:.3g} to {ratios[-1]:.3g} (median {ratios[len(ratios) // 2]:.3g})")


if __name__ == "__main__":
    main()
