"""The ladder's contract, on the estimator template of :mod:`hybridlab.estimators`.

``fit(X, y) -> self``, ``predict(X) -> y``, ``save(dir)``, ``load(dir)``, ``summary() -> dict``.
X is an (n, d) array of launch conditions (for a shot: speed in m/s, angle in rad), y the n
observed outputs (distance in m). The file format is :mod:`hybridlab.estimators.files`.
"""

from __future__ import annotations

import abc
import copy
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.estimators import Estimator, WithInterval
from hybridlab.networks.progress import QUIET, ProgressMeter
from hybridlab.physics.batching import in_blocks
from hybridlab.uncertainty import intervals


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
        return cls(*jax.device_put((values.mean(axis=0), scale)))

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
        # In JAX even for concrete values: XLA's float64 division is not NumPy's to the last bit
        # (it differs in 2/3 of the elements), and a network's fit amplifies that.
        return (x - self.mean) / self.scale

    def inverse(self, z):
        return z * self.scale + self.mean


class Regressor(WithInterval, Estimator):
    """Base class of every rung of the ladder: ``fit(X, y)`` on launches X (n, d) and
    observations y (n,); ``predict(X, return_std=False)``: ŷ (n,) in the unit of y for launches X
    (n, d) of the fitted d, finite, and with ``return_std`` the predictive standard deviation s
    (n,) of a new measurement (:meth:`WithInterval.predict`); besides :class:`Estimator`'s
    persistence and summary. A subclass implements ``_fit(X, y, progress)``, ``_predict(X)`` and
    ``_arrays_like()``, and ``_sensitivities(X)`` for an interval by the delta method.

    Attributes
    ----------
    n_features_ : int
        Number of columns d of the training X.
    context_ : dict
        The ``context`` given to ``fit()`` (JSON-able facts about the data).
    interval_ : Interval or None
        The predictive interval (None: no interval).
    """

    #: Whether ``_predict`` is a JAX function of its input and the fitted arrays (so that
    #: :meth:`as_function` can differentiate through it).
    differentiable: ClassVar[bool] = True
    #: Whether ``_predict`` compiles a costly program per input shape (an ODE solve): then it is asked
    #: :func:`~hybridlab.physics.batching.in_blocks`, so that one program serves every array a run predicts.
    predicts_in_blocks: ClassVar[bool] = False
    #: Whether fitting is mostly compiling (an ODE solve and its gradient: tens of seconds on a
    #: CPU): ``hybridlab run`` fits such a rung in a second process beside the others
    #: (:mod:`hybridlab.experiments.apart`).
    compiles_for_long: ClassVar[bool] = False

    # The contract ---------------------------------------------------------------------------
    def fit(self, X, y, progress: ProgressMeter = QUIET, context: dict[str, Any] | None = None) -> Regressor:
        """Fit to launches X (n, d) and observations y (n,); returns self. ``progress`` shows
        how a long fit advances (see :mod:`hybridlab.networks.progress`). ``context``: facts
        about the data that X does not hold, as JSON-able data, kept as ``context_`` and saved
        with the model, so that a later prediction can check it is asked about the same setting
        (the fit job records ``{"height": h}``, the launch height in m of every shot).

        A fit whose optimiser stopped before its convergence test held is returned, not
        raised: :meth:`converged` says so (False), and so does ``summary()["diagnostics"]``.

        Parameters
        ----------
        X : array_like
            Launches, shape (n, d), n ≥ 1, finite (for a shot: speed in m/s, angle in rad).
        y : array_like
            Observations, shape (n,), finite (for a shot: the range in m).
        progress : ProgressMeter
            Shows how a long fit advances; quiet by default.
        context : dict, optional
            JSON-able facts about the data, kept as ``context_``.

        Returns
        -------
        self : Regressor
            The fitted model.

        Raises
        ------
        ValueError
            If a hyperparameter breaks its constraint, X or y is not as above, ``context`` is not a dict with
            string keys, the fit overflows float64, or the rung refuses the data (too few shots, wrong
            columns); the model is then left unfitted.
        """
        def check():
            X_ = check_inputs(X)
            return (X_, check_targets(y, X_.shape[0])), X_.shape[1], {} if context is None else context, {}

        return self._fit_checked(check, progress)

    def _check_fit(self, X, y) -> None:
        """ValueError unless every fitted number is finite: data near float64's limit (1e300)
        overflows inside a fit, and its model would predict NaN everywhere."""
        leaves = jax.tree.leaves(eqx.filter(self._arrays(), eqx.is_array))
        if all(np.isfinite(np.asarray(leaf)).all() for leaf in leaves):
            return
        largest = max(float(np.max(np.abs(X))), float(np.max(np.abs(y))))
        raise ValueError(f"the {self.name} fit overflowed float64 (fitted numbers are not finite): the shots' "
                         f"values reach {largest:.3g}; rescale them")

    def _checked(self, X) -> tuple:
        return (check_inputs(X, self.n_features_),)

    def _predicted(self, X) -> np.ndarray:
        return np.asarray(in_blocks(self._predict, X) if self.predicts_in_blocks else self._predict(X),
                          dtype=np.float64)

    def _std(self, predicted, X) -> np.ndarray:
        return np.broadcast_to(self._interval().std(self._sensitivities(X)), predicted.shape).copy()

    def _fit_interval(self, X, y) -> intervals.Interval | None:
        """The interval from the training data: the delta method on :meth:`_sensitivities`;
        None (no interval) for a model without them."""
        J = self._sensitivities(X)
        if J is None:
            return None
        return intervals.Delta.from_residuals(J, self.predict(X) - y, self.interval_method)

    def _sensitivities(self, X) -> np.ndarray | None:
        """∂ŷ/∂θ (n, p) at checked X for the parameters θ the interval is linearised in (None:
        the model has no interval of this kind)."""
        del X
        return None

    def as_function(self) -> Function:
        """The fitted prediction as a pure JAX function X (n, d) ↦ ŷ (n,) whose fitted arrays
        are PyTree leaves: it can be traced, compiled and differentiated (with respect to X
        and to the arrays), as when aiming learns through a frozen decoder. Inputs are not
        checked. ValueError for a rung whose prediction is not a JAX computation.

        Returns
        -------
        function : Function
            Callable on a JAX array X (n, d), returning ŷ (n,) float64.

        Raises
        ------
        ValueError
            If the model is not fitted or not ``differentiable``.
        """
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
