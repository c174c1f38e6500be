"""The contract of a neural operator: a function in, a function out, both sampled on a grid.

``fit(W, Y) -> self`` and ``predict(W) -> Y`` with W (n, m) the input function's samples (a
wind profile in m/s at m equally spaced times over [0, T]) and Y (n, m, 2) the output's (the
trajectory (x, y) in m at the same times), besides :class:`~hybridlab.estimators.Estimator`'s
``summary``, ``save`` and ``load`` (JSON + arrays, no pickle). Every operator learns the
output's deviation from the training outputs' mean, in units of its standard deviation per
coordinate, from inputs in units of their standard deviation: the same footing whatever the
units of the problem.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from scipy.interpolate import CubicSpline

from hybridlab.estimators import Estimator, WithInterval
from hybridlab.networks import training
from hybridlab.networks.progress import QUIET, ProgressMeter
from hybridlab.operators import intervals


def check_functions(W, Y=None, samples: int | None = None):
    """W as finite float64 (n, m) (and Y as (n, m, 2)); a ValueError names what is wrong."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] < 1 or W.shape[1] < 2:
        raise ValueError(f"W must be a 2-D array (n, m) of n functions at m >= 2 samples, got shape {W.shape}")
    if samples is not None and W.shape[1] != samples:
        raise ValueError(f"W has {W.shape[1]} samples per function, the operator was fitted on {samples}")
    for name, array in (("W", W),) + (() if Y is None else (("Y", np.asarray(Y, dtype=np.float64)),)):
        bad = np.argwhere(~np.isfinite(array))
        if bad.size:
            raise ValueError(f"{name}[{', '.join(map(str, bad[0]))}] = {array[tuple(bad[0])]}: must be finite")
    if Y is None:
        return W
    Y = np.asarray(Y, dtype=np.float64)
    if Y.shape != (W.shape[0], W.shape[1], 2):
        raise ValueError(f"Y must have shape ({W.shape[0]}, {W.shape[1]}, 2) to match W, got {Y.shape}")
    return W, Y


class Operator(WithInterval, Estimator, rung=False):
    """Base class of the operators: ``fit(W, Y)``; ``predict(W, return_std=False)``
    (:meth:`WithInterval.predict`): the outputs Y (n, m, 2) in their unit for input functions W
    (n, m), finite, on the training grid (any grid for a resolution-free operator), and with
    ``return_std`` the predictive standard deviation (n, m, 2) of each output sample. A subclass
    implements ``_fit_scaled(w, y, progress)`` (w the scaled inputs (n, m), y the scaled outputs
    (n, m, 2)), ``_predict_scaled(w)`` and ``_design(w)``, the features its predictive interval
    is linear in (see :mod:`hybridlab.operators.intervals`).

    Attributes
    ----------
    input_scale_ : float
        Standard deviation of the training inputs, in their unit (m/s for a wind); 1 if they are all 0.
    output_mean_ : list
        The training outputs' mean, (m, 2), in their unit (m for a trajectory).
    output_scale_ : list of float
        The outputs' standard deviation per coordinate (2 values, m).
    resolution_free : bool
        Whether the operator takes inputs on another grid than its training one (class attribute; the FNO).
    """

    fitted_facts = ("input_scale", "output_mean", "output_scale")

    def fit(self, W, Y, progress: ProgressMeter = QUIET) -> Operator:
        """Fit to input functions W and output functions Y on one grid; returns self.

        Parameters
        ----------
        W : array_like
            Input functions, shape (n, m): n ≥ 1 functions at m ≥ 2 samples (a wind in m/s), finite.
        Y : array_like
            Output functions, shape (n, m, 2) (positions (x, y) in m), finite.
        progress : ProgressMeter
            Shows how a long training advances; quiet by default.

        Returns
        -------
        self : Operator
            The fitted operator.

        Raises
        ------
        ValueError
            If W or Y is not as above, a hyperparameter breaks its constraint, or the operator refuses the grid.
        """
        def check():
            data = check_functions(W, Y)
            return data, data[0].shape[1], {}, {}

        return self._fit_checked(check, progress)

    def _fit(self, W, Y, progress: ProgressMeter) -> None:
        self.input_scale_ = float(np.std(W)) or 1.0
        self.output_mean_ = Y.mean(axis=0).tolist()
        self.output_scale_ = (Y - Y.mean(axis=0)).std(axis=(0, 1)).tolist()
        self._fit_scaled(jnp.asarray(W / self.input_scale_), jnp.asarray(self._scale(Y)), progress)

    def _fit_interval(self, W, Y) -> intervals.Separable | intervals.Pointwise:
        w = jnp.asarray(W / self.input_scale_)
        residual = np.asarray(self._predict_scaled(w)) - self._scale(Y)
        return intervals.fit_interval(self._designs(w), residual, self.interval_method)

    def _checked(self, W) -> tuple:
        W = check_functions(W, samples=None if self.resolution_free else self.n_features_)
        return W, jnp.asarray(W / self.input_scale_)

    def _predicted(self, W, w) -> np.ndarray:
        return np.asarray(self._predict_scaled(w)) * np.asarray(self.output_scale_) + self._mean(W.shape[1])

    def _std(self, predicted, W, w) -> np.ndarray:
        interval = self._interval()
        variance = np.concatenate([interval.variance(design) for design in self._designs(w)])
        return np.sqrt(variance) * np.asarray(self.output_scale_)

    #: Whether the operator takes inputs on another grid than its training one (the FNO).
    resolution_free = False

    def _scale(self, Y):
        return (Y - np.asarray(self.output_mean_)) / np.asarray(self.output_scale_)

    def _mean(self, samples: int) -> np.ndarray:
        """The training outputs' mean on a grid of ``samples`` points (interpolated in time)."""
        mean = np.asarray(self.output_mean_)
        if samples == mean.shape[0]:
            return mean
        grid, fine = np.linspace(0.0, 1.0, mean.shape[0]), np.linspace(0.0, 1.0, samples)
        return CubicSpline(grid, mean, axis=0)(fine)

    @abc.abstractmethod
    def _fit_scaled(self, w, y, progress: ProgressMeter) -> None:
        """Set the fitted arrays from scaled inputs (n, m) and outputs (n, m, 2)."""

    @abc.abstractmethod
    def _predict_scaled(self, w):
        """Scaled outputs (n, m, 2) for scaled inputs (n, m)."""

    @abc.abstractmethod
    def _design(self, w) -> dict:
        """The interval's design for scaled inputs (n, m): :func:`intervals.separable` or
        :func:`intervals.pointwise`."""

    def _designs(self, w):
        """The design of :data:`BATCH_FUNCTIONS` functions at a time: an FNO's holds m × (width + 1)
        numbers per function, 17 GB for 10⁶ functions at once."""
        for first in range(0, w.shape[0], BATCH_FUNCTIONS):
            yield self._design(w[first:first + BATCH_FUNCTIONS])


