"""The protocol: fit every rung on the same data, evaluate it in and out of the training
region, and write the run directory (metrics, models, predictions, figures, report).

The run directory is written under a temporary name and renamed when complete, so a failed
or interrupted run leaves nothing behind at ``out``.
"""

from __future__ import annotations

import contextlib
import os
import time

import numpy as np

from hybridlab.data import to_file_units, write_csv
from hybridlab.estimators import from_params, load
from hybridlab.estimators.base import plain
from hybridlab.experiments.aiming import aiming_lines, aiming_section
from hybridlab.experiments.apart import Apart
from hybridlab.experiments.fragility import amplification, true_change
from hybridlab.experiments.scenarios import LADDERS, truth_label
from hybridlab.files import new_directory, run_directory, write_json
from hybridlab.networks.progress import QUIET, Labelled, ProgressMeter
from hybridlab.physics import Projectile
from hybridlab.report import build_report
from hybridlab.report.schema import Metrics, ModelMetrics
from hybridlab.uncertainty import intervals


def rmse(prediction, target) -> float:
    """Root-mean-square error √(mean((ŷ − y)²)), in the output's unit."""
    return float(np.sqrt(np.mean((np.asarray(prediction) - np.asarray(target)) ** 2)))


def select(ladder: dict, names) -> dict:
    """The rungs named in ``names`` (all when None), in ladder order; ValueError for an unknown name."""
    if names is None:
        return ladder
    if not names:
        raise ValueError(f"models: no model named; this scenario has {', '.join(ladder)}")
    unknown = [name for name in names if name not in ladder]
    if unknown:
        raise ValueError(f"models: unknown model {unknown[0]!r}; this scenario has {', '.join(ladder)}")
    return {name: model for name, model in ladder.items() if name in names}


def evaluate(model, splits, predicted, fit_seconds, bands=None) -> ModelMetrics:
    """The metrics.json entry of one fitted model, from its predictions ``predicted[split]``
    and its 90 % predictive intervals ``bands[split]`` = (low, high) (None: it has none).
    RMSEs are against the held-out measurements (what a user can check); the ``*_true`` ones
    against the noise-free truth; coverage is of the held-out measurements (noise included)."""
    summary = model.summary()
    hessian = (summary.get("diagnostics") or {}).get("hessian") or {}
    interp, extrap = predicted["interp"], predicted["extrap"]
    return ModelMetrics(
        rmse_interp=rmse(interp, splits["interp"].y),
        rmse_extrap=rmse(extrap, splits["extrap"].y),
        max_abs_err_interp=float(np.max(np.abs(interp - splits["interp"].y))),
        rmse_interp_true=rmse(interp, splits["interp"].true),
        rmse_extrap_true=rmse(extrap, splits["extrap"].true),
        rmse_train=rmse(predicted["train"], splits["train"].y),
        fit_seconds=fit_seconds,
        n_params=int(summary["n_params"]),
        formula=summary["formula"],
        physics=summary["physics"],
        hessian_near_zero=hessian.get("near_zero"),
        prior=summary.get("prior"),
        interval=model.interval_method if bands else None,
        **{f"{kind}_{split}": _coverage(bands, splits, split)[kind] for split in ("interp", "extrap")
           for kind in ("coverage", "width")},
    )


def _coverage(bands, splits, split) -> dict:
    """{"coverage": the fraction of measurements inside the interval, "width": its mean width}."""
    if not bands:
        return {"coverage": None, "width": None}
    low, high = bands[split]
    y = splits[split].y
    return {"coverage": float(np.mean((low <= y) & (y <= high))), "width": float(np.mean(high - low))}


def predict_bands(model, inputs: dict, names=("interp", "extrap", "curves")) -> dict | None:
    """The 90 % predictive interval (low, high) on each of ``inputs[name]``, in one call; None
    for a model without an interval."""
    if getattr(model, "interval_", None) is None:
        return None
    ends = np.cumsum([len(inputs[name]) for name in names])
    low, high = model.predict_interval(np.concatenate([inputs[name] for name in names]), intervals.NOMINAL)
    return {name: (a, b) for name, a, b in zip(names, np.split(low, ends[:-1]), np.split(high, ends[:-1]))}


