"""The template every saved model keeps, whatever it is fitted to (launches, tracks, functions).

``fit(data) -> self`` runs one skeleton, written here once (:meth:`Estimator._fit_checked`):
check the hyperparameters and the data → mark the model fitted to the data's size and context →
``_fit`` → check what was fitted → fit the predictive interval; a failure anywhere
leaves the model unfitted (every attribute ending in ``_`` removed). Hyperparameters are
keyword-only arguments of ``__init__`` (the physics, where a class has one, may come first),
stored untouched and checked against the class's declared ``constraints``
(:mod:`hybridlab.estimators.params`) on construction, in :meth:`set_params` and in ``fit``.
"""

from __future__ import annotations

import abc
import copy
import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import equinox as eqx
import jax
import numpy as np

from hybridlab.networks.progress import QUIET, ProgressMeter
from hybridlab.uncertainty import intervals

#: Every rung of the ladder, by name (what the runner and the command line offer).
REGISTRY: dict[str, type[Estimator]] = {}
#: Every estimator class that can be loaded, by name: the rungs and the models of the rooms
#: above them (dynamics, operators, the learned inverse), which keep the same contract and file format.
LOADABLE: dict[str, type[Estimator]] = {}


class Estimator(abc.ABC):
    """What every saved model shares: parameters, the fit template, persistence, the summary's
    common part (:class:`hybridlab.models.Regressor` is the ladder's contract on top of it).

    A subclass sets ``name`` (its key in :data:`LOADABLE`, in files and on the command line; a
    rung of the ladder, unless the class or a base of it is declared with ``rung=False``, is in
    :data:`REGISTRY` too),
    keeps every argument of ``__init__`` as an attribute of the same name, untouched, declares
    what each may be in ``constraints`` (and a rule that ties several together in
    :meth:`_check_together`), implements ``_fit`` and ``_arrays_like()`` (a placeholder of the
    fitted arrays' PyTree). ``fitted_arrays`` and ``fitted_facts`` name the fitted attributes
    (without their trailing ``_``) that are saved as arrays and as JSON. ``n_features_`` is the
    size of one input as the class defines it (columns of X; a track's spatial dimension; a
    function's samples) and ``context_`` the facts about the data that the data does not hold.

    Attributes
    ----------
    n_features_ : int
        The size of one input, as the subclass defines it.
    context_ : dict
        Facts about the data that the data does not hold (JSON-able).
    """

    name: ClassVar[str]
    fitted_arrays: ClassVar[tuple[str, ...]] = ()
    fitted_facts: ClassVar[tuple[str, ...]] = ()
    #: Each ``__init__`` argument's rule (see :mod:`hybridlab.estimators.params`).
    constraints: ClassVar[dict[str, Any]] = {}

    #: Whether a named subclass is a rung of the ladder: a family declared with ``rung=False``
    #: (the dynamics, the operators, the forecasters, the solvers) passes it to its classes.
    rung: ClassVar[bool] = True

    def __init_subclass__(cls, rung: bool | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if rung is not None:
            cls.rung = rung
        if "name" in cls.__dict__:
            LOADABLE[cls.name] = cls
            if cls.rung:
                REGISTRY[cls.name] = cls

    # Parameters -----------------------------------------------------------------------------
    @classmethod
    def param_names(cls) -> list[str]:
        """The arguments of ``__init__``, in order.

        Returns
        -------
        names : list of str
            The hyperparameters' names.
        """
        return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]

    def get_params(self) -> dict[str, Any]:
        """The arguments of ``__init__`` as plain JSON-able data: ``type(self)(**params)``
        (or :func:`~hybridlab.estimators.from_params`) builds the same unfitted model.

        Returns
        -------
        params : dict
            Name → value: tuples as lists, a Projectile as its spec, an estimator as its record.
        """
        return {name: plain(getattr(self, name)) for name in self.param_names()}

    def set_params(self, **params) -> Estimator:
        """Set hyperparameters by name and check them (a ValueError names an unknown one or a
        value that breaks its constraint, and leaves the model as it was); returns self. A
        changed value unfits the model: what was fitted belongs to the old values.

        Parameters
        ----------
        **params
            Hyperparameters by name.

        Returns
        -------
        self : Estimator
            This estimator.

        Raises
        ------
        ValueError
            If a name is not a hyperparameter or a value breaks its constraint (nothing is then changed).
        """
        names = self.param_names()
        unknown = [name for name in params if name not in names]
        if unknown:
            raise ValueError(f"{unknown[0]!r}: not a parameter of {type(self).__name__}; its parameters are "
                             f"{', '.join(names)}")
        before = {name: getattr(self, name) for name in params}
        for name, value in params.items():
            setattr(self, name, value)
        try:
            self.check_params()
        except BaseException:
            for name, value in before.items():
                setattr(self, name, value)
            raise
        if any(params[name] is not before[name] for name in params):
            self._unfit()  # the fitted state belongs to the old values (a reservoir's size, a warm-up)
        return self

    def clone(self) -> Estimator:
        """A new, unfitted estimator with the same hyperparameters (deep copies of them).

        Returns
        -------
        estimator : Estimator
            Of the same class.
        """
        return type(self)(**{name: copy.deepcopy(getattr(self, name)) for name in self.param_names()})

    def check_params(self) -> None:
        """ValueError naming the first hyperparameter that breaks its declared constraint.

        Raises
        ------
        ValueError
            If a hyperparameter breaks its constraint, or several break a rule that ties them together.
        """
        for name, rule in self.constraints.items():
            rule(name, getattr(self, name))
        self._check_together()

    def _check_together(self) -> None:
        """The rules that tie several hyperparameters together (none by default)."""

    # The fit template -----------------------------------------------------------------------
    def _fit_checked(self, check: Callable[[], tuple], progress: ProgressMeter = QUIET) -> Estimator:
        """The one fit skeleton. ``check()`` checks the room's data and returns (data, n_features,
        context, known): the checked data (a tuple), the size of one input, the facts about the
        data and the fitted facts known from it before the fit. Then ``_fit(*data, progress)``,
        :meth:`_check_fit` and the predictive interval (``_fit_interval(*data)``, unless ``_fit``
        set one). On any failure, the data's check included, the model is left unfitted."""
        self._unfit()
        try:
            self.check_params()
            data, n_features, context, known = check()
            self.context_, self.n_features_ = _json_object("context", context), int(n_features)
            for name, value in known.items():
                setattr(self, name, value)
            self.interval_ = None  # a fit may set its interval from what it computed anyway
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # checked next
                self._fit(*data, progress)
            self._check_fit(*data)
            if self.interval_ is None:
                self.interval_ = self._fit_interval(*data)
        except BaseException:
            self._unfit()
            raise
        return self

    @abc.abstractmethod
    def _fit(self, *data_and_progress) -> None:
        """Set the fitted attributes from the checked data (and a progress meter, last)."""

    def _check_fit(self, *data) -> None:
        """ValueError if what was fitted cannot be used (nothing checked by default)."""

    def _fit_interval(self, *data) -> intervals.Interval | None:
        """The predictive interval from the training data (None: no interval)."""
        return None

    def _unfit(self) -> None:
        """Forget every fitted attribute (the names ending in ``_``): unfitted, as if new."""
        for name in [name for name in vars(self) if name.endswith("_") and not name.startswith("_")]:
            delattr(self, name)

    # Facts ----------------------------------------------------------------------------------
    def converged(self) -> bool | None:
        """Whether the fit's optimiser met its convergence test: True or False, or None for a
        model without such a test (a closed-form solve, or a fixed number of epochs).

        Returns
        -------
        converged : bool or None
            The verdict.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        self._check_fitted()
        verdict = getattr(self, "converged_", None)
        return None if verdict is None else bool(verdict)

    def summary(self) -> dict[str, Any]:
        """Facts about the fitted model: ``model``, ``params``, ``n_params``, ``formula``,
        ``physics``, ``diagnostics`` (and model-specific keys).

        Returns
        -------
        summary : dict
            JSON-able facts; ``formula``, ``physics`` and ``diagnostics`` None unless a subclass sets them.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        self._check_fitted()
        return {"model": self.name, "params": self.get_params(), "n_params": self.n_params(),
                "formula": None, "physics": None, "diagnostics": None}

    def n_params(self) -> int:
        """Number of fitted numbers (for a model-less rung: the numbers it stores): the
        ``fitted_arrays``, not what else a subclass saves beside them (an interval's blocks).

        Returns
        -------
        n : int
            The count.
        """
        fitted = {name: getattr(self, name + "_") for name in self.fitted_arrays}
        leaves = jax.tree.leaves(eqx.filter(fitted, eqx.is_array))
        return int(sum(np.size(leaf) for leaf in leaves))

    # Persistence (see hybridlab.estimators.files) ----------------------------------------------
    def save(self, directory) -> None:
        """Write ``model.json`` and ``arrays.eqx`` into ``directory`` (created if needed).

        Parameters
        ----------
        directory : str or os.PathLike
            Where to write; files already there of those names are replaced.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        from hybridlab.estimators.files import save  # the file format lives beside load

        save(self, directory)

    def record(self) -> dict[str, Any]:
        """What ``model.json`` holds: the format, the class's name and module, parameters and
        fitted facts (the arrays aside); :func:`~hybridlab.estimators.restore` reads it back.

        Returns
        -------
        record : dict
            ``format``, ``model``, ``module``, ``params``, ``n_features``, ``context``, ``fitted``.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        from hybridlab.estimators.files import FORMAT_VERSION

        self._check_fitted()
        return {"format": FORMAT_VERSION, "model": self.name, "module": type(self).__module__,
                "params": self.get_params(), "n_features": self.n_features_, "context": self.context_,
                "fitted": self._metadata()}

    @abc.abstractmethod
    def _arrays_like(self):
        """A placeholder with the structure and shapes of the fitted arrays (for loading)."""

    def _saved_like(self):
        """A placeholder with the structure and shapes of :meth:`_arrays`, all that is saved."""
        return self._arrays_like()

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


