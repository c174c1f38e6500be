"""A linear ill-posed problem regularised: the projected system PA w ≈ Pd (the unknown
launch already projected out, :mod:`hybridlab.inverse.wind`) solved by least squares, Tikhonov
(‖Bw‖², B the identity or the first difference), total variation (‖∇w‖₁, exactly, by its dual)
or a learned quadratic ‖L(w − μ)‖²; each regularised one along a path of weights λ, and the
rules that choose λ from the path without the truth (:data:`RULES`; cross-validation, which
needs the problem's rows, is :func:`hybridlab.inverse.wind.choose_weight`'s). No physics here.
"""

from __future__ import annotations

from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
import scipy.optimize

from hybridlab.estimators.base import Estimator
from hybridlab.estimators.params import EPOCHS, RATE, SEED
from hybridlab.networks import training
from hybridlab.networks.progress import QUIET

#: "tikhonov": B the first difference (a wind is smooth rather than small); "tikhonov-identity": B = I.
METHODS = ("least-squares", "tikhonov", "tikhonov-identity", "tv", "learned")
#: The methods with a weight λ, and so a path of solutions and an L-curve.
REGULARISED = METHODS[1:]


def least_squares(pa: np.ndarray, pd: np.ndarray) -> np.ndarray:
    """The minimum-norm least-squares wind (LAPACK's SVD solver): no regulariser."""
    return np.linalg.lstsq(pa, pd, rcond=None)[0]


def tikhonov(pa: np.ndarray, pd: np.ndarray, operator: np.ndarray, weight: float,
             mean: np.ndarray | None = None) -> np.ndarray:
    """argmin ‖PA w − Pd‖² + λ‖B(w − μ)‖², as the least-squares problem [PA; √λ B] w ≈
    [Pd; √λ B μ] (μ = 0 unless given)."""
    prior = np.zeros(operator.shape[0]) if mean is None else operator @ mean
    stacked = np.vstack([pa, np.sqrt(weight) * operator])
    return np.linalg.lstsq(stacked, np.r_[pd, np.sqrt(weight) * prior], rcond=None)[0]


def total_variation(pa: np.ndarray, pd: np.ndarray, weight: float) -> tuple[np.ndarray, int]:
    """(argmin ½‖PA w − Pd‖² + λ‖∇w‖₁, the number of jumps), exactly, by the dual of this
    generalised lasso (Tibshirani and Taylor 2011): with PA = QR,

        û = argmin_{|u_i| ≤ λ} ½‖QᵀPd − R⁻ᵀ∇ᵀu‖²,   ŵ = R⁻¹(QᵀPd − R⁻ᵀ∇ᵀû),

    a box-constrained least-squares problem that SciPy's bounded-variable least squares (an
    active-set method) solves exactly; w jumps only where û_i = ±λ. A ridge of 1e-12‖PA‖²
    keeps R invertible where PA is rank deficient (it moves w by that relative amount)."""
    n = pa.shape[1]
    ridge = 1e-6 * np.linalg.norm(pa, 2)
    q, r = np.linalg.qr(np.vstack([pa, ridge * np.eye(n)]))
    target = q[: pa.shape[0]].T @ pd
    gradient = difference(n)
    dual = scipy.linalg.solve_triangular(r, gradient.T, trans="T")
    found = scipy.optimize.lsq_linear(dual, target, bounds=(-weight, weight), method="bvls", tol=1e-12,
                                      max_iter=50 * n)
    if found.status < 1:
        raise ValueError(f"tv: the dual's active-set solve did not converge in {50 * n} steps at λ = {weight:.3g}")
    wind = scipy.linalg.solve_triangular(r, target - dual @ found.x)
    return wind, int(np.count_nonzero(found.active_mask))


def difference(n: int) -> np.ndarray:
    """(n − 1, n): the first difference, (Bw)_j = w_{j+1} − w_j."""
    return np.diff(np.eye(n), axis=0)


