"""Neural operators from a wind profile to a trajectory (issue 12 §4): the FNO, DeepONet and
the linear baseline on the wind's effect, in and out of the training family, at 4× the
resolution, and their throughput against the batched physics solve.

The operator: w(t) on [0, 2.5 s] (64 samples) ↦ (x, y)(t_j) of a baseball (m = 0.145 kg,
c = 9e-4 kg/m, 40 m/s at 30° from the ground; free flight past y = 0). Profiles: a Gaussian
random field (mean 0, std 5 m/s, squared-exponential length 0.5 s); 2 000 for training (key 1),
500 for testing (key 2); the shifted family: length 0.2 s, std 8 m/s (key 3); the super-
resolution test: the test family on 256 samples (key 4). Error: the relative L2 error of the
wind's effect, ‖(Ŷ − Y_calm) − (Y − Y_calm)‖ / ‖Y − Y_calm‖ over a whole set, beside the
whole trajectory's. Throughput: trajectories per second on the 500 test profiles, warm (after
one call), against the physics (`Projectile.positions`: Dopri8 at 1e-12, one solve per profile,
vmapped).

Usage: python benchmarks/operators.py [--fno-epochs 500] [--deeponet-epochs 2000]
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import numpy as np

import hybridlab as hl
from hybridlab.experiments.jobs import select_device
from hybridlab.operators import FNO, DeepONet, LinearOperator, gaussian_profiles, wind_trajectories

BASEBALL = hl.Projectile(hl.QuadraticDrag(c=9e-4), mass=0.145, g=9.81)
SPEED, ANGLE, DURATION = 40.0, np.deg2rad(30.0), 2.5


def _trajectories(profiles):
    return wind_trajectories(BASEBALL, SPEED, ANGLE, profiles, DURATION)


def _errors(predicted, truth, calm) -> dict:
    effect = np.linalg.norm((predicted - calm) - (truth - calm)) / np.linalg.norm(truth - calm)
    return {"effect": float(effect), "whole": float(np.linalg.norm(predicted - truth) / np.linalg.norm(truth))}


def _throughput(function, batch) -> float:
    function(batch)
    start = time.perf_counter()
    function(batch)
    return len(batch) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fno-epochs", type=int, default=500)
    parser.add_argument("--deeponet-epochs", type=int, default=2000)
    parser.add_argument("--device", choices=("cpu", "gpu"), default=None, help="where JAX computes (default: JAX's choice)")
    args = parser.parse_args()
    print(f"device: {select_device(args.device)}")
    clock = time.perf_counter()
    sets = {"train": gaussian_profiles(2000, 64, DURATION, 5.0, 0.5, jax.random.key(1)),
            "test": gaussian_profiles(500, 64, DURATION, 5.0, 0.5, jax.random.key(2)),
            "shifted": gaussian_profiles(500, 64, DURATION, 8.0, 0.2, jax.random.key(3)),
            "fine": gaussian_profiles(500, 256, DURATION, 5.0, 0.5, jax.random.key(4))}
    truth = {name: _trajectories(profiles) for name, profiles in sets.items()}
    calm = {m: _trajectories(np.zeros((1, m)))[0] for m in (64, 256)}
    print(json.dumps({"part": "data", "seconds": time.perf_counter() - clock}), flush=True)
    physics_rate = _throughput(_trajectories, sets["test"])
    models = {"linear": LinearOperator(), "deeponet": DeepONet(epochs=args.deeponet_epochs),
              "fno": FNO(epochs=args.fno_epochs)}
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(sets["train"], truth["train"])
        row = {"part": "operator", "model": name, "fit_s": time.perf_counter() - start}
        for split in ("train", "test", "shifted"):
            row[split] = _errors(model.predict(sets[split]), truth[split], calm[64])
        if model.resolution_free:
            row["fine_256"] = _errors(model.predict(sets["fine"]), truth["fine"], calm[256])
        row["trajectories_per_s"] = _throughput(model.predict, sets["test"])
        row["physics_trajectories_per_s"] = physics_rate
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