def _loss(network, data):
    """Mean squared scaled error of a network over a batch of functions."""
    w, y = data
    return jnp.mean((jax.vmap(network)(w) - y) ** 2)


#: The most input functions one training step, or one evaluation, takes by default: beyond it
#: an epoch is a pass over shuffled mini-batches of this size (an FNO of width 32 on 64 samples
#: holds ~0.5 GB of activations for them).
BATCH_FUNCTIONS = 4096


def by_batches(function, w):
    """``function`` of one input (m,) over inputs (n, m), :data:`BATCH_FUNCTIONS` of them at a time, so
    that memory does not grow with n beyond the results."""
    if w.shape[0] <= BATCH_FUNCTIONS:  # one batch: the plain vmap, without the loop's compile
        return jax.vmap(function)(w)
    return jax.lax.map(function, w, batch_size=BATCH_FUNCTIONS)


@eqx.filter_jit
def apply(network, w):
    """A network on a batch of inputs (n, m) → (n, m, 2), compiled once per shape."""
    return by_batches(network, w)


class NetworkOperator(Operator):
    """An operator that is one network of a function (m,) → (m, 2), trained by Adam (``epochs``,
    ``learning_rate`` cosine-decayed over every step) on the mean squared scaled error: full-batch,
    or by shuffled mini-batches of ``batch_size`` functions (default :data:`BATCH_FUNCTIONS`) where there
    are more. A subclass gives ``_network()`` (untrained, from ``seed``) and keeps ``epochs``,
    ``learning_rate``, ``batch_size``, ``seed``."""

    fitted_arrays = ("network",)

    @abc.abstractmethod
    def _network(self) -> eqx.Module:
        """The untrained network."""

    def _fit_scaled(self, w, y, progress: ProgressMeter) -> None:
        batch = self.batch_size or BATCH_FUNCTIONS
        steps = self.epochs * training.batches_per_epoch(w.shape[0], batch)
        adam = training.optimiser("adam", self.learning_rate, "cosine", steps)
        task = progress.task(self.name, self.epochs)
        self.network_, _ = training.first_order(self._network(), _loss, (w, y), None, adam, self.epochs, None, task,
                                                batch=batch, seed=self.seed)
        task.close()

    def _predict_scaled(self, w):
        return apply(self.network_, w)

    def _arrays_like(self):
        return {"network": self._network()}