class WithInterval:
    """A model with a predictive interval: ``predict(data, return_std=True)`` gives the
    predictive standard deviation s of a new measurement, :meth:`predict_interval` the interval
    ŷ ± t·s. The interval (``interval_``, an :class:`~hybridlab.uncertainty.intervals.Interval`)
    is saved with the model: its arrays with the fitted arrays, its kind in ``model.json``.

    :meth:`predict` is written here once; a family gives its three steps: ``_checked(*data)``
    (the data checked and converted, as a tuple), ``_predicted(*checked)`` (the prediction) and
    ``_std(predicted, *checked)`` (s, shaped as the prediction; :meth:`_interval` raises for a
    model without one).

    Attributes
    ----------
    interval_ : Interval or None
        The predictive interval (None: the model has no interval).
    """

    #: How the predictive interval is made, in words (the summary and the report say it).
    interval_method: ClassVar[str] = "delta method"

    def predict(self, *data, return_std: bool = False):
        """The prediction at ``data``; with ``return_std``, also the predictive standard
        deviation s of a new measurement there (noise included; see
        :mod:`hybridlab.uncertainty.intervals`), shaped as the prediction and in its unit.

        Parameters
        ----------
        *data
            What the model predicts at: launches X (n, d) for a rung of the ladder (target distances (n,)
            for the learned aim); rows of fitted tracks (a ``Tracks``) for a dynamics model; input
            functions W (n, m) for an operator; observed tracks and a horizon (steps) for a forecaster.
        return_std : bool
            Whether to return the predictive standard deviation too (keyword only).

        Returns
        -------
        predicted : numpy.ndarray
            The prediction, float64: the observations (n,) in the unit of y (m for a range); positions
            (n, dim) in m; output functions (n, m, 2) in their unit; positions (m, horizon, dim) in m, NaN
            from the first step that leaves the training inputs' range; launches (n, 2), speed (m/s) and
            angle (rad).
        std : numpy.ndarray
            Only with ``return_std``: shaped as ``predicted``, in its unit (NaN where it is NaN).

        Raises
        ------
        ValueError
            If the model is not fitted, the data is not what the model takes (the message names it), or
            ``return_std`` is asked of a model without a predictive interval.
        """
        if data and isinstance(data[-1], (bool, np.bool_)):
            raise TypeError("return_std is a keyword argument: predict(..., return_std=True)")
        self._check_fitted()
        checked = self._checked(*data)
        predicted = self._predicted(*checked)
        if not return_std:
            return predicted
        return predicted, self._std(predicted, *checked)

    def _checked(self, *data) -> tuple:
        """``data`` checked (a ValueError naming what is wrong) and converted for the next steps."""
        raise NotImplementedError

    def _predicted(self, *checked) -> np.ndarray:
        """The prediction at checked data."""
        raise NotImplementedError

    def _std(self, predicted: np.ndarray, *checked) -> np.ndarray:
        """The predictive standard deviation at checked data, shaped as ``predicted``."""
        raise NotImplementedError

    def predict_interval(self, data, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """(low, high), shaped as ``predict(data)``: the ``level`` predictive interval ŷ ± t·s
        of a new measurement.

        Parameters
        ----------
        data : array_like
            What ``predict`` takes (launches X (n, d) for a rung of the ladder).
        level : float
            Coverage probability of the interval, in (0, 1).

        Returns
        -------
        low : numpy.ndarray
            Lower bounds, shaped as ``predict(data)``, in the unit of the prediction (m for a range).
        high : numpy.ndarray
            Upper bounds, of the same shape and unit.

        Raises
        ------
        ValueError
            If the model is not fitted, ``data`` is invalid, the model has no predictive interval, or ``level``
            is not in (0, 1).
        """
        return self._interval_around(*self.predict(data, return_std=True), level)

    def _interval_around(self, predicted, std, level: float) -> tuple[np.ndarray, np.ndarray]:
        """ŷ ± t·s: the ``level`` interval of the interval's quantile t."""
        half = self._interval().quantile(level) * std
        return predicted - half, predicted + half

    def _interval(self) -> intervals.Interval:
        interval = getattr(self, "interval_", None)
        if interval is None:
            raise ValueError(f"model {self.name!r} has no predictive interval")
        return interval

    def _arrays(self):
        interval = getattr(self, "interval_", None)
        return {**super()._arrays(), **({"interval": interval} if interval is not None else {})}

    def _saved_like(self):
        saved = getattr(self, "_saved_interval", None)
        return {**super()._saved_like(), **({"interval": intervals.Interval.like(saved)} if saved else {})}

    def _set_arrays(self, arrays) -> None:
        self.interval_ = arrays.get("interval")
        super()._set_arrays({name: value for name, value in arrays.items() if name != "interval"})

    def _metadata(self) -> dict[str, Any]:
        interval = getattr(self, "interval_", None)
        return {**super()._metadata(), "interval": None if interval is None else interval.describe()}

    def _set_metadata(self, metadata: dict[str, Any]) -> None:
        # The interval's kind and shapes (checked by _saved_like): its arrays are read into their
        # placeholder next.
        self._saved_interval = metadata.get("interval")
        self.interval_ = None
        super()._set_metadata({name: value for name, value in metadata.items() if name != "interval"})


def plain(value):
    """A parameter as JSON-able data: tuples as lists, an estimator as its record, an object
    with a ``to_spec`` (a Projectile) as its spec."""
    if isinstance(value, Estimator):
        return {"model": value.name, "module": type(value).__module__, "params": value.get_params()}
    if hasattr(value, "to_spec"):
        return value.to_spec()
    if isinstance(value, (tuple, list)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _json_object(name: str, value) -> dict[str, Any]:
    """``value`` as a new dict; ValueError unless it is a mapping with string keys."""
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise ValueError(f"{name} = {value!r}: must be a JSON object (a dict with string keys)")
    return dict(value)
