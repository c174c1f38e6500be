"""``hybridlab run --scenario wind``: neural operators from a wind profile to a baseball's
trajectory (the linear least-squares baseline, DeepONet, the FNO) against the physics — on
held-out winds of the training family, on a rougher family none was trained on, at 4× the
resolution (the FNO), and in trajectories per second, with the coverage of each one's 90 % predictive
interval — written as a run directory
(metrics.json, effects.csv, models/, figures, report.html)."""

from __future__ import annotations

import os
import time

import jax
import numpy as np

from hybridlab.data import from_degrees, write_table
from hybridlab.files import new_directory, run_directory, write_json
from hybridlab.operators import FNO, DeepONet, LinearOperator, gaussian_profiles, wind_trajectories
from hybridlab.physics import Projectile, QuadraticDrag
from hybridlab.report.wind import build_wind_report
from hybridlab.uncertainty import intervals

BASEBALL = Projectile(QuadraticDrag(c=9e-4), mass=0.145)
SPEED, ANGLE, DURATION, SAMPLES = 40.0, float(from_degrees(30.0)), 2.5, 64
#: (std m/s, length scale s) of the training family and of the shifted one.
FAMILY, SHIFTED = (5.0, 0.5), (8.0, 0.2)


def run_wind(out: str | None = None, seed: int = 0, quick: bool = False, echo=print) -> dict:
    """Fit and score every operator; write the run directory ``out`` (default
    ``runs/wind-<time>``). ``quick``: 400 training winds and shorter training."""
    out = run_directory(out, "wind")
    n = {"train": 400, "test": 100} if quick else {"train": 2000, "test": 500}
    keys = jax.random.split(jax.random.key(seed), 4)
    sets = {"train": gaussian_profiles(n["train"], SAMPLES, DURATION, *FAMILY, keys[0]),
            "test": gaussian_profiles(n["test"], SAMPLES, DURATION, *FAMILY, keys[1]),
            "shifted": gaussian_profiles(n["test"], SAMPLES, DURATION, *SHIFTED, keys[2]),
            "fine": gaussian_profiles(n["test"], 4 * SAMPLES, DURATION, *FAMILY, keys[3])}
    clock = time.perf_counter()
    truth = {name: _trajectories(profiles) for name, profiles in sets.items()}
    echo(f"  physics trajectories of {sum(len(s) for s in sets.values())} winds in {time.perf_counter() - clock:.1f} s")
    calm = {m: _trajectories(np.zeros((1, m)))[0] for m in (SAMPLES, 4 * SAMPLES)}
    models = {"linear": LinearOperator(), "deeponet": DeepONet(epochs=500 if quick else 2000, seed=seed),
              "fno": FNO(epochs=100 if quick else 500, seed=seed)}
    metrics = {"scenario": "wind", "seed": seed, "quick": quick, "n": n, "family": FAMILY, "shifted": SHIFTED,
               "physics_trajectories_per_s": _rate(_trajectories, sets["test"]), "models": {}}
    examples = {"t": np.linspace(0.0, DURATION, SAMPLES), "wind": sets["test"][:3],
                "truth": truth["test"][:3] - calm[SAMPLES]}
    with new_directory(out) as work:
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(sets["train"], truth["train"])
            entry = {"fit_s": time.perf_counter() - start, "interval": model.interval_method}
            for split in ("train", "test", "shifted") + (("fine",) if model.resolution_free else ()):
                grid = 4 * SAMPLES if split == "fine" else SAMPLES
                low, high = model.predict_interval(sets[split], intervals.NOMINAL)
                entry[f"effect_{split}"], entry[f"whole_{split}"] = _errors((low + high) / 2, truth[split], calm[grid])
                entry[f"profiles_{split}"] = per_profile((low + high) / 2, truth[split], calm[grid])
                entry[f"coverage_{split}"] = float(np.mean((low <= truth[split]) & (truth[split] <= high)))
                entry[f"width_{split}"] = float(np.mean(high - low))
            entry["trajectories_per_s"] = _rate(model.predict, sets["test"])
            metrics["models"][name] = entry
            examples[name] = model.predict(sets["test"][:3]) - calm[SAMPLES]
            model.save(os.path.join(work, "models", name))
            tail = entry["profiles_test"]
            echo(f"  {name:<9} fitted in {entry['fit_s']:6.1f} s; effect error {entry['effect_test']:.2%} held out "
                 f"(per wind: mean {tail['mean']:.2%}, median {tail['median']:.2%}, 90th percentile {tail['p90']:.2%}, "
                 f"max {tail['max']:.2%}), {entry['effect_shifted']:.2%} on the rougher family")
        write_table(os.path.join(work, "effects.csv"), _effects_table(examples))
        write_json(os.path.join(work, "metrics.json"), metrics)
        build_wind_report(work)
    metrics["directory"] = out
    return metrics


def _trajectories(profiles):
    return wind_trajectories(BASEBALL, SPEED, ANGLE, profiles, DURATION)


def _errors(predicted, truth, calm) -> tuple[float, float]:
    """(relative L2 error of the wind's effect, of the whole trajectory) over a set."""
    effect = np.linalg.norm(predicted - truth) / np.linalg.norm(truth - calm)
    return float(effect), float(np.linalg.norm(predicted - truth) / np.linalg.norm(truth))


def per_profile(predicted, truth, calm) -> dict[str, float]:
    """The distribution over a set's winds of each one's relative L2 error of the wind's effect,
    ‖ŷᵢ − yᵢ‖ / ‖yᵢ − y_calm‖ (arrays (n, samples, 2)): its mean, median, 90th percentile and
    maximum. The pooled error (:func:`_errors`) weighs the winds by the size of their effect, so
    that a few large errors on winds of small effect hide in it."""
    axes = tuple(range(1, np.ndim(truth)))
    errors = np.sqrt(np.sum((predicted - truth) ** 2, axis=axes) / np.sum((truth - calm) ** 2, axis=axes))
    return {"mean": float(np.mean(errors)), "median": float(np.median(errors)),
            "p90": float(np.percentile(errors, 90)), "max": float(np.max(errors))}


def _rate(function, batch) -> float:
    """Trajectories per second of ``function`` on ``batch``, warm (after one call)."""
    function(batch)
    start = time.perf_counter()
    function(batch)
    return len(batch) / (time.perf_counter() - start)


def _effects_table(examples) -> dict:
    """effects.csv: for three held-out winds, per time: the wind and each effect (x, y) in m."""
    rows = {"example": np.repeat(np.arange(3), SAMPLES), "t": np.tile(examples["t"], 3),
            "wind": examples["wind"].reshape(-1)}
    for name in [key for key in examples if key not in ("t", "wind")]:
        rows[f"{name}_dx"], rows[f"{name}_dy"] = examples[name][..., 0].reshape(-1), examples[name][..., 1].reshape(-1)
    return rows