@dataclass(frozen=True)
class Path:
    """A regularised method's solutions along decreasing weights λ: the winds (K, n), the
    residual ‖PA w − Pd‖ (m), the penalty R(w) (‖Bw‖, ‖∇w‖₁ or ‖L(w − μ)‖) and the degrees of
    freedom the fit used (the linear ones: trace of the hat matrix; TV: the number of constant
    pieces, as for the fused lasso) — the L-curve and everything a rule needs."""

    weights: np.ndarray
    winds: np.ndarray
    residuals: np.ndarray
    penalties: np.ndarray
    dof_used: np.ndarray

    def choose(self, rule: str, dof: int, sigma: float) -> int:
        """The index of λ by ``rule`` (see :data:`RULES`; "cv" needs the problem:
        :func:`choose_weight`)."""
        if rule in ("gcv", "modified-gcv"):
            used = self.dof_used * (_MODIFIED if rule == "modified-gcv" else 1.0)
            return int(np.argmin(self.residuals**2 / np.maximum(dof - used, 1.0) ** 2))
        if rule == "discrepancy":
            within = np.flatnonzero(self.residuals**2 <= dof * sigma**2)
            return int(within[0]) if within.size else len(self.weights) - 1
        if rule == "lcurve":
            return _corner(self.weights, self.residuals, self.penalties)
        if rule == "quasi":
            return int(np.argmin(np.linalg.norm(np.diff(self.winds, axis=0), axis=1)))
        raise ValueError(f"rule = {rule!r}: must be one of {', '.join(r for r in RULES if r != 'cv')} "
                         "(cv needs the problem)")


#: How λ is chosen, never from the truth:
#:
#: - "gcv": generalised cross-validation, the least ‖r‖² / (dof − df)² (needs no σ);
#: - "modified-gcv": the same with each degree of freedom counted twice, against GCV's
#:   undersmoothing (Cummins, Filloon and Nychka's robust GCV counts it 1.4 times; the factor 2
#:   had the most cases within 1.5× of the best λ, over the four methods, among 1–4 on the λ
#:   benchmark's tuning draw);
#: - "discrepancy": Morozov's principle, the largest λ with ‖r‖² ≤ dof σ² (the least-regularised
#:   one if none is);
#: - "lcurve": the corner of (log ‖r‖, log R(w)), its greatest curvature in log λ (Hansen);
#: - "quasi": quasi-optimality, the least change ‖w(λ_{j+1}) − w(λ_j)‖ between neighbours;
#: - "cv": 5-fold cross-validation on left-out track times (every fifth time a fold): each fold
#:   refitted, wind and launch, at λ scaled by the share of points kept; the least squared
#:   error of the held-out positions.
RULES = ("gcv", "modified-gcv", "discrepancy", "lcurve", "quasi", "cv")
RULE_TITLES = {"gcv": "generalised cross-validation",
               "modified-gcv": "generalised cross-validation with each degree of freedom counted twice",
               "discrepancy": "the discrepancy principle", "lcurve": "the L-curve's corner",
               "quasi": "quasi-optimality", "cv": "5-fold cross-validation on left-out times"}
#: Each method's rule unless one is given: on the λ benchmark's tuning draw (a draw of its own;
#: ``benchmarks/wind_lambda.py``, RESULTS.md "λ that holds") the rule with the most cases within
#: 1.5× of the error at the best λ in hindsight.
DEFAULT_RULES = {"tikhonov": "modified-gcv", "tikhonov-identity": "modified-gcv", "tv": "modified-gcv",
                 "learned": "modified-gcv"}
_MODIFIED = 2.0


def _corner(weights: np.ndarray, residuals: np.ndarray, penalties: np.ndarray) -> int:
    """The index of the L-curve's corner: the greatest curvature of (ρ, η) = (log ‖r‖, log R)
    as functions of s = log λ, κ = (ρ′η″ − ρ″η′) / (ρ′² + η′²)^{3/2}, by finite differences,
    among the points where the curve moves (speed ≥ 1 % of its greatest: at the flat ends, where
    neither the residual nor the penalty changes, rounding makes any curvature). A penalty of
    zero (TV's constant wind) is floored at 1e-12 of the largest."""
    s = np.log(weights)
    rho = np.log(np.maximum(residuals, 1e-300))
    eta = np.log(np.maximum(penalties, 1e-12 * max(float(np.max(penalties)), 1e-300)))
    d_rho, d_eta = np.gradient(rho, s), np.gradient(eta, s)
    dd_rho, dd_eta = np.gradient(d_rho, s), np.gradient(d_eta, s)
    speed = np.hypot(d_rho, d_eta)
    if not speed.max() > 0:  # a single point: nothing moves
        return 0
    moving = speed >= 0.01 * speed.max()
    curvature = np.full(speed.shape, -np.inf)
    curvature[moving] = (d_rho * dd_eta - dd_rho * d_eta)[moving] / speed[moving] ** 3
    return int(np.argmax(curvature))


