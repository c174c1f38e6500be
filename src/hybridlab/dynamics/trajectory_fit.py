"""The classical grey box on trajectories: a known drag law with unknown parameters."""

from __future__ import annotations

import functools

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from hybridlab.data import Tracks
from hybridlab.dynamics import motion
from hybridlab.dynamics.base import Dynamics
from hybridlab.estimators.grey import FittedPhysics, from_log
from hybridlab.estimators.params import PHYSICS, UNKNOWN, TOLERANCE, Boolean, Integer, OneOf, Real
from hybridlab.networks import training
from hybridlab.physics import QuadraticDrag, newton
from hybridlab.physics.compiling import solve_jit
from hybridlab.uncertainty import intervals
from hybridlab.uncertainty.diagnostics import standard_errors

LOSSES = ("linear", "soft_l1")


class TrajectoryFit(FittedPhysics, Dynamics):
    """ds/dt = (v, F(v)/m − g ŷ) with F a known drag law of ``physics`` (a Projectile or its
    spec) whose parameters named in ``unknown`` (drag coefficients, ``g``, ``mass``) are fitted,
    with every track's starting state s(t₀), by Levenberg–Marquardt through the ODE solve (its
    Jacobian in forward mode). Unknowns are fitted as u = log(p/p₀) (p stays > 0);
    ``fit_start=False`` keeps the starting states at their data estimate
    (:func:`motion.starting_states`).

    Residuals are the position errors r (m) at every observed point. ``loss="soft_l1"`` (robust
    to outliers) minimises Σ ρ(r) with ρ(r) = 2 f²(√(1 + (r/f)²) − 1), f = ``f_scale`` m: as
    SciPy's ``least_squares``, LM runs on r̃ = √ρ(r) (sign of r). Standard errors:
    Cov = s² (JᵀJ)⁻¹ of the residuals at the optimum (s² = Σr̃²/(n − q)), q counting the
    starting states too. The predictive interval (see :class:`Dynamics`) is the delta method
    in the unknowns and the starting states, J = ∂r/∂(p, s₀) and σ̂ of the plain residuals r
    (for either loss).

    Parameters
    ----------
    physics : Projectile or dict or None
        The drag law and known parameters, and the unknowns' starting guesses (each > 0); None: quadratic drag
        with the defaults.
    unknown : sequence of str or None
        Names of the fitted parameters (drag coefficients, ``g``, ``mass``; not ``height``), distinct; empty:
        the starting states alone; None (the default): every coefficient of the drag law (quadratic drag's c).
    fit_start : bool
        Whether every track's starting state is fitted.
    loss : str
        ``"linear"`` (least squares) or ``"soft_l1"`` (robust).
    f_scale : float
        The soft-L1 scale f in m, finite and > 0.
    steps : int
        Levenberg–Marquardt steps, ≥ 1.
    rtol : float
        Relative tolerance of the solves, in (0, 1).

    Attributes
    ----------
    values_ : jax.Array
        Fitted values, shape (q,), in the order of ``unknown``, SI units (kg/s, kg/m, kg, m/s²).
    stderr_ : list of float
        Their standard errors, in the same units.
    starts_ : jax.Array
        Fitted starting state of each track at its first time, shape (m, 2·dim): positions (m), velocities (m/s).
    tracks_ : list of str
        The fitted tracks' names, in order.
    t0_ : list of float
        Each track's first observation time in s.
    start_stderr_ : list or None
        Standard errors of the starting states, (m, 2·dim) (m, m/s); None when they are not fitted.
    train_rmse_ : float
        Root-mean-square position residual in m.
    converged_ : bool
        Whether Levenberg–Marquardt met its convergence test.

    Raises
    ------
    ValueError
        If a hyperparameter breaks its constraint, ``physics`` is not a valid projectile, or ``unknown`` names
        a parameter twice, ``height``, one that does not apply, or one whose starting value is not > 0.
    """

    name = "trajectory-fit"
    interval_method = "delta method in the fitted parameters and starting states"
    fitted_arrays = ("values", "starts")
    fitted_facts = ("tracks", "t0", "stderr", "start_stderr", "train_rmse", "converged")

    # No unknown at all fits the starting states alone; the launch height is a starting state here.
    default_law, needs_unknown, never_unknown = QuadraticDrag.name, False, ("height",)
    constraints = {"physics": PHYSICS, "unknown": UNKNOWN, "fit_start": Boolean(), "loss": OneOf(LOSSES),
                   "f_scale": Real(0.0, open=True), "steps": Integer(1), "rtol": TOLERANCE}

    def __init__(self, physics=None, *, unknown=None, fit_start=True, loss="linear", f_scale=1.0, steps=200,
                 rtol=1e-8):
        self.physics, self.unknown, self.fit_start, self.loss = physics, unknown, fit_start, loss
        self.f_scale, self.steps, self.rtol = f_scale, steps, rtol
        self.check_params()

    def field(self):
        """The fitted vector field ds/dt = (v, F(v)/m − g ŷ) at the fitted parameter values.

        Returns
        -------
        field : newton.Newton
            Maps a state (2·dim,), positions (m) then velocities (m/s), to ds/dt.
        """
        p = self.fitted()
        return newton.Newton(newton.LawDrag(p), p.g)

    def parametrised(self):
        """(θ, F): the fitted values (q,) in SI units and the field as a function of them.

        Returns
        -------
        theta : jax.Array
            ``values_``, shape (q,).
        parametrised : LawField
            θ ↦ the vector field with the unknowns set to θ.
        """
        return jnp.asarray(self.values_), LawField(self.start(), self.unknowns())

    @property
    def fits_start(self) -> bool:
        """Whether the starting states are fitted (``fit_start``): their sensitivities enter the interval.

        Returns
        -------
        fitted : bool
            ``fit_start``.
        """
        return self.fit_start

    def _fit(self, tracks: Tracks, progress):
        del progress  # seconds
        start = self.start()
        # Every parameter the law could leave unknown is in the program, the known ones frozen
        # by `active`: fits of one law with any choice of unknowns share one compiled program.
        names = tuple(name for name in start.units() if name != "height")
        active = np.array([name in self.unknowns() for name in names], dtype=float)
        # The program's inputs made in NumPy: each eager JAX operation would compile a program.
        p0 = np.array([float(start.value(name)) for name in names])
        guess = np.asarray(motion.starting_states(tracks), dtype=np.float64)
        ts, position, mask = motion.padded(tracks)
        data = (start, p0, active, guess, ts, position, mask, np.asarray(self.f_scale, dtype=np.float64))
        residuals = _residuals(names, self.fit_start, self.loss, self.rtol)

        def unravel(x):  # the flat parameters as (u, the starting states' shift), in NumPy
            return x[:len(names)], x[len(names):].reshape(guess.shape if self.fit_start else (0,))

        # Levenberg–Marquardt on the residuals and Jacobian of the program the standard errors
        # need anyway (no second program with the solves inside).
        flat = np.zeros(len(names) + (guess.size if self.fit_start else 0))
        found, converged = training.minpack(lambda x: _jacobian(residuals, unravel(x), data), flat, self.steps)
        u, shift = unravel(np.asarray(found))
        order = [names.index(name) for name in self.unknowns()]
        self.values_ = from_log(p0[order], u[order])
        self.starts_ = jax.device_put(guess + shift if self.fit_start else guess)
        self.converged_ = bool(converged)
        r, J = _jacobian(residuals, (u, shift), data)
        r, J = np.asarray(r), np.asarray(J)
        observed = np.repeat(np.asarray(mask).reshape(-1), tracks.dim)  # r is (track, point, axis) flattened
        # The unknowns' columns (in the order of `unknown`), then the starting states'.
        r, J = r[observed], J[observed][:, order + list(range(len(names), J.shape[1]))]
        # ∂r/∂p = (∂r/∂u)/p for p = p₀ e^u; the starting states are fitted in SI units already.
        q = len(self.unknowns())
        J[:, :q] /= np.asarray(self.values_)
        errors = standard_errors(J, r) if J.shape[1] else np.zeros(0)
        self.stderr_ = [float(e) for e in errors[:q]]
        self.start_stderr_ = errors[q:].reshape(-1, 2 * tracks.dim).tolist() if self.fit_start else None
        residual = self.predict(tracks) - tracks.position
        self.train_rmse_ = float(np.sqrt(np.mean(residual**2)))
        if self.loss == "linear":  # J is ∂r/∂(p, s₀), the interval's: no second Jacobian to compile
            group = np.repeat(np.arange(len(tracks)), mask.shape[1] * tracks.dim)[observed]
            K = J[np.arange(len(J))[:, None], q + group[:, None] * 2 * tracks.dim + np.arange(2 * tracks.dim)] \
                if self.fit_start else J[:, :0]
            self.interval_ = intervals.GroupedDelta.from_grams(*self._grams([(J[:, :q], K, group)]), residual,
                                                              self.interval_method)

    def force(self, speed) -> np.ndarray:
        """The fitted law's drag force magnitude |F| (N) at ``speed`` (m/s).

        Parameters
        ----------
        speed : array_like
            Speeds in m/s, a scalar or shape (n,).

        Returns
        -------
        force : numpy.ndarray
            |F| in N, shape (n,) (1 for a scalar).

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        self._check_fitted()
        speed = np.atleast_1d(np.asarray(speed, dtype=np.float64))
        return -np.asarray(_force(self.fitted().drag, speed))

    def _arrays_like(self):
        return {"values": jnp.zeros(len(self.unknowns())),
                "starts": jnp.zeros((len(self.tracks_), 2 * self.n_features_))}

    def summary(self):
        """Facts about the fitted model (see ``Estimator.summary``), with the fitted physics.

        Returns
        -------
        summary : dict
            ``physics`` ({name: {"value", "stderr"}}, SI units), ``formula`` and ``diagnostics``
            (``train_rmse`` in m, ``converged``, ``loss``), besides the common keys.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        out = super().summary()
        out["physics"] = self.physics_estimates()
        out["formula"] = f"trajectories under {self.fitted().label()}"
        out["diagnostics"] = {"train_rmse": self.train_rmse_, "converged": self.converged_, "loss": self.loss}
        return out


