"""The estimator contract every rung of the ladder keeps, and its file format.

``fit(X, y) -> self``, ``predict(X) -> y``, ``save(dir)``, ``load(dir)``, ``summary() -> dict``.
X is an (n, d) array of launch conditions (for a shot: speed in m/s, angle in rad), y the n
observed outputs (distance in m). A saved model is ``model.json`` (the class name, its
hyperparameters and fitted metadata, standard JSON) plus ``arrays.eqx`` (Equinox-serialised
arrays, which Equinox reads with ``numpy.load``, whose ``allow_pickle`` is False): loading never
unpickles or executes anything.
"""

from __future__ import annotations

import abc
import copy
import importlib
import inspect
import json
import math
import os
import stat
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.files import new_directory, not_regular, open_regular, replace_atomically, write_json
from hybridlab.networks.progress import QUIET, ProgressMeter
from hybridlab.physics.batching import in_blocks
from hybridlab.uncertainty import intervals

FORMAT_VERSION = 2
#: The deepest nesting of a model.json read: a record's hyperparameters, physics and
#: diagnostics nest a few levels; a hostile one must not be walked down a thousand.
MAX_DEPTH = 32
#: The largest model.json read, in bytes: a record holds hyperparameters and diagnostics (the
#: arrays are in arrays.eqx), some kilobytes; a hostile file must not fill the memory.
MAX_RECORD_BYTES = 16 * 2**20
#: Every rung of the ladder, by name (what the runner and the command line offer).
REGISTRY: dict[str, type[Estimator]] = {}
#: Every estimator class that can be loaded, by name: the rungs and the models built on them
#: (such as the learned inverse), which keep the same contract and file format.
LOADABLE: dict[str, type[Estimator]] = {}


