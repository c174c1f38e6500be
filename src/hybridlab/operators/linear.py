"""The linear baseline: the output's samples as an affine function of the input's, by least
squares (y = A w + c, every output sample on every input sample)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from hybridlab.estimators.params import Real
from hybridlab.networks.progress import ProgressMeter
from hybridlab.operators import intervals
from hybridlab.operators.base import Operator


class LinearOperator(Operator):
    """y = A w + c by least squares on the scaled data (``ridge`` > 0 adds ridge·‖A‖²).

    Inputs W (n, m) (a wind profile in m/s), outputs (n, m, 2) (a trajectory in m), on the training grid only.

    Parameters
    ----------
    ridge : float
        Ridge penalty on A (not on c), in scaled units, finite and ≥ 0.

    Attributes
    ----------
    weights_ : jax.Array
        [A; c] in scaled units, shape (m + 1, 2·m).
    input_scale_ : float
        Standard deviation of the training inputs, in their unit (m/s for a wind).
    output_mean_ : list
        The training outputs' mean, (m, 2), in their unit (m for a trajectory).
    output_scale_ : list of float
        The outputs' standard deviation per coordinate (2 values, m).

    Raises
    ------
    ValueError
        If ``ridge`` is not finite and ≥ 0. ``predict`` raises one for inputs of another number of samples than
        the training grid's.
    """

    name = "linear-operator"
    fitted_arrays = ("weights",)
    interval_method = "least-squares prediction interval of each output sample (textbook, exact without ridge)"

    constraints = {"ridge": Real(0.0)}

    def __init__(self, *, ridge: float = 0.0):
        self.ridge = ridge
        self.check_params()

    def _fit_scaled(self, w, y, progress: ProgressMeter) -> None:
        design = np.asarray(_affine(w))
        target = np.asarray(y).reshape(y.shape[0], -1)
        penalty = self.ridge * np.eye(design.shape[1])
        penalty[-1, -1] = 0.0  # the intercept is not shrunk
        self.weights_ = jnp.asarray(np.linalg.solve(design.T @ design + penalty, design.T @ target))

    def _predict_scaled(self, w):
        return (_affine(w) @ self.weights_).reshape(w.shape[0], w.shape[1], 2)

    def _design(self, w):
        return intervals.separable(_affine(w), np.eye(w.shape[1]))

    def _arrays_like(self):
        return {"weights": jnp.zeros((self.n_features_ + 1, 2 * self.n_features_))}


def _affine(w):
    """The design (w, 1) (n, m + 1) of inputs w (n, m)."""
    return jnp.hstack([w, jnp.ones((w.shape[0], 1))])
