"""The universal differential equation and drag-law discovery on simulated baseball tracks
(issue 11 §4): train a UDE, read the law back with discover_drag, and compare with the truth.

Tracks: 20 shots × 30 points from launch to landing, σ = 5 cm on x and y, launches uniform in
v ∈ [10, 45] m/s and θ ∈ [5°, 60°] (the baseball scenario's), m = 0.145 kg; the drag is
quadratic (c = 9e-4 kg/m) or linear (k = 0.02 kg/s). Printed: the UDE's time (compile
included) and per epoch, its training MSE against the noise floor σ², the learned force over
the true one at 5–45 m/s, and the discovered law with its refitted coefficient ± standard error.

Usage: python benchmarks/ude_discovery.py [--laws quadratic,linear] [--epochs 2000] [--learning-rate 1e-2]
       [--polish 0] [--widths 32,32] [--form softplus]
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import numpy as np

import hybridlab  # noqa: F401  (float64)
from hybridlab.data import simulate_tracks
from hybridlab.dynamics import UDE, discover_drag
from hybridlab.physics import LinearDrag, Projectile, QuadraticDrag

TRUTHS = {"quadratic": (QuadraticDrag(c=9e-4), "c", 9e-4), "linear": (LinearDrag(k=0.02), "k", 0.02)}
NOISE = 0.05
FORM = "softplus"


def one(law: str, epochs: int, learning_rate: float, polish: int, widths: tuple[int, ...]) -> dict:
    drag, name, value = TRUTHS[law]
    truth = Projectile(drag, mass=0.145)
    tracks = simulate_tracks(truth, 20, 30, (10, 45), (np.deg2rad(5), np.deg2rad(60)), NOISE, jax.random.key(0))
    start = time.perf_counter()
    model = UDE({"mass": 0.145}, widths=widths, form=FORM, epochs=epochs, learning_rate=learning_rate,
                polish=polish).fit(tracks)
    ude_s = time.perf_counter() - start
    speeds = np.linspace(5.0, 45.0, 9)
    true_force = -np.asarray(drag.force(speeds, 0 * speeds)[0])
    start = time.perf_counter()
    found = discover_drag(model, tracks)
    estimate = found.parameters().get(name, {"value": None, "stderr": None})
    return {"law": law, "epochs": epochs, "polish": polish, "form": FORM, "widths": widths, "ude_fit_s": ude_s,
            "ude_train_s": model.seconds_, "per_step_s": model.seconds_ / (epochs + polish),
            "initial_mse": model.initial_mse_, "train_mse": model.train_mse_, "noise_floor": NOISE**2,
            "force_ratio": dict(zip(speeds.tolist(), np.round(model.force(speeds) / true_force, 3).tolist())),
            "discover_s": time.perf_counter() - start, "discovered": found.law, "parameters": found.parameters(),
            "truth": {name: value},
            "relative_error": None if estimate["value"] is None else estimate["value"] / value - 1,
            "error_over_stderr": None if estimate["value"] is None else (estimate["value"] - value) / estimate["stderr"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--laws", default="quadratic,linear")
    parser.add_argument("--epochs", type=int, default=2000)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--polish", type=int, default=0, help="L-BFGS steps after Adam")
    parser.add_argument("--widths", default="32,32")
    parser.add_argument("--form", default="softplus", help="the drag magnitude's form: softplus or power")
    args = parser.parse_args()
    global FORM
    FORM = args.form
    widths = tuple(int(w) for w in args.widths.split(","))
    for law in args.laws.split(","):
        print(json.dumps(one(law, args.epochs, args.learning_rate, args.polish, widths)), flush=True)


if __name__ == "__main__":
    main()