def check_inputs(X, n_features: int | None = None) -> np.ndarray:
    """X as a finite float64 (n, d) array; a ValueError names what is wrong."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1:
        raise ValueError(f"X must be a non-empty 2-D array (n, d), got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} columns, the model was fitted on {n_features}")
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        row, column = bad[0]
        raise ValueError(f"X[{row}, {column}] = {X[row, column]}: must be finite")
    return X


def check_targets(y, n: int) -> np.ndarray:
    """y as a finite float64 vector of length n."""
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise ValueError(f"y[{bad[0]}] = {y[bad[0]]}: must be finite")
    return y


class Scaler(eqx.Module):
    """Affine standardisation z = (x − mean) / scale, column by column.

    Learners work in standardised units so that every input and the output are O(1): the
    lecture's point that unscaled inputs make gradient descent crawl.
    """

    mean: jax.Array
    scale: jax.Array

    @classmethod
    def fit(cls, values) -> Scaler:
        values = np.asarray(values, dtype=np.float64)
        scale = values.std(axis=0)
        # A constant column carries no information; keep it finite rather than divide by 0.
        scale = np.where(scale > 0, scale, 1.0)
        return cls(jnp.asarray(values.mean(axis=0)), jnp.asarray(scale))

    @classmethod
    def identity(cls) -> Scaler:
        """z = x: a scalar scaler that leaves its values alone."""
        return cls(jnp.zeros(()), jnp.ones(()))

    @classmethod
    def like(cls, n: int | None) -> Scaler:
        """A placeholder of the right shape for loading (n columns; None for a scalar)."""
        shape = () if n is None else (n,)
        return cls(jnp.zeros(shape), jnp.ones(shape))

    def forward(self, x):
        return (x - self.mean) / self.scale

    def inverse(self, z):
        return z * self.scale + self.mean


class Estimator(abc.ABC):
    """What every saved model shares, whatever it is fitted to: parameters, persistence, the
    summary's common part (see :class:`Regressor` for the ladder's contract).

    A subclass sets ``name`` (its key in :data:`LOADABLE`, in files and on the command line; a
    rung of the ladder, unless the class is declared with ``rung=False``, is in :data:`REGISTRY` too),
    keeps every argument of ``__init__`` as an attribute of the same name (validated there, as
    scikit-learn's estimators do; :meth:`get_params` reads them back), sets ``n_features_`` and
    ``context_`` when fitted, and implements ``_arrays_like()`` (a placeholder of the fitted
    arrays' PyTree). ``fitted_arrays`` and ``fitted_facts`` name the fitted attributes
    (without their trailing ``_``) that are saved as arrays and as JSON.
    """

    name: ClassVar[str]
    fitted_arrays: ClassVar[tuple[str, ...]] = ()
    fitted_facts: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, rung: bool = True, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            LOADABLE[cls.name] = cls
            if rung:
                REGISTRY[cls.name] = cls

    def converged(self) -> bool | None:
        """Whether the fit's optimiser met its convergence test: True or False, or None for a
        model without such a test (a closed-form solve, or a fixed number of epochs)."""
        self._check_fitted()
        verdict = getattr(self, "converged_", None)
        return None if verdict is None else bool(verdict)

    def summary(self) -> dict[str, Any]:
        """Facts about the fitted model: ``model``, ``params``, ``n_params``, ``formula``,
        ``physics``, ``diagnostics`` (and model-specific keys)."""
        self._check_fitted()
        return {"model": self.name, "params": self.get_params(), "n_params": self.n_params(),
                "formula": None, "physics": None, "diagnostics": None}

    def get_params(self) -> dict[str, Any]:
        """The arguments of ``__init__`` as plain JSON-able data: ``type(self)(**params)``
        (or :func:`from_params`) builds the same unfitted model."""
        names = [name for name in inspect.signature(type(self).__init__).parameters if name != "self"]
        return {name: _plain(getattr(self, name)) for name in names}

    def save(self, directory: str | os.PathLike) -> None:
        """Write ``model.json`` and ``arrays.eqx`` into ``directory`` (created if needed)."""
        self._check_fitted()
        os.makedirs(directory, exist_ok=True)
        record = self.record()
        replace_atomically(os.path.join(directory, "arrays.eqx"),
                           lambda path: eqx.tree_serialise_leaves(path, self._arrays()))
        write_json(os.path.join(directory, "model.json"), record)

    def record(self) -> dict[str, Any]:
        """What ``model.json`` holds: the format, the class name, parameters and fitted facts
        (the arrays aside); :func:`restore` reads it back."""
        self._check_fitted()
        return {"format": FORMAT_VERSION, "model": self.name, "params": self.get_params(),
                "n_features": self.n_features_, "context": self.context_, "fitted": self._metadata()}

    def n_params(self) -> int:
        """Number of fitted numbers (for a model-less rung: the numbers it stores): the
        ``fitted_arrays``, not what else a subclass saves beside them (an interval's blocks)."""
        fitted = {name: getattr(self, name + "_") for name in self.fitted_arrays}
        leaves = jax.tree.leaves(eqx.filter(fitted, eqx.is_array))
        return int(sum(np.size(leaf) for leaf in leaves))

    # For subclasses -------------------------------------------------------------------------
    @abc.abstractmethod
    def _arrays_like(self):
        """A placeholder with the structure and shapes of :meth:`_arrays` (for loading)."""

    def _arrays(self):
        return {name: getattr(self, name + "_") for name in self.fitted_arrays}

    def _set_arrays(self, arrays) -> None:
        for name in self.fitted_arrays:
            setattr(self, name + "_", arrays[name])

    def _metadata(self) -> dict[str, Any]:
        return {name: getattr(self, name + "_") for name in self.fitted_facts}

    def _set_metadata(self, metadata: dict[str, Any]) -> None:
        for name in self.fitted_facts:
            setattr(self, name + "_", metadata[name])

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_features_"):
            raise ValueError(f"this {type(self).__name__} is not fitted yet: call fit first")

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({arguments})"


class Calibrated:
    """A model with a predictive interval: ``predict(data, return_std=True)`` gives the
    predictive standard deviation s of a new measurement, :meth:`predict_interval` the interval
    ŷ ± t·s; the calibration (``interval_``, a dict with at least ``method`` and ``dof``, see
    :mod:`hybridlab.uncertainty.intervals`) is saved with the model."""

    #: How the predictive interval is made, in words (the summary and the report say it).
    interval_method: ClassVar[str] = "delta method"

    def predict_interval(self, data, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """(low, high), shaped as ``predict(data)``: the ``level`` predictive interval ŷ ± t·s
        of a new measurement."""
        predicted, std = self.predict(data, return_std=True)
        half = intervals.quantile(self._interval(), level) * std
        return predicted - half, predicted + half

    def _interval(self) -> dict:
        calibration = getattr(self, "interval_", None)
        if calibration is None:
            raise ValueError(f"model {self.name!r} has no predictive interval (saved before they existed)")
        return calibration

    def _metadata(self) -> dict[str, Any]:
        return {**super()._metadata(), "interval": getattr(self, "interval_", None)}

    def _set_metadata(self, metadata: dict[str, Any]) -> None:
        # A model saved before intervals existed has none: predict(..., return_std=True) says so.
        self.interval_ = metadata.get("interval")
        super()._set_metadata({name: value for name, value in metadata.items() if name != "interval"})


class Regressor(Calibrated, Estimator):
    """Base class of every rung of the ladder: ``fit(X, y)``, ``predict(X)`` on launches X
    (n, d) and observations y (n,), besides :class:`Estimator`'s persistence and summary.
    A subclass implements ``_fit(X, y, progress)``, ``_predict(X)`` and ``_arrays_like()``.
    """

    #: Whether ``_predict`` is a JAX function of its input and the fitted arrays (so that
    #: :meth:`as_function` can differentiate through it).
    differentiable: ClassVar[bool] = True
    #: Whether ``_predict`` compiles a costly program per input shape (an ODE solve): then it is asked
    #: :func:`~hybridlab.physics.batching.in_blocks`, so that one program serves every array a run predicts.
    predicts_in_blocks: ClassVar[bool] = False

    # The contract ---------------------------------------------------------------------------
    def fit(self, X, y, progress: ProgressMeter = QUIET, context: dict[str, Any] | None = None) -> Regressor:
        """Fit to launches X (n, d) and observations y (n,); returns self. ``progress`` shows
        how a long fit advances (see :mod:`hybridlab.networks.progress`). ``context``: facts
        about the data that X does not hold, as JSON-able data, kept as ``context_`` and saved
        with the model, so that a later prediction can check it is asked about the same setting
        (the fit job records ``{"height": h}``, the launch height in m of every shot).

        A fit whose optimiser stopped before its convergence test held is returned, not
        raised: :meth:`converged` says so (False), and so does ``summary()["diagnostics"]``.
        """
        X = check_inputs(X)
        y = check_targets(y, X.shape[0])
        self.context_ = _json_object("context", {} if context is None else context)
        self.n_features_ = X.shape[1]
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # checked next
                self._fit(X, y, progress)
            self._check_finite(X, y)
            self.interval_ = self._calibrate(X, y)
        except BaseException:
            del self.n_features_  # a failed fit may have overwritten part of the state: unfitted
            raise
        return self

    def _check_finite(self, X, y) -> None:
        """ValueError unless every fitted number is finite: data near float64's limit (1e300)
        overflows inside a fit, and its model would predict NaN everywhere."""
        leaves = jax.tree.leaves(eqx.filter(self._arrays(), eqx.is_array))
        if all(np.isfinite(np.asarray(leaf)).all() for leaf in leaves):
            return
        largest = max(float(np.max(np.abs(X))), float(np.max(np.abs(y))))
        raise ValueError(f"the {self.name} fit overflowed float64 (fitted numbers are not finite): the shots' "
                         f"values reach {largest:.3g}; rescale them")

    def predict(self, X, return_std: bool = False):
        """Predicted observations (n,) for launches X (n, d), float64; with ``return_std``,
        also the predictive standard deviation s (n,) of a new measurement there (noise
        included; see :mod:`hybridlab.uncertainty.intervals`). ValueError for ``return_std`` on a
        model saved without an interval."""
        self._check_fitted()
        X = check_inputs(X, self.n_features_)
        predicted = np.asarray(in_blocks(self._predict, X) if self.predicts_in_blocks else self._predict(X),
                               dtype=np.float64)
        if not return_std:
            return predicted
        calibration = self._interval()
        J = None if calibration["covariance"] is None else self._sensitivities(X)
        return predicted, np.broadcast_to(intervals.predictive_std(calibration, J), predicted.shape).copy()

    def _calibrate(self, X, y) -> dict | None:
        """The interval's calibration from the training data: the delta method on
        :meth:`_sensitivities`; None (no interval) for a model without them."""
        J = self._sensitivities(X)
        if J is None:
            return None
        return intervals.delta_calibration(J, self.predict(X) - y, self.interval_method)

    def _sensitivities(self, X) -> np.ndarray | None:
        """∂ŷ/∂θ (n, p) at checked X for the parameters θ the interval is linearised in (None:
        the model has no interval of this kind)."""
        del X
        return None

    def as_function(self) -> Function:
        """The fitted prediction as a pure JAX function X (n, d) ↦ ŷ (n,) whose fitted arrays
        are PyTree leaves: it can be traced, compiled and differentiated (with respect to X
        and to the arrays), as when aiming learns through a frozen decoder. Inputs are not
        checked. ValueError for a rung whose prediction is not a JAX computation."""
        self._check_fitted()
        if not self.differentiable:
            raise ValueError(f"model {self.name!r} is not differentiable: its prediction is not a JAX function")
        return Function(self, self._arrays())

    @abc.abstractmethod
    def _fit(self, X, y, progress: ProgressMeter) -> None:
        """Set the fitted attributes from checked X (n, d) and y (n,)."""

    @abc.abstractmethod
    def _predict(self, X):
        """Predictions (n,) for checked X (n, d)."""


class Function(eqx.Module):
    """A fitted model's prediction with its arrays as leaves: ``Function(model, arrays)(X)`` is
    ``model``'s prediction with ``arrays`` in place of its own (see :meth:`Regressor.as_function`)."""

    model: Regressor = eqx.field(static=True)
    arrays: Any

    def __call__(self, X):
        # A shallow copy holds the (possibly traced) arrays: the model itself is not touched.
        model = copy.copy(self.model)
        model._set_arrays(self.arrays)
        return jnp.asarray(model._predict(X)).astype(jnp.float64)


def _plain(value):
    """A parameter as JSON-able data: tuples as lists, an estimator as its record."""
    if isinstance(value, Estimator):
        return {"model": value.name, "params": value.get_params()}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _json_object(name: str, value) -> dict[str, Any]:
    """``value`` as a new dict; ValueError unless it is a mapping with string keys."""
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise ValueError(f"{name} = {value!r}: must be a JSON object (a dict with string keys)")
    return dict(value)


#: The rooms above this one whose estimators can be loaded too (the dynamics models, the learned
#: inverse, the operators): imported by name when a record names a class not yet registered, so
#: that ``load`` reads every saved model without this room depending on them.
PROVIDERS = ("hybridlab.dynamics", "hybridlab.inverse", "hybridlab.operators")


def from_params(record: dict[str, Any]) -> Estimator:
    """The unfitted estimator ``{"model": name, "params": {...}}`` describes (as saved)."""
    name, params = record.get("model"), record.get("params")
    if isinstance(name, str) and name not in LOADABLE:
        for room in PROVIDERS:
            importlib.import_module(room)
    cls = LOADABLE.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(LOADABLE))}")
    if not isinstance(params, dict):
        raise ValueError(f"model {name!r}: 'params' must be a JSON object")
    return cls(**params)


def restore(record) -> Estimator:
    """The model :meth:`Estimator.record` describes, with its fitted facts but not yet its
    arrays. ValueError (or KeyError, TypeError) for a record that is not one."""
    if not isinstance(record, dict) or record.get("format") != FORMAT_VERSION:
        raise ValueError("unknown model file format")
    if not isinstance(record.get("fitted"), dict):
        raise ValueError("'fitted' must be a JSON object")
    model = from_params(record)
    model.n_features_ = int(record["n_features"])
    model.context_ = _json_object("context", record.get("context", {}))
    height = model.context_.get("height", 0.0)
    if isinstance(height, bool) or not isinstance(height, (int, float)) or not math.isfinite(height):
        raise ValueError(f"context height = {str(height)[:40]}: must be a finite number (m)")
    model._set_metadata(record["fitted"])
    return model


def load(directory: str | os.PathLike) -> Estimator:
    """The model saved in ``directory`` by ``save``. Reads JSON and arrays only."""
    path = os.path.join(directory, "model.json")
    try:
        with open_regular(path, MAX_RECORD_BYTES) as file:
            record = json.loads(file.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a saved hybridlab model ({error})") from None
    except RecursionError:  # Python's json parser recurses once per level of nesting
        raise ValueError(f"{path}: not a saved hybridlab model (nested too deeply)") from None
    if _depth(record) > MAX_DEPTH:
        raise ValueError(f"{path}: not a saved hybridlab model (nested more than {MAX_DEPTH} levels deep)")
    version = record.get("format") if isinstance(record, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version != FORMAT_VERSION:
        raise ValueError(f"{path}: a model saved in format {version}; this hybridlab reads format {FORMAT_VERSION}: "
                         "fit it again with this version")
    try:
        model = restore(record)
        shapes = eqx.filter_eval_shape(model._arrays_like)  # what model.json promises, nothing allocated
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:  # written by hand or elsewhere
        cause = f"{error}" if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
        raise ValueError(f"{path}: damaged model record ({cause})") from None
    arrays_path = os.path.join(directory, "arrays.eqx")
    _check_size(arrays_path, shapes)
    like = model._arrays_like()
    try:
        arrays = eqx.tree_deserialise_leaves(arrays_path, like)
    except (OSError, RuntimeError, ValueError) as error:  # Equinox reports a shape mismatch as RuntimeError
        raise ValueError(f"{arrays_path}: does not match model.json ({error})") from None
    for got, want in zip(jax.tree.leaves(arrays), jax.tree.leaves(like)):
        if np.shape(got) != np.shape(want):
            raise ValueError(f"{arrays_path}: does not match model.json")
    model._set_arrays(arrays)
    return model


def _depth(value, depth: int = 0) -> int:
    """How deeply JSON ``value`` nests (a scalar: 0), looked at no deeper than MAX_DEPTH + 1."""
    if depth > MAX_DEPTH or not isinstance(value, (dict, list)):
        return depth
    items = value.values() if isinstance(value, dict) else value
    return max((_depth(item, depth + 1) for item in items), default=depth + 1)


def _check_size(arrays_path: str, shapes) -> None:
    """ValueError unless the arrays file is large enough for the arrays model.json describes:
    a damaged or hostile model.json must not make the loader allocate gigabytes."""
    needed = sum(math.prod(leaf.shape) * leaf.dtype.itemsize  # Python integers: no overflow
                 for leaf in jax.tree.leaves(shapes) if hasattr(leaf, "shape"))
    try:
        status = os.stat(arrays_path)
    except OSError as error:
        raise ValueError(f"{arrays_path}: cannot read ({error})") from None
    if not stat.S_ISREG(status.st_mode):
        raise ValueError(f"{arrays_path}: cannot read: {not_regular(status)}")
    size = status.st_size
    if needed > size:
        raise ValueError(f"{arrays_path}: does not match model.json ({needed} bytes of arrays described, "
                         f"the file has {size})")


def save_new(model: Estimator, directory: str | os.PathLike) -> None:
    """Save ``model`` into a new ``directory``: written under a temporary name, then renamed,
    so that a failure leaves nothing behind. ValueError if ``directory`` exists."""
    with new_directory(directory) as work:
        model.save(work)