#: λ / ‖PA‖² over 10^0 … 10^-9 (TV: … 10^-6, below which it is least squares in all but
#: name), four per decade, largest first; the learned regulariser's λ / σ² over 10^3 … 10^-3
#: (1: the strength it was trained at).
_WEIGHTS = 10.0 ** np.arange(0.0, -9.01, -0.25)
_TV_WEIGHTS = _WEIGHTS[_WEIGHTS >= 1e-6]
_LEARNED_WEIGHTS = 10.0 ** np.arange(3.0, -3.01, -0.25)


def weights_of(pa: np.ndarray, method: str, sigma: float | None = None) -> np.ndarray:
    """The grid of λ (largest first) a method's path is solved on: scaled by ‖PA‖² (by σ² for
    the learned regulariser, whose trained strength is λ = σ²)."""
    if method == "learned":
        return sigma**2 * _LEARNED_WEIGHTS
    return np.linalg.norm(pa, 2) ** 2 * (_TV_WEIGHTS if method == "tv" else _WEIGHTS)


def regularisation_path(pa: np.ndarray, pd: np.ndarray, method: str, weights: np.ndarray | None = None,
                        learned: LearnedRegulariser | None = None, sigma: float | None = None) -> Path:
    """The solutions of "tikhonov" (B = ∇), "tikhonov-identity" (B = I), "tv" or "learned"
    (argmin ‖PA w − Pd‖² + λ‖L(w − μ)‖², given ``learned`` and the noise ``sigma``) along
    ``weights`` (default :func:`weights_of`).

    Parameters
    ----------
    pa : numpy.ndarray
        The projected forward map PA, shape (2N, n), in m per m/s (s).
    pd : numpy.ndarray
        The projected track P(d − b), shape (2N,), in m.
    method : str
        ``"tikhonov"``, ``"tikhonov-identity"``, ``"tv"`` or ``"learned"``.
    weights : array_like, optional
        The K weights λ, largest first (s² for Tikhonov, m·s for TV, m² for the learned one); None:
        ``weights_of``.
    learned : LearnedRegulariser, optional
        L (n, n, in s/m) and μ (n,) in m/s, for ``method="learned"``.
    sigma : float, optional
        The noise σ in m, for ``method="learned"``.

    Returns
    -------
    path : Path
        ``weights`` (K,), ``winds`` (K, n) in m/s, ``residuals`` (K,) in m, ``penalties`` (K,) and
        ``dof_used`` (K,).

    Raises
    ------
    ValueError
        If ``method`` has no weight, ``"learned"`` lacks ``learned`` or ``sigma``, or TV's dual solve does not
        converge.
    """
    n = pa.shape[1]
    if method not in REGULARISED:
        raise ValueError(f"method = {method!r}: a path is for {', '.join(REGULARISED)}")
    if method == "learned" and (learned is None or sigma is None):
        raise ValueError("method 'learned': its path needs the LearnedRegulariser and the noise sigma")
    weights = weights_of(pa, method, sigma) if weights is None else np.asarray(weights, dtype=np.float64)
    if method == "tv":
        solved = [total_variation(pa, pd, weight) for weight in weights]
        winds = np.array([wind for wind, _ in solved])
        # The degrees of freedom of the generalised lasso: the pieces, one more than the jumps.
        used = 1.0 + np.array([jumps for _, jumps in solved], dtype=np.float64)
        return Path(weights, winds, np.linalg.norm(winds @ pa.T - pd, axis=1), np.abs(np.diff(winds, axis=1)).sum(axis=1),
                    used)
    if method == "learned":
        learned._check_fitted()
        operator, mean = np.asarray(learned.operator_), np.asarray(learned.mean_)
    else:
        operator, mean = (np.eye(n) if method == "tikhonov-identity" else difference(n)), np.zeros(n)
    winds = np.array([tikhonov(pa, pd, operator, weight, mean) for weight in weights])
    used = np.array([np.trace(pa @ np.linalg.solve(pa.T @ pa + weight * operator.T @ operator, pa.T))
                     for weight in weights])
    penalties = np.linalg.norm((winds - mean) @ operator.T, axis=1)
    return Path(weights, winds, np.linalg.norm(winds @ pa.T - pd, axis=1), penalties, used)


# --- the learned regulariser -----------------------------------------------------------------

