"""Rung 2: a linear model, least squares in closed form."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from hybridlab.models.base import Regressor, Scaler
from hybridlab.estimators.params import NAMES
from hybridlab.models.linear_terms import format_formula, standardised_loss
from hybridlab.uncertainty.diagnostics import hessian_report


class LinearRegression(Regressor):
    """ŷ = b + Σ_j w_j x_j, the least-squares solution (an SVD-based solve, on standardised
    columns for conditioning, then mapped back to physical units).

    ``variables`` names the input columns in the printed formula.

    Parameters
    ----------
    variables : sequence of str
        One name per column of X, for ``formula()``; a fit needs at least d + 2 shots.

    Attributes
    ----------
    coefficients_ : jax.Array
        (b, w_1, …, w_d), shape (d + 1,), in physical units (b in the unit of y, w_j in y's per x_j's).
    hessian_ : dict
        Report on the Hessian of the standardised loss.
    train_rmse_ : float
        Root-mean-square training residual, in the unit of y (m).

    Raises
    ------
    ValueError
        If ``variables`` is not a non-empty list of non-empty strings.
    """

    name = "linear"
    fitted_arrays = ("coefficients",)
    fitted_facts = ("hessian", "train_rmse")
    interval_method = "least-squares prediction interval (textbook, exact)"

    constraints = {"variables": NAMES}

    def __init__(self, *, variables=("v", "theta")):
        self.variables = variables
        self.check_params()

    def _fit(self, X, y, progress):
        if len(self.variables) != X.shape[1]:
            raise ValueError(f"variables = {self.variables}: X has {X.shape[1]} columns")
        parameters = X.shape[1] + 1
        if X.shape[0] <= parameters:  # the interval estimates the noise from n − p residual degrees of freedom
            raise ValueError(f"a linear model with {parameters} parameters needs at least {parameters + 1} training "
                             f"shots (its interval estimates the noise from the n − {parameters} left over); "
                             f"got {X.shape[0]}")
        scaler = Scaler.fit(X)
        Z = np.column_stack([np.ones(len(X)), np.asarray(scaler.forward(X))])
        solution, *_ = np.linalg.lstsq(Z, y, rcond=None)
        # Back to physical units: y = b + Σ w_j (x_j − μ_j)/σ_j.
        weights = solution[1:] / np.asarray(scaler.scale)
        intercept = solution[0] - weights @ np.asarray(scaler.mean)
        self.coefficients_ = jnp.asarray(np.concatenate([[intercept], weights]))
        residual = Z @ solution - y
        # The loss in standardised units, mean((Zw − y)²)/var(y), is quadratic: ∇² = 2ZᵀZ/(n var y).
        self.hessian_ = hessian_report(standardised_loss, jnp.asarray(solution), (Z, y))
        self.train_rmse_ = float(np.sqrt(np.mean(residual**2)))

    def _predict(self, X):
        return self.coefficients_[0] + jnp.asarray(X) @ self.coefficients_[1:]

    def _sensitivities(self, X):
        return np.column_stack([np.ones(len(X)), X])  # ∂ŷ/∂(b, w): the design matrix

    def formula(self) -> str:
        """The fitted line as Python: ``b + w1*v + w2*theta``.

        Returns
        -------
        formula : str
            The fitted line, X's columns named by ``variables``.
        """
        return format_formula(np.asarray(self.coefficients_), ["1", *self.variables])

    def _arrays_like(self):
        return {"coefficients": jnp.zeros(self.n_features_ + 1)}

    def summary(self):
        """Facts about the fitted model (see ``Estimator.summary``), with the formula.

        Returns
        -------
        summary : dict
            ``formula`` (see ``formula()``) and ``diagnostics`` (``train_rmse`` in m, ``hessian``) besides the
            common keys.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        out = super().summary()
        out["formula"] = self.formula()
        out["diagnostics"] = {"train_rmse": self.train_rmse_, "hessian": self.hessian_}
        return out