def run(scenario: str = "shotput", seed: int = 0, out: str | None = None, quick: bool = False,
        models=None, progress: ProgressMeter = QUIET, echo=print, apart: bool = True) -> dict:
    """Fit and evaluate every rung of ``scenario``; write the run directory ``out`` (default
    ``runs/<scenario>-<time>``; missing parent directories are created). Returns the metrics
    dict; ``echo`` gets status lines. ``apart``: fit the rungs whose fit is mostly compiling in
    a second process beside the others, where JAX computes on a CPU of two or more cores
    (:func:`fitted_apart`); the same numbers either way."""
    if scenario not in LADDERS:
        raise ValueError(f"scenario = {scenario!r}: a ladder of rungs, one of {', '.join(LADDERS)}")
    spec = LADDERS[scenario]
    ladder = select(spec.ladder(quick, seed), models)
    out = run_directory(out, scenario)
    with new_directory(out) as work:
        metrics = _run_into(work, spec, ladder, seed, quick, progress, echo, fitted_apart(ladder) if apart else [])
    metrics["directory"] = out
    return metrics


def fitted_apart(ladder: dict) -> list[str]:
    """The rungs a run fits in a second process: those whose fit is mostly compiling
    (``compiles_for_long``), where JAX computes on the CPU, this process may use two or more
    cores and at least one rung is left to fit here meanwhile."""
    import jax

    if jax.default_backend() != "cpu" or len(os.sched_getaffinity(0)) < 2:
        return []
    names = [name for name, model in ladder.items() if getattr(model, "compiles_for_long", False)]
    return names if len(names) < len(ladder) else []


def _run_into(work, spec, ladder, seed, quick, progress, echo, apart=()) -> dict:
    splits = spec.splits(seed, quick)
    grid, curves = spec.grid(quick), spec.curves(quick)
    train_region, extrap_region = spec.regions()
    metrics = Metrics(scenario=spec.name, seed=seed, quick=quick, description=spec.description,
                      truth=truth_label(spec), inputs=list(spec.inputs), output=spec.output,
                      units=spec.units, train_region=train_region, extrap_region=extrap_region,
                      n={name: int(len(s.y)) for name, s in splits.items()}, models={})
    tables = {"predictions": _table(spec, splits), "curves": _inputs_table(spec, curves)}
    inputs = {name: split.X for name, split in splits.items()} | {"curves": curves}
    if grid is not None:
        tables["grid"] = _inputs_table(spec, grid)
        inputs["grid"] = grid
        trajectories = _trajectories_table(spec, grid)
        if trajectories is not None:
            tables["trajectories"] = trajectories
    # The launch height of a projectile scenario's shots, saved with each model for predict.
    truth = getattr(spec, "truth", None)
    context = {"height": float(truth.height)} if truth is not None else {}
    # --quick samples the fragility box on its grid only: the gradient ascent compiles once per model.
    metrics["fragility"] = "grid" if quick else "grid, then gradient ascent"
    true = {} if truth is None else {split: true_change(truth, splits[split].X[:FRAGILITY_POINTS], not quick)
                                     for split in ("interp", "extrap")}
    scored, fitted = {}, {}
    records = {name: plain(ladder[name]) for name in apart}
    with contextlib.ExitStack() as stack:
        if records:
            second = stack.enter_context(Apart(score_apart, records, splits, inputs,
                                               None if truth is None else truth.to_spec(), true, quick, context, work))
            for name in records:
                echo(f"  {name:<14} fitting in a second process")
        for name, model in ladder.items():
            if name not in records:
                scored[name] = score(name, model, splits, inputs, truth, true, quick, context, progress, work)
                fitted[name] = model
                echo(f"  {name:<14} fitted in {scored[name]['seconds']:6.1f} s")

        def collect():
            for name, result in second.result().items():
                scored[name], fitted[name] = result, load(os.path.join(work, "models", name))
                echo(f"  {name:<14} fitted in {result['seconds']:6.1f} s (second process)")

        aiming = getattr(spec, "aiming", None)
        if records and aiming is not None and set(aiming.decoders) & set(records):
            collect()
        if aiming is not None:
            metrics["aiming"], tables["aim"] = aiming_section(spec, fitted, seed, quick, progress, echo)
        if records and len(scored) < len(ladder):
            collect()
    _enter(spec, ladder, scored, fitted, metrics, tables)
    for file, columns in tables.items():
        write_csv(os.path.join(work, f"{file}.csv"), columns)
    write_json(os.path.join(work, "metrics.json"), metrics)
    build_report(work)
    return metrics