class _Prior(eqx.Module):
    """L (n, n, s/m) and μ (n, m/s) of :class:`LearnedRegulariser` as a PyTree: what its
    training differentiates."""

    operator: jax.Array
    mean: jax.Array

    def estimate(self, pa, pd, sigma) -> jax.Array:
        """ŵ = (AᵀPA/σ² + LᵀL)⁻¹ (AᵀPd/σ² + LᵀL μ) of one projected problem (m/s)."""
        precision = self.operator.T @ self.operator
        normal = pa.T @ pa / sigma**2 + precision
        return jnp.linalg.solve(normal, pa.T @ pd / sigma**2 + precision @ self.mean)


class LearnedRegulariser(Estimator, rung=False):
    """R(w) = ‖L(w − μ)‖², learned: ŵ = argmin ‖PA w − Pd‖²/σ² + ‖L(w − μ)‖², i.e.

        ŵ = (AᵀPA/σ² + LᵀL)⁻¹ (AᵀPd/σ² + LᵀL μ),

    a Gaussian prior with precision LᵀL and mean μ (m/s) — with the noise's σ outside it, so it
    carries to other noise levels. L (n, n) and μ are fitted by bilevel optimisation on training
    problems (:meth:`fit`): the outer loss is the mean squared error of ŵ against their true
    winds; the inner problem is this linear solve, differentiated exactly. The start is the best
    Tikhonov first difference over a grid of λ (the bilevel problem in one dimension), then Adam
    on L and μ over all problems at once. Saved and loaded as every estimator is: train once, use
    it on new tracks of the same forward map's size.

    Parameters
    ----------
    steps : int
        Adam steps, ≥ 1.
    learning_rate : float
        Adam's step size, on L relative to its starting size, > 0.
    seed : int
        Seed of the tiny perturbation of L's start that breaks its symmetry.

    Attributes
    ----------
    operator_ : jax.Array
        L, shape (n, n), in s/m (so that ‖L(w − μ)‖² is dimensionless).
    mean_ : jax.Array
        μ, the prior mean wind, shape (n,), in m/s.
    n_features_ : int
        n, the wind samples.
    """

    name = "learned-regulariser"
    fitted_arrays = ("operator", "mean")
    constraints = {"steps": EPOCHS, "learning_rate": RATE, "seed": SEED}

    def __init__(self, *, steps: int = 1500, learning_rate: float = 1e-2, seed: int = 0):
        self.steps, self.learning_rate, self.seed = steps, learning_rate, seed
        self.check_params()

    def fit(self, pa, sigma: float, winds, data, progress=QUIET) -> LearnedRegulariser:
        """Fit L and μ on training problems that share one projected forward map.

        Parameters
        ----------
        pa : array_like
            The projected forward map PA, shape (2N, n), in s (m per m/s).
        sigma : float
            The noise σ of the training tracks in m, > 0.
        winds : array_like
            The true winds, shape (K, n), in m/s.
        data : array_like
            Their projected tracks Pd, noise included, shape (K, 2N), in m.
        progress : ProgressMeter
            Unused (one compiled loop); accepted as every fit accepts it.

        Returns
        -------
        self : LearnedRegulariser
            Fitted: ``operator_`` and ``mean_`` set.

        Raises
        ------
        ValueError
            If a hyperparameter breaks its constraint, or the arrays are not finite or of those shapes, or
            σ is not > 0.
        """
        return self._fit_checked(lambda: _training_problems(pa, sigma, winds, data), progress)

    def _fit(self, pa, sigma, winds, data, progress) -> None:
        n = pa.shape[1]
        start = np.vstack([difference(n), np.eye(n)[-1:] * 1e-3])
        problems = tuple(jax.device_put(a) for a in (pa, np.float64(sigma), winds, data))
        # The start's scale: the best Tikhonov first difference on a grid of λ, one compiled loss.
        scales = 10.0 ** np.arange(-4.0, 4.01, 0.25) / sigma
        unit = problems + (jax.device_put(np.float64(1.0)),)
        tried = [float(training.evaluate(_loss, _Prior(jax.device_put(scale * start), jax.device_put(np.zeros(n))),
                                         unit)) for scale in scales]
        best = scales[int(np.argmin(tried))]
        noise = 1e-3 * best * np.asarray(jax.random.normal(jax.random.key(self.seed), (n, n)))
        # Adam on L relative to its starting size (each step scaled to it), μ as it is.
        operator = best * start + noise
        size = np.max(np.abs(operator))
        relative = _Prior(jax.device_put(operator / size), jax.device_put(np.mean(winds, axis=0)))
        adam = training.optimiser("adam", self.learning_rate, "constant", self.steps)
        prior, _ = training.first_order(relative, _loss, problems + (jax.device_put(size),), None, adam,
                                        self.steps, None)
        self.operator_, self.mean_ = jax.device_put(np.asarray(prior.operator) * size), prior.mean

    def _check_fit(self, *data) -> None:
        if not (np.all(np.isfinite(self.operator_)) and np.all(np.isfinite(self.mean_))):
            raise ValueError("the learned regulariser's training diverged; try a smaller learning_rate")

    def _arrays_like(self):
        n = self.n_features_
        return {"operator": jnp.zeros((n, n)), "mean": jnp.zeros(n)}

    def estimate(self, pa, pd, sigma) -> jax.Array:
        """ŵ = (AᵀPA/σ² + LᵀL)⁻¹ (AᵀPd/σ² + LᵀL μ): the wind (m/s) of one projected problem.

        Parameters
        ----------
        pa : array_like
            The projected forward map PA, shape (2N, n), in s (m per m/s).
        pd : array_like
            The projected track P(d − b), shape (2N,), in m.
        sigma : float
            The noise σ in m, > 0.

        Returns
        -------
        wind : jax.Array
            ŵ, shape (n,), in m/s.
        """
        self._check_fitted()
        return _Prior(self.operator_, self.mean_).estimate(pa, pd, sigma)

    def predict(self, pa, data, sigma: float) -> np.ndarray:
        """The winds (K, n) in m/s of projected tracks ``data`` (K, 2N) in m (or one, (2N,) →
        (n,)) through the forward map ``pa`` (2N, n) with noise ``sigma`` m: :meth:`estimate`
        of each. ValueError for arrays of other shapes or not finite, or σ not > 0."""
        self._check_fitted()
        single, data = np.ndim(data) == 1, np.atleast_2d(data)
        if not len(data):
            raise ValueError("data: no track to recover a wind from")
        if np.ndim(pa) != 2 or np.shape(pa)[1] != self.n_features_:
            raise ValueError(f"pa: must have this regulariser's {self.n_features_} wind samples as its columns, "
                             f"got shape {np.shape(pa)}")
        pa, sigma, _, data = _training_problems(pa, sigma, np.zeros((len(data), self.n_features_)), data)[0]
        prior = _Prior(self.operator_, self.mean_)
        winds = np.asarray(jax.vmap(prior.estimate, in_axes=(None, 0, None))(pa, data, sigma))
        return winds[0] if single else winds


