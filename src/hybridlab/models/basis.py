"""Rung 4, quasi-linear: a sparse sum of candidate terms, printed as a formula.

As in PySINDy: a library Θ(x) of candidate terms, and sequentially thresholded least squares
(STLSQ) to keep only the terms the data need; the threshold is chosen by cross-validation.
"""

from __future__ import annotations

import itertools

import jax.numpy as jnp
import numpy as np

from hybridlab.models.base import Regressor
from hybridlab.models.diagnostics import hessian_report, standard_errors
from hybridlab.models.linear_terms import format_formula, names as _names, standardised_loss

#: Candidate thresholds (relative coefficient size, see ``stlsq``) tried by cross-validation.
THRESHOLDS = np.geomspace(1e-4, 0.5, 40)


def _factor(values, name, kind, order):
    """One factor of a term: (values, printed name) for a power or a harmonic of a variable."""
    if kind == "power":
        return values**order, {0: "1", 1: name}.get(order, f"{name}**{order}")
    argument = name if order == 1 else f"{order}*{name}"
    function = np.sin if kind == "sin" else np.cos
    return function(order * values), f"{kind}({argument})"


class BasisRegression(Regressor):
    """ŷ = Σ_j ξ_j θ_j(x) over a library of candidate terms θ_j, most ξ_j exactly zero.

    Library: every product of one factor per variable; a variable named in ``angles`` (rad)
    contributes 1, sin(kθ), cos(kθ) for k = 1..``harmonics``; any other contributes powers
    0..``degree``. So for (v, θ): 1, v, v**2, sin(theta), v**2*sin(2*theta), …

    STLSQ works on columns and target scaled to unit root-mean-square, so that the
    threshold λ is relative: a term is dropped when its contribution is below λ times the
    size of y. With ``threshold=None``, λ is chosen by ``folds``-fold cross-validation with the
    one-standard-error rule (the largest λ whose CV error is within one standard error of the
    best), which prefers the sparsest formula the data cannot tell apart from the best.
    """

    name = "basis"
    fitted_arrays = ("coefficients",)
    fitted_facts = ("names", "threshold", "cv", "stderr", "train_rmse", "hessian")

    def __init__(self, variables=("v", "theta"), angles=("theta",), degree=3, harmonics=2,
                 threshold=None, folds=5, seed=0):
        self.variables, self.angles = _names("variables", variables), tuple(angles)
        if not set(self.angles) <= set(self.variables):
            raise ValueError(f"angles = {angles!r}: every angle must be one of the variables {self.variables}")
        self.degree, self.harmonics, self.folds, self.seed = int(degree), int(harmonics), int(folds), int(seed)
        self.threshold = None if threshold is None else float(threshold)
        if self.threshold is not None and not self.threshold >= 0:
            raise ValueError(f"threshold = {threshold}: must be >= 0")
        if self.folds < 2:
            raise ValueError(f"folds = {folds}: must be >= 2")
        for name in ("degree", "harmonics"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} = {getattr(self, name)}: must be >= 0")

    def library(self, X) -> tuple[np.ndarray, list[str]]:
        """Θ(X) (n, terms) and the terms' names as Python expressions."""
        if len(self.variables) != X.shape[1]:
            raise ValueError(f"variables = {self.variables}: X has {X.shape[1]} columns")
        choices = []
        for column, name in enumerate(self.variables):
            if name in self.angles:
                kinds = [("power", 0)] + [(k, h) for h in range(1, self.harmonics + 1) for k in ("sin", "cos")]
            else:
                kinds = [("power", p) for p in range(self.degree + 1)]
            choices.append([_factor(X[:, column], name, kind, order) for kind, order in kinds])
        columns, names = [], []
        for combination in itertools.product(*choices):
            columns.append(np.prod([values for values, _ in combination], axis=0))
            names.append("*".join(label for _, label in combination if label != "1") or "1")
        return np.column_stack(columns), names

    def _fit(self, X, y, progress):
        library, self.names_ = self.library(X)
        column_scale = np.sqrt(np.mean(library**2, axis=0))
        column_scale = np.where(column_scale > 0, column_scale, 1.0)
        y_scale = np.sqrt(np.mean(y**2)) or 1.0
        A, b = library / column_scale, y / y_scale
        self.threshold_, self.cv_ = (self.threshold, None) if self.threshold is not None else self._cross_validate(A, b)
        xi = stlsq(A, b, self.threshold_)
        self.coefficients_ = jnp.asarray(xi * y_scale / column_scale)
        self._diagnose(library, y, column_scale)

    def _cross_validate(self, A, b):
        """λ by k-fold CV and the one-standard-error rule; returns (λ, CV curve)."""
        if len(b) < self.folds:
            raise ValueError(f"folds = {self.folds}: cross-validation needs at least {self.folds} shots, "
                             f"got {len(b)} (or give a threshold)")
        folds = np.array_split(np.random.default_rng(self.seed).permutation(len(b)), self.folds)
        errors = np.empty((len(THRESHOLDS), self.folds))
        for j, held in enumerate(folds):
            kept = np.setdiff1d(np.arange(len(b)), held)
            for i, threshold in enumerate(THRESHOLDS):
                xi = stlsq(A[kept], b[kept], threshold)
                errors[i, j] = np.mean((A[held] @ xi - b[held]) ** 2)
        mean, se = errors.mean(axis=1), errors.std(axis=1, ddof=1) / np.sqrt(self.folds)
        best = int(np.argmin(mean))
        chosen = max(i for i in range(len(THRESHOLDS)) if mean[i] <= mean[best] + se[best])
        curve = {"thresholds": THRESHOLDS.tolist(), "cv_mse": mean.tolist(), "cv_se": se.tolist()}
        return float(THRESHOLDS[chosen]), curve

    def _diagnose(self, library, y, column_scale):
        """Standard errors of the kept coefficients (ordinary least squares on them) and the
        Hessian of the standardised loss with respect to them, in units of the columns' RMS
        (so that it does not depend on the units of X)."""
        kept = np.flatnonzero(np.asarray(self.coefficients_))
        design = library[:, kept]
        coefficients = np.asarray(self.coefficients_)[kept]
        residual = design @ coefficients - y
        self.stderr_ = dict(zip([self.names_[i] for i in kept], standard_errors(design, residual).tolist()))
        self.train_rmse_ = float(np.sqrt(np.mean(residual**2)))
        scale = column_scale[kept]
        self.hessian_ = hessian_report(standardised_loss, jnp.asarray(coefficients * scale), (design / scale, y))

    def terms(self) -> dict[str, float]:
        """The kept terms and their coefficients, {"v**2*sin(2*theta)": 0.1019, …}."""
        return {name: float(c) for name, c in zip(self.names_, np.asarray(self.coefficients_)) if c != 0}

    def formula(self) -> str:
        terms = self.terms()
        return format_formula(list(terms.values()), list(terms))

    def _predict(self, X):
        library, _ = self.library(X)
        return library @ np.asarray(self.coefficients_)

    def _arrays_like(self):
        return {"coefficients": jnp.zeros(len(self.names_))}

    def n_params(self):
        return len(self.terms())

    def _set_metadata(self, metadata):
        super()._set_metadata(metadata)
        # JSON has no infinity: an undetermined coefficient's stderr is saved as null.
        self.stderr_ = {name: np.inf if e is None else e for name, e in self.stderr_.items()}

    def summary(self):
        out = super().summary()
        out["formula"], out["terms"], out["stderr"] = self.formula(), self.terms(), self.stderr_
        out["diagnostics"] = {"threshold": self.threshold_, "library_size": len(self.names_),
                              "train_rmse": self.train_rmse_, "hessian": self.hessian_}
        return out


def stlsq(A, b, threshold: float, iterations: int = 25) -> np.ndarray:
    """Sequentially thresholded least squares: solve A ξ ≈ b, zero every |ξ_j| < threshold,
    re-solve on the rest, until the kept set stops changing (Brunton et al. 2016)."""
    active = np.ones(A.shape[1], dtype=bool)
    xi = np.zeros(A.shape[1])
    for _ in range(iterations):
        xi = np.zeros(A.shape[1])
        if not active.any():
            break
        xi[active] = np.linalg.lstsq(A[:, active], b, rcond=None)[0]
        keep = np.abs(xi) >= threshold
        if np.array_equal(keep, active):
            break
        active &= keep
    xi[~active] = 0.0
    return xi