def _enter(spec, ladder, scored, fitted, metrics, tables) -> None:
    """Each rung's metrics (:func:`score`'s) into ``metrics`` and its predictions and bands
    into ``tables``, in ladder order, and the learned drag forces' table where there are some."""
    for name in ladder:
        metrics["models"][name] = scored[name]["metrics"]
        predicted, bands = scored[name]["predicted"], scored[name]["bands"]
        tables["predictions"][name] = np.concatenate([predicted[s] for s in ("train", "interp", "extrap")])
        for table in ("curves", "grid"):
            if table in tables:
                tables[table][name] = predicted[table]
        if bands:
            tables["curves"][f"{name}:low"], tables["curves"][f"{name}:high"] = bands["curves"]
    forces = _forces_table(spec, {name: fitted[name] for name in ladder})
    if forces is not None:
        tables["forces"] = forces


def score(name, model, splits, inputs, truth, true, quick, context, progress, work) -> dict:
    """Fit one rung on the training split, predict every array of ``inputs`` (with its 90 %
    bands, where it has them), score it (:func:`evaluate`, :func:`fragility`) and save it
    into ``work``/models/``name``: {"seconds": the fit's, "metrics", "predicted", "bands"}."""
    start = time.perf_counter()
    model.fit(splits["train"].X, splits["train"].y, progress=Labelled(progress, name), context=context)
    seconds = time.perf_counter() - start
    predicted = predict_all(model, inputs)
    bands = predict_bands(model, inputs)
    metrics = evaluate(model, splits, predicted, seconds, bands)
    metrics.update(fragility(model, truth, splits, true, not quick))
    model.save(os.path.join(work, "models", name))
    return {"seconds": seconds, "metrics": metrics, "predicted": predicted, "bands": bands}


def score_apart(records: dict, splits, inputs, truth, true, quick, context, work) -> dict:
    """:func:`score` of each rung of ``records`` (name → its class and parameters, as a saved
    model's ``model.json`` holds them), as the second process of a run calls it: the rungs rebuilt from their records, the truth
    from its spec (None: none), quietly; name → what :func:`score` returns."""
    truth = None if truth is None else Projectile.from_spec(truth)
    return {name: score(name, from_params(record), splits, inputs, truth, true, quick, context, QUIET, work)
            for name, record in records.items()}


#: Launches of each test split at which fragility is measured (the first ones: a fixed sample).
FRAGILITY_POINTS = 40


def fragility(model, truth, splits, true: dict, ascend: bool = True) -> dict:
    """``amplification_interp`` and ``_extrap``: the median over the first launches of each
    test split of the model's worst-case change in the launch box over the physics' (``true``,
    per split; see :mod:`hybridlab.experiments.fragility`); None where the scenario has no
    projectile."""
    if truth is None:
        return {"amplification_interp": None, "amplification_extrap": None}
    return {f"amplification_{split}": float(np.median(amplification(model, truth, splits[split].X[:FRAGILITY_POINTS],
                                                                    true[split], ascend)))
            for split in ("interp", "extrap")}


def predict_all(model, inputs: dict) -> dict:
    """``model.predict`` of every array in ``inputs``, in one call: a model whose prediction
    compiles per input shape (an ODE solve) compiles once instead of once per array."""
    ends = np.cumsum([len(X) for X in inputs.values()])
    predicted = np.asarray(model.predict(np.concatenate(list(inputs.values()))))
    return dict(zip(inputs, np.split(predicted, ends[:-1])))


