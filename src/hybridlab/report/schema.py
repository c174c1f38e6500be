"""The schema of a run's ``metrics.json``: written by the runner, read by the report.

Units: every error (RMSE, max |error|) is in the output's unit (for a range: m); times in s;
inputs and regions in the units of ``units`` (SI, angles in degrees as in the CSV files). JSON
has no NaN or infinity, so a non-finite number is written as ``null`` (:func:`hybridlab.files.to_json`).
"""

from __future__ import annotations

import types
import typing
from typing import NotRequired, TypedDict


class Estimate(TypedDict):
    """A fitted physical parameter in its SI unit; ``stderr`` null: not determined by the data."""

    value: float
    stderr: float | None


class ModelMetrics(TypedDict):
    """One model of a run: its errors against the held-out measurements (``rmse_interp`` inside
    the training region, ``rmse_extrap`` outside it, ``rmse_train`` on its training data) and the
    ``*_true`` ones against the noise-free truth, all in the output's unit; its fit time (s);
    its size; its formula, fitted physics and prior where it has them; its 90 % predictive
    interval (how it is made, ``interval``), that interval's coverage of the held-out measurements
    and its mean width (output unit) in and out of the training region (None: no interval); the
    median amplification of a small launch error against the physics' in and out of it."""

    rmse_interp: float | None
    rmse_extrap: float | None
    max_abs_err_interp: float | None
    rmse_interp_true: float | None
    rmse_extrap_true: float | None
    rmse_train: float | None
    fit_seconds: float
    n_params: int
    formula: str | None
    physics: dict[str, Estimate] | None
    hessian_near_zero: int | None
    prior: str | None
    interval: NotRequired[str | None]
    coverage_interp: NotRequired[float | None]
    coverage_extrap: NotRequired[float | None]
    width_interp: NotRequired[float | None]
    width_extrap: NotRequired[float | None]
    amplification_interp: NotRequired[float | None]
    amplification_extrap: NotRequired[float | None]


class Aiming(TypedDict):
    """The aiming section (speeds in m/s, angles in degrees, distances in m): the reference
    target ``distance``; the ``targets`` ranges (``train`` [near, far], ``beyond`` [far, beyond]);
    the ``exact`` least-speed shot; the ``published`` shot (``speed``, ``angle``, where it
    ``lands_at``, the exact ``arcs_at_speed`` and ``speed_at_angle``) or null; and per decoder
    (``learned``) the encoder's shot at the reference target, its ``train_seconds``, and on
    held-out targets ``interp`` (inside the training range) and ``beyond`` it the relative miss
    |D_true(P(d)) − d|/d and the speed excess v/v_min − 1, each {median, p95, max}."""

    distance: float
    targets: dict[str, list[float]]
    exact: dict
    published: dict | None
    learned: dict[str, dict]


class Metrics(TypedDict):
    """A run: its scenario and seed, the names of its inputs and output with their ``units``,
    the training and extrapolation region of each input (``[low, high]`` in its unit), the
    number of shots of each split (``n``) and one :class:`ModelMetrics` per model, in ladder order."""

    scenario: str
    seed: int
    quick: bool
    description: str
    truth: str
    inputs: list[str]
    output: str
    units: dict[str, str]
    train_region: dict[str, list[float]]
    extrap_region: dict[str, list[float]]
    n: dict[str, int]
    models: dict[str, ModelMetrics]
    aiming: NotRequired[Aiming]
    fragility: NotRequired[str]


#: The keys of metrics.json the report cannot do without; it shows the others where present.
REPORT_NEEDS = ("scenario", "inputs", "output", "models")


def check_metrics(metrics: object, path: str, needs: tuple[str, ...] = REPORT_NEEDS) -> Metrics:
    """``metrics`` (as read from ``path``), once it is a JSON object holding each key of ``needs``
    with the type :class:`Metrics` gives it; otherwise ValueError naming the file and the key."""
    if not isinstance(metrics, dict):
        raise ValueError(f"{path}: expected a JSON object, found {_json_kind(metrics)}")
    hints = typing.get_type_hints(Metrics)
    for key in needs:
        if key not in metrics:
            raise ValueError(f"{path}: no key {key!r}; metrics.json needs {', '.join(map(repr, needs))}")
        if not _matches(metrics[key], hints[key]):
            raise ValueError(f"{path}, key {key!r}: expected {_describe(hints[key])}, "
                             f"found {_json_kind(metrics[key])}")
    return metrics


def _matches(value: object, hint) -> bool:
    """Whether a JSON value has the type ``hint``; of a TypedDict only that it is an object."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is types.UnionType:
        return any(_matches(value, arg) for arg in args)
    if origin is list:
        return isinstance(value, list) and all(_matches(item, args[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(_matches(item, args[1]) for item in value.values())
    if typing.is_typeddict(hint):
        return isinstance(value, dict)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _describe(hint) -> str:
    """A JSON type in words: ``a list of strings``, ``an object of objects``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is types.UnionType:
        return " or ".join(_describe(arg) for arg in args)
    if origin is list:
        return f"a list of {_describe(args[0]).split(' ', 1)[1]}s"
    if origin is dict:
        return f"an object of {_describe(args[1]).split(' ', 1)[1]}s"
    if typing.is_typeddict(hint):
        return "an object"
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean",
            type(None): "a null"}[hint]


def _json_kind(value: object) -> str:
    """What a JSON value is, in words, for a message."""
    kinds = ((bool, "a boolean"), (str, "a string"), (int | float, "a number"), (list, "a list"),
             (dict, "an object"), (type(None), "null"))
    return next((text for kind, text in kinds if isinstance(value, kind)), type(value).__name__)