def _training_problems(pa, sigma, winds, data) -> tuple[tuple, int, dict, dict]:
    """The checked (pa, σ, winds, data) of :meth:`LearnedRegulariser.fit`, with n."""
    pa, winds, data = (np.asarray(a, dtype=np.float64) for a in (pa, winds, data))
    if pa.ndim != 2 or not np.all(np.isfinite(pa)):
        raise ValueError(f"pa: must be a finite (2N, n) array, got shape {pa.shape}")
    number = isinstance(sigma, int | float | np.integer | np.floating) and not isinstance(sigma, bool | np.bool_)
    if not (number and np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma = {sigma!r}: must be a number > 0 (m)")
    if winds.ndim != 2 or not len(winds) or winds.shape[1] != pa.shape[1] or not np.all(np.isfinite(winds)):
        raise ValueError(f"winds: must be a finite (K, {pa.shape[1]}) array, got shape {winds.shape}")
    if data.shape != (winds.shape[0], pa.shape[0]) or not np.all(np.isfinite(data)):
        raise ValueError(f"data: must be a finite ({winds.shape[0]}, {pa.shape[0]}) array, got shape {data.shape}")
    return (pa, float(sigma), winds, data), pa.shape[1], {}, {}


def _loss(prior, problems):
    """The training's loss: the mean squared error of ŵ over the problems relative to the
    winds' mean square, with L in units of ``scale`` (``problems`` = (PA, σ, winds, Pd, scale))."""
    pa, sigma, winds, data, scale = problems
    prior = _Prior(prior.operator * scale, prior.mean)
    estimates = jax.vmap(lambda d: prior.estimate(pa, d, sigma))(data)
    return jnp.mean((estimates - winds) ** 2) / jnp.mean(winds**2)
