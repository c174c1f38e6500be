"""Recovering a horizontal wind w(t) from one tracked shot: a linear, ill-posed inverse
problem, regularised.

Under linear drag (F = −k(v − (w, 0)), β = k/m) the motion is affine in the wind and in the
launch velocity u = (u_x, u_y):

    x(t) = u_x (1 − e^{−βt})/β + ∫₀ᵗ (1 − e^{−β(t−s)}) w(s) ds,
    y(t) = h + u_y (1 − e^{−βt})/β − g (t − (1 − e^{−βt})/β)/β,

so with w linear between n samples on [0, t_N] the track d ∈ R^{2N} (x at the N times, then y)
is d = A w + C u + b + noise. A and C are the Jacobian of the physics (:meth:`Projectile.positions`,
reverse mode through the ODE solve), exact because the map is affine; b is the track of a
launch at rest in calm air. The smoothing kernel (1 − e^{−β(t−s)}) makes A's singular values
fall steeply: recovering w is differentiating the track twice, and least squares amplifies the
noise by their inverse.

The launch velocity is a nuisance, fitted without a regulariser: it is eliminated by projecting
onto the orthogonal complement of C's range (variable projection; P = I − QQᵀ with C = QR),

    ŵ = argmin ‖P(A w − d')‖² + λ R(w),   û = C⁺(d' − A ŵ),   d' = d − b,

with R(w) = ‖Bw‖² (Tikhonov, B the identity or the first difference), ‖∇w‖₁ (total variation:
recovers steps), or a quadratic ‖L(w − μ)‖² whose L and μ are learned from training problems
(:class:`LearnedRegulariser`). TV is solved exactly, by its dual. λ is chosen without the truth
along a path of weights, by one of :data:`RULES` (generalised cross-validation, plain or
modified; the discrepancy principle ‖P(A ŵ − d')‖² = (2N − q) σ², with σ the noise, given or
estimated from the vertical motion, which the wind does not touch; the L-curve's corner;
quasi-optimality; cross-validation on left-out times); each method's own,
:data:`DEFAULT_RULES`, was chosen on a benchmark of random gusts (``benchmarks/wind_lambda.py``).
Winds are in m/s, times in s, positions in m.
"""

from __future__ import annotations

from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.inverse.regularisation import (DEFAULT_RULES, METHODS, RULES, LearnedRegulariser, Path, least_squares,
                                              regularisation_path)
from hybridlab.physics import LinearDrag, Projectile, Wind, numerical
from hybridlab.physics.compiling import solve_jit

#: The most track points N and wind samples n of one problem: the forward map's Jacobian costs
#: 2N solves over n samples, and the learned regulariser n³ per training problem (at the
#: largest, about a minute and a half and 1 GB; the projector alone is (2N)² floats).
MAX_POINTS, MAX_SAMPLES = 1000, 101
#: β t_N, the track's span in relaxation times 1/β of the drag: below the least the wind moves
#: the track by under 1e-8 of its motion (lost in any measurement); above the most the drag is
#: too stiff for the explicit ODE solve of the forward map within its step limit.
_RELAXATIONS = (1e-8, 1e4)
#: Positions and noise (m) within which every square and inverse square of the fit stays finite.
_FARTHEST, _FINEST = 1e50, 1e-50


@solve_jit
def _track_jacobian(projectile: Projectile, t, samples, velocity):
    """(value, (∂/∂w, ∂/∂u)) of the track (2N,) — x then y at times t — as a function of the
    wind samples (over [0, t_N]) and the launch velocity (u_x, u_y) in m/s."""
    def track(w, u):
        # From the ground: the height only shifts y (the caller adds it), and a large one
        # would set the solve's scales.
        windy = Projectile(projectile.drag, mass=projectile.mass, g=projectile.g, wind=Wind(w, t[-1]))
        positions = numerical.positions(windy, jnp.hypot(u[0], u[1]), jnp.arctan2(u[1], u[0]), t, numerical.FORWARD)
        positions = positions.T.reshape(-1)
        return positions, positions
    # Forward mode through the solve's steps (Diffrax's ForwardMode): about as many inputs (n + 2)
    # as outputs (2N), and a forward program traces and compiles in half the time of the
    # checkpointed reverse one. The value comes with the Jacobian from the same solve.
    jacobian, value = jax.jacfwd(track, argnums=(0, 1), has_aux=True)(samples, velocity)
    return value, jacobian