def _forces_table(spec, fitted: dict) -> dict | None:
    """The drag force magnitude (N) against the speed (m/s), from rest to the extrapolation's
    fastest launch: the truth's, and each fitted rung's that learns a force (``force(speed)``,
    the UDE); None if none does."""
    learned = {name: model for name, model in fitted.items() if callable(getattr(model, "force", None))}
    truth = getattr(spec, "truth", None)
    if not learned or truth is None:
        return None
    speed = np.linspace(0.0, max(spec.speed[1], spec.extrap_speed[1]), 121)
    fx, _ = truth.drag.force(speed, np.zeros_like(speed))
    return {"speed": speed, "true": -np.asarray(fx), **{name: model.force(speed) for name, model in learned.items()}}


#: Points along each map launch's true trajectory (trajectories.csv), landing included.
TRAJECTORY_POINTS = 20


def _trajectories_table(spec, grid: np.ndarray) -> dict | None:
    """The true trajectory of every launch of the map, for the report's launch explorer: file columns
    (speed m/s, angle degrees, t s, x m, y m) at :data:`TRAJECTORY_POINTS` equal times from the
    launch to the landing; None where the scenario has no projectile."""
    truth = getattr(spec, "truth", None)
    if truth is None:
        return None
    speed, angle = grid[:, 0], grid[:, 1]
    t = np.asarray(truth.flight_time(speed, angle))[:, None] * np.linspace(0.0, 1.0, TRAJECTORY_POINTS)
    x, y = truth.trajectory(speed[:, None], angle[:, None], t)
    launches = {"speed": np.repeat(speed, TRAJECTORY_POINTS), "angle": np.repeat(angle, TRAJECTORY_POINTS)}
    columns = to_file_units(launches)
    return columns | {"t": t.ravel(), "x": np.asarray(x).ravel(), "y": np.asarray(y).ravel()}


def _inputs_table(spec, X) -> dict:
    """File columns (angle in degrees) of launches X and the truth there."""
    columns = to_file_units(dict(zip(spec.inputs, X.T)))
    columns["true"] = spec.true(X)
    return columns


def _table(spec, splits) -> dict:
    order = ("train", "interp", "extrap")
    columns = {"split": np.concatenate([[s] * len(splits[s].y) for s in order])}
    X = np.concatenate([splits[s].X for s in order])
    columns.update(to_file_units(dict(zip(spec.inputs, X.T))))
    columns[spec.output] = np.concatenate([splits[s].y for s in order])
    columns["true"] = np.concatenate([splits[s].true for s in order])
    return columns


def table(metrics: dict) -> str:
    """The run's results as a text table: one line per model (then the aiming section's lines)."""
    header = (f"{'model':<14}{'RMSE interp':>12}{'RMSE extrap':>13}{'max err':>10}{'fit s':>8}{'params':>8}"
              "  formula / fitted physics / prior")
    lines = [header, "-" * len(header)]
    for name, m in metrics["models"].items():
        lines.append(f"{name:<14}{m['rmse_interp']:>12.4g}{m['rmse_extrap']:>13.4g}{m['max_abs_err_interp']:>10.3g}"
                     f"{m['fit_seconds']:>8.1f}{m['n_params']:>8}  {describe_model(m)}")
    if metrics.get("aiming"):
        lines += ["", *aiming_lines(metrics["aiming"])]
    return "\n".join(lines)


def describe_model(m: dict, width: int = 70) -> str:
    """The table's last column: fitted physics with errors, else the prior, else the formula."""
    if m["physics"]:
        text = ", ".join(f"{k} = {v['value']:.6g} ± {v['stderr']:.2g}" for k, v in m["physics"].items())
    elif m["prior"]:
        text = f"prior: {m['prior']}"
    else:
        text = m["formula"] or ""
    return text if len(text) <= width else text[: width - 1] + "…"
