"""Rung 1, "the data is the model": answer with the closest recorded shot."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from scipy.spatial import cKDTree

from hybridlab.estimators.params import Integer
from hybridlab.models.base import Regressor, Scaler
from hybridlab.uncertainty.intervals import NoiseOnly


class NearestNeighbour(Regressor):
    """ŷ(x) = mean of y over the ``k`` recorded shots nearest to x in standardised inputs
    (Euclidean distance in (x − μ)/σ, so that m/s and rad weigh alike), found with a KD-tree.

    No parameters are fitted; the model stores the whole training set, which is what its
    parameter count reports.

    Parameters
    ----------
    k : int
        Number of neighbours averaged, ≥ 1; a fit needs at least k + 1 shots.

    Attributes
    ----------
    scaler_ : Scaler
        Mean and standard deviation of each column of the training X.
    X_ : jax.Array
        Training launches, shape (n, d).
    y_ : jax.Array
        Training observations, shape (n,), in the unit of y (m).
    n_train_ : int
        Number n of training shots.

    Raises
    ------
    ValueError
        If ``k`` is not an integer ≥ 1.
    """

    name = "nearest"
    differentiable = False  # a KD-tree lookup, piecewise constant
    interval_method = "jackknife (leave-one-out residuals)"
    fitted_arrays = ("scaler", "X", "y")
    fitted_facts = ("n_train",)

    constraints = {"k": Integer(1, what="a positive integer")}

    def __init__(self, *, k: int = 1):
        self.k = k
        self.check_params()

    def _fit(self, X, y, progress):
        if self.k + 1 > X.shape[0]:  # the interval's jackknife predicts each shot from k others
            raise ValueError(f"nearest neighbour with k = {self.k} needs k + 1 = {self.k + 1} training shots or "
                             f"more (its interval predicts each from its k nearest others); got {X.shape[0]}")
        self.scaler_, self.X_, self.y_ = Scaler.fit(X), jnp.asarray(X), jnp.asarray(y)
        self.n_train_ = int(X.shape[0])
        self._build()

    def _build(self):
        self.tree_ = cKDTree(np.asarray(self.scaler_.forward(self.X_)))

    def _predict(self, X):
        _, index = self.tree_.query(np.asarray(self.scaler_.forward(jnp.asarray(X))), k=self.k)
        return np.asarray(self.y_)[index.reshape(len(X), self.k)].mean(axis=1)

    def _fit_interval(self, X, y):
        """The jackknife: each training shot predicted from its k nearest *other* shots."""
        _, index = self.tree_.query(np.asarray(self.scaler_.forward(jnp.asarray(X))), k=self.k + 1)
        index = index.reshape(len(X), self.k + 1)
        others = np.array([[j for j in row if j != i][:self.k] for i, row in enumerate(index)])
        return NoiseOnly.jackknife(np.asarray(self.y_)[others].mean(axis=1) - y, self.interval_method)

    def _arrays_like(self):
        n = self.n_train_
        if self.k > n:  # a record written by hand: the query would index past the shots
            raise ValueError(f"k = {self.k}: more neighbours than the {n} training shots")
        return {"scaler": Scaler.like(self.n_features_), "X": jnp.zeros((n, self.n_features_)), "y": jnp.zeros(n)}

    def _set_arrays(self, arrays):
        super()._set_arrays(arrays)
        self._build()
