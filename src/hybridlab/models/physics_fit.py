"""Rung 5, the grey box: the physics with unknown parameters, fitted to the data."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.estimators.grey import FittedPhysics, from_log
from hybridlab.estimators.params import PHYSICS, SEED, UNKNOWN, Integer
from hybridlab.models.base import Regressor
from hybridlab.networks import training
from hybridlab.physics import LinearDrag
from hybridlab.physics.compiling import by_motion
from hybridlab.physics.batching import in_blocks
from hybridlab.physics.validation import is_traced
from hybridlab.uncertainty.diagnostics import best_of, hessian_report, standard_errors


class PhysicsFit(FittedPhysics, Regressor):
    """ŷ = D(v, θ; p): the range of a ``Projectile`` whose parameters named in ``unknown``
    (any of its drag law's coefficients, mass, g, height) are fitted by Levenberg–Marquardt
    through the differentiable range; X columns are speed (m/s) and angle (rad).

    ``physics`` gives the known parameters and the starting guesses of the unknown ones
    (a Projectile or its spec; an unknown drag coefficient it leaves out starts at the law's
    starting guess). The fit works in standardised units: residuals r_i = (D_i − y_i)/σ_y
    and log-parameters u = log(p/p₀), which keeps p > 0 and makes every unknown O(1).
    Standard errors come from the Jacobian J = ∂D/∂p at the optimum:
    Cov(p) = s² (JᵀJ)⁻¹ with s² = Σ(D_i − y_i)²/(n − q) for q unknowns (infinite for a
    parameter the data cannot determine). ``restarts`` > 1 also starts from u ~ N(0, 1) (each
    guess scaled by e^±1 or so, from ``seed``) and keeps the lowest loss; the restart report
    shows whether the starts agree (an identifiable fit) or reach equal loss apart.

    :meth:`converged` is False when Levenberg–Marquardt stopped at its step limit, or on a
    plateau where an unknown no longer moves the predictions (a start such as c = 1e100, from
    which every shot stops at once): such a fit is returned, flagged, not raised.

    The solve is compiled once per drag law, unknowns and data shape: a second fit (another
    model object, other data of the same size, other starting values) reuses it.

    Parameters
    ----------
    physics : Projectile or dict or None
        The known parameters and the unknowns' starting guesses (each > 0); None: linear drag with the
        defaults.
    unknown : sequence of str or None
        Names of the fitted parameters (drag coefficients, ``mass``, ``g``, ``height``), at least one,
        distinct; None (the default): every coefficient of the drag law (linear drag's k).
    steps : int
        Levenberg–Marquardt steps per start, ≥ 1.
    restarts : int
        Number of starts, ≥ 1.
    seed : int
        Seed of the extra starts, in [0, 2**63 − 1].

    Attributes
    ----------
    values_ : jax.Array
        Fitted values, shape (q,), in the order of ``unknown``, SI units (kg/s, kg/m, kg, m/s², m).
    stderr_ : list of float
        Standard error of each, in its unit (inf where the data cannot determine it).
    train_rmse_ : float
        Root-mean-square training residual in m.
    converged_ : bool
        Whether Levenberg–Marquardt converged and every unknown still moves the predictions.
    hessian_ : dict
        Report on the Hessian of the loss in the log-parameters.
    restarts_ : dict or None
        How the starts ended (None for one start).

    Raises
    ------
    ValueError
        If a hyperparameter breaks its constraint, ``physics`` is not a valid projectile, or ``unknown`` names
        a parameter twice, one that does not apply, or one whose starting value is not > 0. A fit raises
        one unless X has 2 columns, or where the starting physics cannot compute a range.
    """

    name = "physics"
    fitted_arrays = ("values",)
    interval_method = "delta method in the fitted physical parameters"
    predicts_in_blocks = True
    fitted_facts = ("stderr", "train_rmse", "converged", "hessian", "restarts")

    default_law = LinearDrag.name
    constraints = {"physics": PHYSICS, "unknown": UNKNOWN, "steps": Integer(1), "restarts": Integer(1),
                   "seed": SEED}

    def __init__(self, physics=None, *, unknown=None, steps=200, restarts=1, seed=0):
        self.physics, self.unknown, self.steps, self.restarts, self.seed = physics, unknown, steps, restarts, seed
        self.check_params()

    def _fit(self, X, y, progress):
        del progress  # a few seconds at most
        if X.shape[1] != 2:
            raise ValueError(f"X must have 2 columns (speed m/s, angle rad), got {X.shape[1]}")
        start = self.start()
        # Everything that varies from fit to fit is data (arrays), so the compiled solve is reused;
        # made in NumPy (each eager JAX operation would compile a program of its own).
        p0 = np.array([float(start.value(name)) for name in self.unknowns()])
        data = (start, X, y, p0, float(np.std(y)) or 1.0)
        # The start checked (a bad launch or a failed solve is a ValueError in one line); the
        # trial steps are not: one whose ranges are not finite is rejected.
        fits = [training.minpack(lambda u: self._linearised(u, data, checked=bool(np.array_equal(u, u0))),
                                 u0, self.steps) for u0 in self._starts()]
        # r and J at each optimum: the losses that pick the best restart, the standard errors,
        # and the Hessian's gradients all come from them.
        linearised = [self._linearised(u, data) for u, _ in fits]
        best, self.restarts_ = best_of([float(jnp.mean(r**2)) for r, _ in linearised],
                                       [from_log(p0, u) for u, _ in fits], self.restarts > 1)
        u, converged = fits[best]
        self.values_ = from_log(p0, u)
        r, J_u = linearised[best]
        self.converged_ = bool(converged) and _moves_predictions(J_u)
        # Back to SI units: D − y = σ_y r and ∂D/∂p = σ_y (∂r/∂u) / p, as u = log(p/p₀).
        scale = data[-1]
        residual, J = scale * np.asarray(r), scale * np.asarray(J_u) / np.asarray(self.values_)
        self.stderr_ = standard_errors(J, residual).tolist()
        self.train_rmse_ = float(np.sqrt(np.mean(residual**2)))

        def gradient(u):  # ∇L = (2/n) Jᵀr, L = mean(r²)
            r, J = self._linearised(u, data)
            return 2 / r.size * J.T @ r

        # Central differences of the exact gradient: no second-order compile of the solve (a
        # Diffrax solve's custom VJP admits no forward-over-reverse at all).
        self.hessian_ = hessian_report(None, u, mode="gradient-differences", gradient=gradient)

    def _linearised(self, u, data, checked=True):
        """The residuals r(u) = (D(p₀ e^u) − y)/σ_y and their Jacobian ∂r/∂u = (∂D/∂p) p/σ_y
        over data (start, X, y, p₀, σ_y), from the ranges and their sensitivities in blocks:
        the programs that the predictions and the interval compile anyway (``checked``: see
        :meth:`_linear`)."""
        _, X, y, p0, scale = data
        values = np.asarray(from_log(p0, u))
        linear = self._linear(values, X, checked)
        return (linear[:, 0] - y) / scale, linear[:, 1:] * values / scale

    def _linear(self, values, X, checked=True):
        """[D, ∂D/∂p] (n, 1 + q) at parameter ``values``, in blocks: one compiled program per
        law and unknowns serves the predictions, the fit's linearisation and the intervals.
        ``checked``: ranges that are not all finite are a ValueError in one line (else returned
        as they are)."""
        start, values = self.start(), np.asarray(values)  # (NumPy: split without a compiled program)
        # The launches checked here, once: the compiled program checks nothing (see _range_jacobian).
        start.replace(self.unknowns(), values).launches(X[:, 0], X[:, 1])
        linear = in_blocks(lambda block: _range_jacobian(start, self.unknowns(), values, block), X)
        if not checked or np.isfinite(linear[:, 0]).all():
            return linear
        # The compiled program does not check its results: the eager solve says in one line what
        # went wrong (a bad launch, a range beyond float64, a failed solve).
        ranges = np.asarray(start.replace(self.unknowns(), values).range(X[:, 0], X[:, 1]))
        return np.column_stack([ranges, np.full((len(X), len(self.unknowns())), np.nan)])

    def _starts(self):
        """Log-parameter starts: the given guesses (u = 0), then seeded draws u ~ N(0, 1)."""
        q = len(self.unknowns())
        draws = np.random.default_rng(self.seed).normal(size=(self.restarts - 1, q))
        return [np.zeros(q)] + list(draws)

    def _predict(self, X):
        # Traced (a decoder inside a loss): the reverse-mode range, which a gradient goes through.
        if is_traced(X, self.values_):
            return self.fitted().range(X[:, 0], X[:, 1])
        return self._linear(self.values_, X)[:, 0]

    def _sensitivities(self, X):
        return self._linear(self.values_, X)[:, 1:]

    def _arrays_like(self):
        return {"values": jnp.zeros(len(self.unknowns()))}

    def summary(self):
        """Facts about the fitted model (see ``Estimator.summary``), with the fitted physics.

        Returns
        -------
        summary : dict
            ``physics`` ({name: {"value", "stderr"}}, SI units), ``formula`` (the fitted projectile in words)
            and ``diagnostics`` (``train_rmse`` in m, ``converged``, ``hessian``, ``restarts``), besides the
            common keys.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        out = super().summary()
        out["physics"] = self.physics_estimates()
        out["formula"] = f"range of {self.fitted().label()}"
        out["diagnostics"] = {"train_rmse": self.train_rmse_, "converged": self.converged_, "hessian": self.hessian_,
                              "restarts": self.restarts_}
        return out


def _moves_predictions(J_u) -> bool:
    """Whether every unknown still moves the predictions at the optimum: an e-fold change of
    it changes them by more than 1e-8 σ_y (RMS over shots), far above the solves' rounding.

    Levenberg–Marquardt stops where its steps stop changing the loss, and so declares
    convergence on a plateau where a parameter has no effect at all: from c = 1e100 every shot
    stops at once, whatever c is. There the fit has not found anything; this says so."""
    effect = np.sqrt(np.mean(np.asarray(J_u) ** 2, axis=0))
    return bool(np.all(effect > 1e-8))


@by_motion(keep=True)
def _range_jacobian(start, unknown, values, X):
    """[R, ∂R/∂p] (n, 1 + q): the ranges and their sensitivity to the fitted parameters, from
    one forward-mode solve (a fresh process compiles this one program, not a second one for
    the ranges alone: under an ODE law each is seconds of compiling; it is compiled as solves
    are there). Unchecked (NaN where a solve fails; :meth:`PhysicsFit._linear` checks the
    launches before and the results after): a program without host callbacks, which JAX's
    persistent cache keeps for the next process."""
    def ranges(v):
        predicted = start.replace(unknown, v).range_valid(X[:, 0], X[:, 1], mode="forward")
        return predicted, predicted

    jacobian, predicted = jax.jacfwd(ranges, has_aux=True)(values)
    return jnp.column_stack([predicted, jacobian])
