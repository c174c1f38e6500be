"""Predictive intervals of the dynamics models on simulated baseball tracks (issue 13 §2): the
coverage of each model's nominal 90 % interval on new measurements of the fitted part of the
tracks and on the held-out rest (a forecast, off the data in time), and the mean width.

Tracks: 20 shots × 30 points from launch to landing, σ = 5 cm on x and y, v ∈ [10, 45] m/s,
θ ∈ [5°, 60°], quadratic drag c = 9e-4 kg/m, m = 0.145 kg (the data of
benchmarks/ude_discovery.py). Every model is fitted on each track's first ``--share`` of its
time span; "inside" scores fresh noise on the true positions at the fitted times, "forecast"
the measurements after them. Models: the grey box with the true law (c fitted), the grey box
with the wrong law (linear drag, k fitted), the UDE and the neural ODE (``--epochs`` of Adam).

Usage: python benchmarks/dynamics_intervals.py [--epochs 1000] [--share 0.6] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import numpy as np

import hybridlab  # noqa: F401  (float64)
from hybridlab.data import Tracks, simulate_tracks
from hybridlab.dynamics import UDE, NeuralODE, TrajectoryFit
from hybridlab.dynamics.learning import cut
from hybridlab.physics import Projectile, QuadraticDrag
from hybridlab.uncertainty.intervals import NOMINAL

TRUTH = Projectile(QuadraticDrag(c=9e-4), mass=0.145)
NOISE = 0.05


def coverage(model, tracks: Tracks, truth: np.ndarray, draws: int, rng) -> tuple[float, float]:
    """(share of fresh measurements truth + σ·ε inside the nominal interval, its mean width m)."""
    low, high = model.predict_interval(tracks, NOMINAL)
    new = truth + NOISE * rng.normal(size=(draws, *truth.shape))
    return float(np.mean((low <= new) & (new <= high))), float(np.mean(high - low))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--share", type=float, default=0.6)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    launches = (10, 45), (np.deg2rad(5), np.deg2rad(60))
    noisy = simulate_tracks(TRUTH, 20, 30, *launches, NOISE, jax.random.key(0))
    clean = simulate_tracks(TRUTH, 20, 30, *launches, 0.0, jax.random.key(0))
    train, test = cut(noisy, args.share)
    clean_train, clean_test = cut(clean, args.share)
    models = {
        "grey box, true law": TrajectoryFit({"drag": "quadratic", "mass": 0.145}, unknown=("c",)),
        "grey box, linear law (wrong)": TrajectoryFit({"drag": "linear", "mass": 0.145}, unknown=("k",)),
        "UDE": UDE({"mass": 0.145}, epochs=args.epochs),
        "neural ODE": NeuralODE({"mass": 0.145}, epochs=args.epochs),
    }
    rows = {}
    for name, model in models.items():
        rng = np.random.default_rng(1)
        start = time.perf_counter()
        model.fit(train)
        seconds = time.perf_counter() - start
        inside, width_inside = coverage(model, clean_train, clean_train.position, 20, rng)
        forecast, width_forecast = coverage(model, clean_test, clean_test.position, 20, rng)
        rmse = float(np.sqrt(np.mean((model.predict(test) - test.position) ** 2)))
        rows[name] = {"fit_s": seconds, "noise": model.interval_["noise"], "coverage_inside": inside,
                      "width_inside": width_inside, "coverage_forecast": forecast, "width_forecast": width_forecast,
                      "rmse_forecast": rmse}
        if not args.json:
            print(f"{name:<30} fit {seconds:6.1f} s  σ̂ {model.interval_['noise']:.4f} m  coverage inside {inside:.3f} "
                  f"(width {width_inside:.3f} m)  forecast {forecast:.3f} (width {width_forecast:.3f} m, "
                  f"RMSE {rmse:.3f} m)", flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