class LawField(eqx.Module):
    """θ ↦ the vector field of ``projectile`` with its parameters ``names`` set to θ."""

    projectile: eqx.Module
    names: tuple[str, ...] = eqx.field(static=True)

    def __call__(self, theta):
        p = self.projectile.replace(self.names, theta)
        return newton.Newton(newton.LawDrag(p), p.g)


@functools.lru_cache(maxsize=None)
def _residuals(names: tuple[str, ...], fit_start: bool, loss: str, rtol: float):
    """The residual function r̃(params, data) (flat, masked points 0) of a law whose parameters
    are ``names``, those with ``active`` = 0 in the data held at their starting values — one
    function object per setting, so that LM's compiled program is reused from fit to fit."""

    def residuals(params, data):
        start, p0, active, guess, ts, position, mask, f_scale = data
        u, shift = params
        p = start.replace(names, p0 * jnp.exp(u * active))
        s0 = guess + shift if fit_start else guess
        states = newton.solve_tracks(newton.Newton(newton.LawDrag(p), p.g), s0, ts, rtol, diffrax.ForwardMode())
        dim = position.shape[-1]
        r = jnp.where(mask[..., None], states[..., :dim] - position, 0.0)
        if loss == "soft_l1":
            # sign(r)·√ρ(r) written as r·√(2/(1 + √(1 + (r/f)²))): the same value, and smooth at
            # r = 0 (√ρ has an infinite slope there, which made NaN of the masked points' zeros).
            r = r * jnp.sqrt(2 / (1 + jnp.sqrt(1 + (r / f_scale) ** 2)))
        return r.reshape(-1)

    return residuals


@eqx.filter_jit
def _force(drag, speed):
    """The x component of the drag force (N) on a projectile moving along x at ``speed`` (m/s):
    one program (the law's operations run eagerly would compile one each)."""
    return drag.force(speed, jnp.zeros_like(speed))[0]


@solve_jit
def _jacobian(residuals, params, data):
    """(r, ∂r/∂params) at params, the parameters flattened (physics unknowns first)."""
    flat, unravel = ravel_pytree(params)

    def both(f):  # the value comes with the Jacobian, from the same forward-mode solve
        r = residuals(unravel(f), data)
        return r, r

    jacobian, r = jax.jacfwd(both, has_aux=True)(flat)
    return r, jacobian
