"""Rung 4, quasi-linear: a sparse sum of candidate terms, printed as a formula.

As in PySINDy: a library Θ(x) of candidate terms, and sequentially thresholded least squares
(STLSQ) to keep only the terms the data need; the threshold is chosen by cross-validation.
Before STLSQ, the terms the shots cannot tell apart from simpler ones (all shots at one angle:
cos(theta) is a multiple of 1) are set aside as *aliased* (:func:`hybridlab.sparse.independent_terms`).
"""

from __future__ import annotations

import itertools

import jax.numpy as jnp
import numpy as np

from hybridlab.models.base import Regressor
from hybridlab.estimators.params import NAMES, SEED, Integer, Items, Optional, Real, Text
from hybridlab.models.linear_terms import format_formula, standardised_loss
from hybridlab.sparse import aliases, independent_terms, stlsq
from hybridlab.uncertainty.diagnostics import hessian_report, standard_errors

#: Candidate thresholds (relative coefficient size, see :func:`hybridlab.sparse.stlsq`) tried by cross-validation.
THRESHOLDS = np.geomspace(1e-4, 0.5, 40)



def _factor(values, name, kind, order):
    """One factor of a term: (values, printed name, size) for a power or a harmonic of a
    variable. The size is what the values are measured against: |x|**order for a power
    (computed to full relative precision), 1 for a harmonic (|sin|, |cos| ≤ 1, computed to
    ~1e-16 absolute: cos(2θ) at θ = 45° is 6e-17, which is 0, not a value to scale up)."""
    if kind == "power":
        values = values**order
        return values, {0: "1", 1: name}.get(order, f"{name}**{order}"), np.abs(values)
    argument = name if order == 1 else f"{order}*{name}"
    function = np.sin if kind == "sin" else np.cos
    return function(order * values), f"{kind}({argument})", np.ones_like(values)