def forward_map(projectile: Projectile, t, samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A (2N, n), C (2N, 2), b (2N,)) with track = A w + C u + b for a wind of ``samples``
    samples over [0, t_N] and a launch velocity u (m/s), at the N increasing times ``t`` (s).

    Parameters
    ----------
    projectile : Projectile
        Linear drag with k > 0 (kg/s), mass (kg), g (m/s²), launch height h (m); no wind.
    t : array_like
        Times in s, shape (N,), N ≥ 3, finite, ≥ 0 and increasing.
    samples : int
        Number n ≥ 2 of wind samples, evenly spaced over [0, t_N], the wind linear between them.

    Returns
    -------
    A : numpy.ndarray
        ∂track/∂w, shape (2N, n), in s (m per m/s): x at the N times, then y.
    C : numpy.ndarray
        ∂track/∂u, shape (2N, 2), in s.
    b : numpy.ndarray
        The track of a launch at rest in calm air, shape (2N,), in m.

    Raises
    ------
    ValueError
        If the drag is not linear with k > 0, the projectile has a wind, ``samples`` < 2, the times are not as
        above, k t_N/m is outside [1e-8, 1e4], or the ODE solve does not finish within its step limit.
    """
    if not isinstance(projectile.drag, LinearDrag) or not float(projectile.drag.k) > 0:
        raise ValueError(f"projectile: the wind problem needs linear drag with k > 0 (the track is then linear "
                         f"in the wind), got {projectile.label()}")
    if projectile.wind is not None:
        raise ValueError("projectile: give it without a wind: the wind is the unknown")
    if samples < 2:
        raise ValueError(f"samples = {samples}: need at least 2 wind samples")
    t = _times(t)
    _check_relaxations(projectile, t[-1])
    # Any reference point gives the same Jacobian (the map is affine); (1, 1) m/s keeps atan2
    # and hypot differentiable.
    reference = jnp.ones(2)
    try:
        value, (a, c) = _track_jacobian(projectile, jnp.asarray(t), jnp.zeros(samples), reference)
    except eqx.EquinoxRuntimeError:
        raise ValueError(f"{projectile.label()}: the ODE solve of the track's motion over {t[-1]:.3g} s did not "
                         "finish within its step limit (`g` and the drag's rate k/m far from a ball's)") from None
    a, c = np.asarray(a), np.asarray(c)
    b = np.asarray(value) - c @ np.asarray(reference)
    b[t.size:] += float(projectile.height)
    return a, c, b


def _check_relaxations(projectile: Projectile, duration: float) -> None:
    """ValueError, naming k and the mass, unless β t_N is within :data:`_RELAXATIONS`."""
    k, mass = float(projectile.drag.k), float(projectile.mass)
    spans = k / mass * duration
    low, high = _RELAXATIONS
    if not low <= spans <= high:
        why = (f"below {low:g} the wind moves the track too little to be recovered" if spans < low
               else f"above {high:g} the drag is too stiff for the ODE solve of the track's motion")
        raise ValueError(f"`k` {k:g} kg/s and `mass` {mass:g} kg: over the track's {duration:.3g} s the drag's "
                         f"rate k/m = {k / mass:.3g} /s makes k t/m = {spans:.3g}; {why}")


def check_sizes(samples: int, points: int | None = None, track: str = "the track") -> None:
    """ValueError, before any work, unless ``track`` has at most :data:`MAX_POINTS` ``points``
    and the wind's ``samples`` are in [2, min(points, :data:`MAX_SAMPLES`)]: no more wind values
    than the track has horizontal positions to resolve them."""
    if points is not None and points > MAX_POINTS:
        raise ValueError(f"{track}: {points} points; at most {MAX_POINTS} (keep every k-th row)")
    most = MAX_SAMPLES if points is None else min(points, MAX_SAMPLES)
    if isinstance(samples, bool) or int(samples) != samples or not 2 <= samples <= most:
        bound = "" if points is None or points > MAX_SAMPLES else f" (the track's {points} points)"
        raise ValueError(f"samples = {samples!r}: must be an integer between 2 and {most}{bound}")


def _times(t) -> np.ndarray:
    t = np.asarray(t, dtype=np.float64)
    if t.ndim != 1 or t.size < 3:
        raise ValueError(f"t must be a 1-D array of at least 3 times, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or t[0] < 0 or np.any(np.diff(t) <= 0):
        raise ValueError("t must be finite, >= 0 and increasing (s)")
    return t


def refine(samples: int, factor: int) -> np.ndarray:
    """(factor (n − 1) + 1, n): linear interpolation from an n-sample grid to one ``factor``
    times finer over the same span. A wind linear between the coarse samples is linear between
    the fine ones, so A_coarse = A_fine @ refine(n, factor) exactly."""
    coarse = np.linspace(0.0, 1.0, samples)
    fine = np.linspace(0.0, 1.0, factor * (samples - 1) + 1)
    return np.stack([np.interp(fine, coarse, column) for column in np.eye(samples)], axis=1)


@dataclass(frozen=True)
class WindProblem:
    """One track d (2N: x then y, m) at times t (N, s) with d = A w + C u + b + noise; C has
    no columns when the launch is known (its motion is then in b). ``sigma``: the noise (m),
    given or estimated from the vertical motion.

    Attributes
    ----------
    t : numpy.ndarray
        The track's times in s, shape (N,).
    data : numpy.ndarray
        The track d, shape (2N,), in m: x at the N times, then y.
    A : numpy.ndarray
        ∂d/∂w, shape (2N, n), in s (m per m/s of wind).
    C : numpy.ndarray
        ∂d/∂u, shape (2N, q), in s: q = 2 when the launch velocity u is fitted, 0 when it is given.
    b : numpy.ndarray
        The track of no wind and (q = 2) a launch at rest, shape (2N,), in m.
    sigma : float
        The noise σ in m.
    sigma_estimated : bool
        Whether σ was estimated from the vertical motion (else given).
    """

    t: np.ndarray
    data: np.ndarray
    A: np.ndarray
    C: np.ndarray
    b: np.ndarray
    sigma: float
    sigma_estimated: bool

    @property
    def grid(self) -> np.ndarray:
        """The wind's sample times (s).

        Returns
        -------
        grid : numpy.ndarray
            The n times, evenly spaced over [0, t_N], in s.
        """
        return np.linspace(0.0, self.t[-1], self.A.shape[1])

    def projected(self) -> tuple[np.ndarray, np.ndarray]:
        """(PA, P(d − b)): the problem with the launch velocity projected out.

        Returns
        -------
        pa : numpy.ndarray
            PA, shape (2N, n), in s.
        pd : numpy.ndarray
            P(d − b), shape (2N,), in m.
        """
        return self.project(self.A.T).T, self.project(self.data - self.b)

    def project(self, tracks: np.ndarray) -> np.ndarray:
        """P applied to each track (..., 2N): the part no launch velocity can explain.

        Parameters
        ----------
        tracks : numpy.ndarray
            Tracks (or columns of A, transposed), shape (..., 2N).

        Returns
        -------
        projected : numpy.ndarray
            Shape (..., 2N), in the unit of ``tracks``.
        """
        return tracks @ _projector(self.C).T

    @property
    def dof(self) -> int:
        """2N − q: the expected ‖P noise‖² is dof · σ².

        Returns
        -------
        dof : int
            The track's 2N values less the q fitted launch components.
        """
        return self.data.size - self.C.shape[1]

    def launch(self, wind: np.ndarray) -> np.ndarray:
        """û = C⁺(d − b − A w) (m/s): the launch velocity that best fits the track in this wind.

        Parameters
        ----------
        wind : numpy.ndarray
            The wind on the grid, shape (n,), in m/s.

        Returns
        -------
        velocity : numpy.ndarray
            (u_x, u_y) in m/s, shape (2,); shape (0,) when the launch is given.
        """
        if self.C.shape[1] == 0:
            return np.zeros(0)
        return np.linalg.lstsq(self.C, self.data - self.b - self.A @ wind, rcond=None)[0]

    def residual_rms(self, wind: np.ndarray) -> float:
        """RMS (m) of the track's residual, the launch refitted.

        Parameters
        ----------
        wind : numpy.ndarray
            The wind on the grid, shape (n,), in m/s.

        Returns
        -------
        rms : float
            √mean((d − b − A w − C û)²) in m.
        """
        residual = self.data - self.b - self.A @ wind - self.C @ self.launch(wind)
        return float(np.sqrt(np.mean(residual**2)))


def _projector(c: np.ndarray) -> np.ndarray:
    """I − UUᵀ: the projector onto the complement of C's column space, U its left singular
    vectors above NumPy's rank tolerance (σ_max·max(m, n)·ε, as ``matrix_rank``): a column the
    data do not depend on (the heights' rows of ∂track/∂u_x, zero up to rounding) removes no
    direction (a QR factor would remove an arbitrary one)."""
    if not c.shape[1]:
        return np.eye(c.shape[0])
    u, singular, _ = np.linalg.svd(c, full_matrices=False)
    kept = singular > singular.max(initial=0.0) * max(c.shape) * np.finfo(c.dtype).eps
    return np.eye(c.shape[0]) - u[:, kept] @ u[:, kept].T


def wind_problem(projectile: Projectile, t, track, samples: int = 41, launch: tuple[float, float] | None = None,
                 noise: float | None = None, maps: tuple | None = None) -> WindProblem:
    """The problem of one track (N, 2) (x, y in m) at times t (N,): launched from (0, h) with
    velocity ``launch`` = (speed m/s, angle rad) if known (else fitted), in a wind sampled at
    ``samples`` times over [0, t_N]. ``noise``: σ (m) if known; else estimated from the residual
    of the vertical motion (which the wind does not touch). ``maps``: (A, C, b) of
    :func:`forward_map`, to reuse for many tracks at the same times.

    Parameters
    ----------
    projectile : Projectile
        Linear drag with k > 0 (kg/s), mass (kg), g (m/s²), launch height h (m); no wind.
    t : array_like
        Times in s, shape (N,), N ≥ 3, finite, ≥ 0 and increasing.
    track : array_like
        Positions (x, y) in m, shape (N, 2), finite, within 1e50 m.
    samples : int
        Number n ≥ 2 of wind samples over [0, t_N] (unused when ``maps`` is given).
    launch : tuple of float, optional
        The known launch (speed m/s, angle rad); None: fitted.
    noise : float, optional
        The noise σ in m, in [1e-50, 1e50]; None: estimated from the heights.
    maps : tuple of numpy.ndarray, optional
        (A (2N, n) in s, C (2N, 2) in s, b (2N,) in m) of ``forward_map`` at these times.

    Returns
    -------
    problem : WindProblem
        The track as d = A w + C u + b + noise (C without columns when the launch is given), with σ.

    Raises
    ------
    ValueError
        If the drag is not linear with k > 0 or the projectile has a wind, ``samples`` < 2, the times or the
        track are not as above, k t_N/m is outside [1e-8, 1e4], the ODE solve fails, the launch speed is
        not finite, ≥ 0 and within 1e50 m over the track, ``noise`` is out of its range, or the track or the
        estimated noise is beyond the scales where the fit stays finite.
    """
    t, track = check_track(t, track, launch)
    check_noise(noise)
    a, c, b = maps if maps is not None else forward_map(projectile, t, samples)
    data = track.T.reshape(-1)
    if launch is not None:
        speed, angle = launch
        b, c = b + c @ np.array([speed * np.cos(angle), speed * np.sin(angle)]), c[:, :0]
    far = np.max(np.abs(data - b))
    if not far <= _FARTHEST:
        raise ValueError(f"the track departs by {far:.3g} m from the motion it is compared with (a launch from "
                         f"`height` under `g`): beyond {_FARTHEST:g} m the fit overflows float64")
    estimated = noise is None
    if estimated:
        noise = _vertical_noise(a, c, data - b)
        if not _FINEST <= noise <= _FARTHEST:
            raise ValueError(f"the noise estimated from the heights, {noise:.3g} m, is outside [{_FINEST:g}, "
                             f"{_FARTHEST:g}] m, where the fit stays finite: give it (`noise`)")
    return WindProblem(t, data, a, c, b, float(noise), estimated)


def check_track(t, track, launch: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(t, track) as float64 arrays, checked before any work: increasing times (N,) >= 0 (s),
    finite positions (N, 2) within :data:`_FARTHEST` m, and a launch (speed m/s, angle rad),
    if given, that travels no farther over the track (beyond, the fit's squares overflow)."""
    t = _times(t)
    track = np.asarray(track, dtype=np.float64)
    if track.shape != (t.size, 2) or not np.all(np.isfinite(track)):
        raise ValueError(f"track must be finite positions of shape ({t.size}, 2), got {track.shape}")
    far = np.max(np.abs(track))
    if not far <= _FARTHEST:
        raise ValueError(f"the track's positions reach {far:.3g} m: beyond {_FARTHEST:g} m the fit overflows float64")
    if launch is not None and not (np.isfinite(launch[0]) and 0 <= launch[0] * t[-1] <= _FARTHEST):
        raise ValueError(f"speed = {launch[0]!r}: must be >= 0 and travel at most {_FARTHEST:g} m over the track's "
                         f"{t[-1]:.3g} s")
    return t, track


def check_noise(noise: float | None) -> None:
    """ValueError unless the noise σ is None (to be estimated) or > 0 (m), within the range
    where σ² and 1/σ² stay finite in the fit."""
    if noise is not None and not (noise > 0 and _FINEST <= noise <= _FARTHEST):
        raise ValueError(f"noise = {noise}: must be > 0 (m), between {_FINEST:g} and {_FARTHEST:g}")


def _vertical_noise(a: np.ndarray, c: np.ndarray, data: np.ndarray) -> float:
    """σ̂ (m) from the rows the wind does not move (the heights): their residual after the
    launch is fitted, with the degrees of freedom it used subtracted."""
    rows = ~np.any(a != 0.0, axis=1)
    used = np.linalg.matrix_rank(c[rows]) if c.shape[1] else 0
    if rows.sum() <= used:
        raise ValueError("noise: cannot be estimated from this track; give it")
    residual = _projector(c[rows]) @ data[rows] if c.shape[1] else data[rows]
    return float(np.sqrt(np.sum(residual**2) / (rows.sum() - used)))

#: Folds of the cross-validation rule ("cv").
_FOLDS = 5


def cross_validation(problem: WindProblem, method: str, weights: np.ndarray,
                     learned: LearnedRegulariser | None = None) -> np.ndarray:
    """The summed squared error (m²) of the held-out positions at each of ``weights``, over
    :data:`_FOLDS` folds of the track's times (every fifth time a fold, x and y together): each
    fold's wind and launch refitted on the other times at λ × (folds − 1)/folds, the weight
    per point kept as the full problem's."""
    fold = np.tile(np.arange(problem.t.size) % _FOLDS, 2)
    scores = np.zeros(len(weights))
    for k in range(_FOLDS):
        kept, out = fold != k, fold == k
        part = WindProblem(problem.t[fold[:problem.t.size] != k], problem.data[kept], problem.A[kept],
                           problem.C[kept], problem.b[kept], problem.sigma, problem.sigma_estimated)
        path = regularisation_path(*part.projected(), method, weights * (_FOLDS - 1) / _FOLDS, learned, problem.sigma)
        for j, wind in enumerate(path.winds):
            fitted = problem.A[out] @ wind + problem.C[out] @ part.launch(wind) + problem.b[out]
            scores[j] += np.sum((problem.data[out] - fitted) ** 2)
    return scores


def choose_weight(problem: WindProblem, method: str, path: Path, rule: str,
                  learned: LearnedRegulariser | None = None) -> int:
    """The index on ``path`` of the λ that ``rule`` (see :data:`RULES`) chooses."""
    if rule == "cv":
        return int(np.argmin(cross_validation(problem, method, path.weights, learned)))
    return path.choose(rule, problem.dof, problem.sigma)


# --- recovery --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recovered:
    """One method's wind (m/s) on the problem's grid, its weight λ and the rule that chose it
    (None: least squares has neither), the track's residual RMS (m) and the fitted launch
    (speed m/s, angle rad; None when it was given).

    Attributes
    ----------
    wind : numpy.ndarray
        The recovered wind, shape (n,), in m/s, at the problem's ``grid`` times.
    weight : float or None
        The chosen λ (s² for Tikhonov, m·s for TV, m² for the learned one; see :func:`regularisation_path`);
        None for least squares.
    rule : str or None
        The rule that chose λ (one of :data:`RULES`); None for least squares.
    residual_rms : float
        RMS of the track's residual in m, the launch refitted.
    launch : tuple of float or None
        The fitted launch (speed m/s, angle rad); None when it was given.
    """

    wind: np.ndarray
    weight: float | None
    rule: str | None
    residual_rms: float
    launch: tuple[float, float] | None


def recover(problem: WindProblem, method: str, learned: LearnedRegulariser | None = None,
            rule: str | None = None, path: Path | None = None) -> Recovered:
    """The wind of one ``method`` (see :data:`METHODS`), its weight chosen by ``rule`` (see
    :data:`RULES`; default the method's own, :data:`DEFAULT_RULES`) on ``path`` (default:
    :func:`regularisation_path`'s); ``learned`` for the learned one.

    Parameters
    ----------
    problem : WindProblem
        The problem of one track (see ``wind_problem``).
    method : str
        ``"least-squares"``, ``"tikhonov"``, ``"tikhonov-identity"``, ``"tv"`` or ``"learned"``.
    learned : LearnedRegulariser, optional
        The learned regulariser, for ``method="learned"`` (n wind samples).
    rule : str, optional
        ``"gcv"``, ``"modified-gcv"``, ``"discrepancy"``, ``"lcurve"``, ``"quasi"`` or ``"cv"``; None: the
        method's default (``DEFAULT_RULES``). Not used by least squares.
    path : Path, optional
        A path of solutions of this method on this problem, to choose from; None: computed.

    Returns
    -------
    recovered : Recovered
        The wind (n,) in m/s on the problem's grid, the weight λ and rule (None for least squares), the
        track's residual RMS in m and the fitted launch (speed m/s, angle rad; None when it was given).

    Raises
    ------
    ValueError
        If ``method`` or ``rule`` is unknown, ``learned`` is missing or of another number of samples, the
        TV solve does not converge, or the recovered wind is not finite.
    """
    if method not in METHODS:
        raise ValueError(f"method = {method!r}: must be one of {', '.join(METHODS)}")
    if rule is not None and rule not in RULES:
        raise ValueError(f"rule = {rule!r}: must be one of {', '.join(RULES)}")
    pa, pd = problem.projected()
    if method == "least-squares":
        wind, weight, rule = least_squares(pa, pd), None, None
    else:
        if method == "learned":
            _check_learned(learned, pa.shape[1])
        rule = rule or DEFAULT_RULES[method]
        path = path if path is not None else regularisation_path(pa, pd, method, learned=learned, sigma=problem.sigma)
        chosen = choose_weight(problem, method, path, rule, learned)
        wind, weight = path.winds[chosen], float(path.weights[chosen])
    if not np.all(np.isfinite(wind)):
        raise ValueError(f"method {method}: the recovered wind is not finite (the problem's scales overflow float64)")
    return Recovered(wind, weight, rule, problem.residual_rms(wind), _launch(problem.launch(wind)))


def _check_learned(learned: LearnedRegulariser | None, samples: int) -> None:
    if learned is None:
        raise ValueError("method 'learned': needs a LearnedRegulariser, fitted (LearnedRegulariser().fit)")
    learned._check_fitted()
    if learned.n_features_ != samples:
        raise ValueError(f"learned: its operator is for {learned.n_features_} wind samples, "
                         f"the problem has {samples}")


def _launch(velocity: np.ndarray) -> tuple[float, float] | None:
    if velocity.size == 0:
        return None
    return float(np.hypot(*velocity)), float(np.arctan2(velocity[1], velocity[0]))


def relative_error(recovered: np.ndarray, truth: np.ndarray) -> float:
    """‖ŵ − w‖ / ‖w‖ on the grid."""
    return float(np.linalg.norm(recovered - truth) / np.linalg.norm(truth))


# --- families of gusts -----------------------------------------------------------------------

def smooth_gusts(count: int, times: np.ndarray, key: jax.Array) -> np.ndarray:
    """(count, len(times)) winds (m/s): a steady wind ~ U(−3, 3) plus two Gaussian gusts of
    amplitude ~ U(−5, 5), centre ~ U over the span, width ~ U(0.1, 0.3) × span."""
    span = times[-1] - times[0]
    k = jax.random.split(key, 4)
    steady = jax.random.uniform(k[0], (count, 1), minval=-3.0, maxval=3.0)
    amplitude = jax.random.uniform(k[1], (count, 2, 1), minval=-5.0, maxval=5.0)
    centre = times[0] + span * jax.random.uniform(k[2], (count, 2, 1))
    width = span * jax.random.uniform(k[3], (count, 2, 1), minval=0.1, maxval=0.3)
    bumps = amplitude * jnp.exp(-(((times - centre) / width) ** 2))
    return np.asarray(steady + bumps.sum(axis=1))


def step_gusts(count: int, times: np.ndarray, key: jax.Array) -> np.ndarray:
    """(count, len(times)) winds (m/s): ~ U(−3, 3), jumping by ~ U(−6, 6) at a time ~ U over
    the middle 60 % of the span."""
    span = times[-1] - times[0]
    k = jax.random.split(key, 3)
    before = jax.random.uniform(k[0], (count, 1), minval=-3.0, maxval=3.0)
    jump = jax.random.uniform(k[1], (count, 1), minval=-6.0, maxval=6.0)
    at = times[0] + span * jax.random.uniform(k[2], (count, 1), minval=0.2, maxval=0.8)
    return np.asarray(before + jump * (times >= at))