class BasisRegression(Regressor):
    """ŷ = Σ_j ξ_j θ_j(x) over a library of candidate terms θ_j, most ξ_j exactly zero.

    Library: every product of one factor per variable; a variable named in ``angles`` (rad)
    contributes 1, sin(kθ), cos(kθ) for k = 1..``harmonics``; any other contributes powers
    0..``degree``. So for (v, θ): ``1``, ``v``, ``v**2``, ``sin(theta)``, ``v**2*sin(2*theta)``, …

    STLSQ works on columns and target scaled to unit root-mean-square, so that the
    threshold λ is relative: a term is dropped when its contribution is below λ times the
    size of y. With ``threshold=None``, λ is chosen by ``folds``-fold cross-validation with the
    one-standard-error rule (the largest λ whose CV error is within one standard error of the
    best), which prefers the sparsest formula the data cannot tell apart from the best.

    Before STLSQ (and its cross-validation), the terms the shots cannot tell apart from
    simpler terms are set aside (:func:`hybridlab.sparse.independent_terms`): on shots that all share one angle,
    ``sin(theta)`` is a multiple of ``1`` and ``v*cos(2*theta)`` one of ``v``; on identical shots every term is
    a multiple of 1. Such a term gets the coefficient 0 and is listed in ``aliased_`` (and
    ``summary()["diagnostics"]["aliased"]``): {term: [the kept terms it is a combination of on
    these shots]}, [] for a term that is 0 on every shot. Without this the unit-RMS scaling
    would make ``cos(2*theta)`` at 45° (6e-17) the constant 1 and could fit 30 m as
    ``2.4e16*cos(2*theta)``. Designs that vary both inputs over ordinary ranges alias nothing and
    fit exactly as without it; a narrow one (angles within 40..50°, speeds within 20..21 m/s)
    may alias the highest terms, and fewer shots than terms keep at most one term per shot.

    Parameters
    ----------
    variables : sequence of str
        One name per column of X, used in the terms' names.
    angles : sequence of str
        The variables (in rad) that enter as harmonics; each must be one of ``variables``.
    degree : int
        Highest power of a non-angle variable, ≥ 0.
    harmonics : int
        Highest harmonic k of an angle, ≥ 0.
    threshold : float or None
        STLSQ threshold λ (relative), finite and ≥ 0; None: chosen by cross-validation.
    folds : int
        Cross-validation folds, ≥ 2 (with ``threshold=None``, a fit needs at least ``folds`` shots).
    seed : int
        Seed of the folds' shuffle, in [0, 2**63 − 1].

    Attributes
    ----------
    coefficients_ : jax.Array
        ξ, shape (terms,), one per library term (0 where dropped or aliased), in y's unit over the term's.
    names_ : list of str
        The library's terms as Python expressions, in order.
    aliased_ : dict
        {aliased term: [kept terms it is a combination of on these shots]}.
    threshold_ : float
        The λ used.
    cv_ : dict or None
        The cross-validation curve (``thresholds``, ``cv_mse``, ``cv_se``); None for a given threshold.
    stderr_ : dict
        Standard error of each kept coefficient, by term.
    train_rmse_ : float
        Root-mean-square training residual, in the unit of y (m).
    hessian_ : dict
        Report on the Hessian of the standardised loss in the kept coefficients.

    Raises
    ------
    ValueError
        If a hyperparameter breaks its constraint, or an angle is not one of ``variables``.
    """

    name = "basis"
    differentiable = False  # the library of terms is built with NumPy
    fitted_arrays = ("coefficients",)
    interval_method = "least-squares prediction interval on the kept terms (textbook, given the selection)"
    fitted_facts = ("names", "threshold", "cv", "stderr", "train_rmse", "hessian", "aliased")

    constraints = {"variables": NAMES, "angles": Items(Text(), least=0), "degree": Integer(0),
                   "harmonics": Integer(0), "threshold": Optional(Real(0.0)), "folds": Integer(2), "seed": SEED}

    def __init__(self, *, variables=("v", "theta"), angles=("theta",), degree=3, harmonics=2,
                 threshold=None, folds=5, seed=0):
        self.variables, self.angles, self.degree, self.harmonics = variables, angles, degree, harmonics
        self.threshold, self.folds, self.seed = threshold, folds, seed
        self.check_params()

    def _check_together(self) -> None:
        if not set(self.angles) <= set(self.variables):
            raise ValueError(f"angles = {self.angles!r}: every angle must be one of the variables {self.variables}")

    def library(self, X) -> tuple[np.ndarray, list[str]]:
        """Θ(X) (n, terms) and the terms' names as Python expressions.

        Parameters
        ----------
        X : numpy.ndarray
            Inputs, shape (n, d), d = len(``variables``); angles in rad.

        Returns
        -------
        library : numpy.ndarray
            Θ(X), shape (n, terms).
        names : list of str
            The terms' names, one per column.

        Raises
        ------
        ValueError
            If X does not have one column per variable.
        """
        library, names, _ = self._terms(X)
        return library, names

    def _terms(self, X) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Θ(X), the names, and each term's size on each shot (n, terms): the product of its
        factors' sizes (see ``_factor``), what the term's values are accurate relative to."""
        if len(self.variables) != X.shape[1]:
            raise ValueError(f"variables = {self.variables}: X has {X.shape[1]} columns")
        choices = []
        for column, name in enumerate(self.variables):
            if name in self.angles:
                kinds = [("power", 0)] + [(k, h) for h in range(1, self.harmonics + 1) for k in ("sin", "cos")]
            else:
                kinds = [("power", p) for p in range(self.degree + 1)]
            choices.append([_factor(X[:, column], name, kind, order) for kind, order in kinds])
        columns, names, sizes = [], [], []
        for combination in itertools.product(*choices):
            columns.append(np.prod([values for values, _, _ in combination], axis=0))
            names.append("*".join(label for _, label, _ in combination if label != "1") or "1")
            sizes.append(np.prod([size for _, _, size in combination], axis=0))
        return np.column_stack(columns), names, np.column_stack(sizes)

    def _fit(self, X, y, progress):
        library, self.names_, sizes = self._terms(X)
        column_scale = np.sqrt(np.mean(library**2, axis=0))
        column_scale = np.where(column_scale > 0, column_scale, 1.0)
        y_scale = np.sqrt(np.mean(y**2)) or 1.0
        A, S, b = library / column_scale, sizes / column_scale, y / y_scale
        kept = independent_terms(A, S)
        self.aliased_ = aliases(A, S, kept, self.names_)
        self.threshold_, self.cv_ = ((self.threshold, None) if self.threshold is not None
                                     else self._cross_validate(A, S, b))
        xi = np.zeros(len(self.names_))
        xi[kept] = stlsq(A if kept.all() else A[:, kept], b, self.threshold_)
        self.coefficients_ = jnp.asarray(xi * y_scale / column_scale)
        self._diagnose(library, y, column_scale)

    def _cross_validate(self, A, S, b):
        """λ by k-fold CV and the one-standard-error rule; returns (λ, CV curve). Each fold is
        fitted as the whole data are, aliased terms (of that fold's shots) set aside first."""
        if len(b) < self.folds:
            raise ValueError(f"folds = {self.folds}: cross-validation needs at least {self.folds} shots, "
                             f"got {len(b)} (or give a threshold)")
        folds = np.array_split(np.random.default_rng(self.seed).permutation(len(b)), self.folds)
        errors = np.empty((len(THRESHOLDS), self.folds))
        for j, held in enumerate(folds):
            rows = np.setdiff1d(np.arange(len(b)), held)
            kept = independent_terms(A[rows], S[rows])
            design, test = (A[rows], A[held]) if kept.all() else (A[rows][:, kept], A[held][:, kept])
            for i, threshold in enumerate(THRESHOLDS):
                xi = stlsq(design, b[rows], threshold)
                errors[i, j] = np.mean((test @ xi - b[held]) ** 2)
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
        """The kept terms and their coefficients, ``{"v**2*sin(2*theta)": 0.1019, …}``.

        Returns
        -------
        terms : dict of str to float
            Each nonzero coefficient ξ_j by its term's name, in y's unit over the term's (e.g. m/(m/s)²).
        """
        return {name: float(c) for name, c in zip(self.names_, np.asarray(self.coefficients_)) if c != 0}

    def formula(self) -> str:
        """The fitted sum as Python, e.g. ``0.1019*v**2*sin(2*theta)``.

        Returns
        -------
        formula : str
            The kept terms with their coefficients.
        """
        terms = self.terms()
        return format_formula(list(terms.values()), list(terms))

    def _predict(self, X):
        library, _ = self.library(X)
        return library @ np.asarray(self.coefficients_)

    def _sensitivities(self, X):
        library, _ = self.library(X)
        return library[:, np.asarray(self.coefficients_) != 0]  # the kept terms' columns

    def _arrays_like(self):
        return {"coefficients": jnp.zeros(len(self.names_))}

    def n_params(self):
        """Number of fitted numbers: the kept (nonzero) coefficients.

        Returns
        -------
        n : int
            The count.
        """
        return len(self.terms())

    def _set_metadata(self, metadata):
        # A model saved before aliased terms were recorded aliased none (nor could tell).
        super()._set_metadata({"aliased": {}, **metadata})
        # JSON has no infinity: an undetermined coefficient's stderr is saved as null.
        self.stderr_ = {name: np.inf if e is None else e for name, e in self.stderr_.items()}
        aliased = self.aliased_
        if not (isinstance(aliased, dict) and all(isinstance(term, str) and isinstance(kept, list)
                                                  and all(isinstance(k, str) for k in kept)
                                                  for term, kept in aliased.items())):
            raise ValueError(f"aliased = {aliased!r}: must map each aliased term to a list of terms")

    def summary(self):
        """Facts about the fitted model (see ``Estimator.summary``), with the formula and its terms.

        Returns
        -------
        summary : dict
            ``formula``, ``terms``, ``stderr`` and ``diagnostics`` (``threshold``, ``library_size``,
            ``aliased``, ``train_rmse`` in m, ``hessian``), besides the common keys.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        out = super().summary()
        out["formula"], out["terms"], out["stderr"] = self.formula(), self.terms(), self.stderr_
        out["diagnostics"] = {"threshold": self.threshold_, "library_size": len(self.names_),
                              "aliased": self.aliased_, "train_rmse": self.train_rmse_, "hessian": self.hessian_}
        return out
