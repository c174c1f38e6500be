"""What every model of the dynamics shares: fitted to trajectories, it simulates and predicts
them (the estimator contract of :class:`hybridlab.models.base.Estimator` for persistence)."""

from __future__ import annotations

import abc

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.data import Tracks
from hybridlab.dynamics import motion
from hybridlab.models import intervals
from hybridlab.models.base import Calibrated, Estimator
from hybridlab.models.progress import QUIET, ProgressMeter


class Dynamics(Calibrated, Estimator, rung=False):
    """A model of ds/dt fitted to trajectories: ``fit(tracks)``, ``simulate(initial_state, t)``,
    ``predict(tracks[, return_std])``, ``predict_interval(tracks, level)``, ``summary()``,
    ``save``/``load`` (JSON + arrays, no pickle).

    A subclass implements ``_fit(tracks, progress)``, which sets ``starts_`` (m, 2·dim), the
    fitted state of each track at its first time (``t0_``, with ``tracks_`` the names),
    ``field()``, the fitted vector field, and ``parametrised()``, the field as a function of
    the parameters θ its interval is linearised in.

    The predictive interval is the delta method (:mod:`hybridlab.models.intervals`) in θ and
    every fitted starting state: with J = ∂(positions)/∂(θ, s₀) at the training points and r
    the position residuals (every coordinate one observation), σ̂² = ‖r‖²/(n − p),
    Σ = σ̂²(JᵀJ)⁺, and a new measurement's s² = jᵀΣj + σ̂² at each coordinate of each point.
    It widens where the trajectory's sensitivity to what was fitted grows: with time since the
    start, and off the speeds the data held as far as the linearisation sees it."""

    def __init_subclass__(cls, **kwargs):
        # Loadable, never a rung of the range ladder: they model trajectories, not ranges.
        super().__init_subclass__(rung=False, **kwargs)

    #: Tolerance of the solves of :meth:`simulate` and :meth:`predict` (m, m/s).
    rtol: float

    def fit(self, tracks: Tracks, progress: ProgressMeter = QUIET) -> Dynamics:
        """Fit to ``tracks``; returns self."""
        if not isinstance(tracks, Tracks):
            raise ValueError(f"tracks must be a hybridlab.data.Tracks, got {type(tracks).__name__}")
        self.context_ = {"kind": tracks.kind}
        self.n_features_ = tracks.dim
        try:
            self.tracks_, self.t0_ = list(tracks.names), [float(tracks.t[tracks.track == i][0])
                                                        for i in range(len(tracks))]
            self.interval_ = None  # a fit may calibrate its interval with what it computed anyway
            self._fit(tracks, progress)
            if self.interval_ is None:
                self.interval_ = self._calibrate(tracks)
        except BaseException:
            del self.n_features_
            raise
        return self

    @abc.abstractmethod
    def _fit(self, tracks: Tracks, progress: ProgressMeter) -> None:
        """Set the fitted attributes (``starts_`` among them) from ``tracks``."""

    @abc.abstractmethod
    def field(self):
        """The fitted vector field: a callable module s ↦ ds/dt."""

    @abc.abstractmethod
    def parametrised(self) -> tuple[jax.Array, eqx.Module]:
        """(θ, F): the fitted parameters the interval is linearised in, flat, and a callable
        module with F(θ) the fitted vector field (F(θ') the field at other values)."""

    #: Whether the starting states are fitted parameters (their sensitivities enter the interval).
    fits_start = True

    def _calibrate(self, tracks: Tracks) -> dict:
        """The delta method's calibration on the training ``tracks``."""
        residual = self.predict(tracks) - tracks.position
        return intervals.delta_calibration(self._sensitivities(tracks), residual.reshape(-1), self.interval_method)

    def simulate(self, initial_state, t) -> np.ndarray:
        """States (P, 2·dim) — positions (m) then velocities (m/s) — at the times ``t`` (P,),
        increasing, from ``initial_state`` (2·dim,) at t[0]."""
        self._check_fitted()
        s0 = np.asarray(initial_state, dtype=np.float64)
        t = np.asarray(t, dtype=np.float64)
        if s0.shape != (2 * self.n_features_,):
            raise ValueError(f"initial_state has shape {s0.shape}; this model's state has {2 * self.n_features_} "
                             "components (positions, then velocities)")
        if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0):
            raise ValueError("t must be a 1-D array of finite, increasing times (s)")
        return np.asarray(motion.solve(self.field(), jnp.asarray(s0), jnp.asarray(t), self.rtol))

    def predict(self, tracks: Tracks, return_std: bool = False):
        """Positions (n, dim) at the rows of ``tracks`` (tracks this model was fitted on, by name;
        at any times after their first), continued from their fitted starting states; with
        ``return_std``, also the predictive standard deviation (n, dim) of a new measurement of
        each coordinate (noise included)."""
        positions = self.states(tracks)[:, :tracks.dim]
        if not return_std:
            return positions
        std = intervals.predictive_std(self._interval(), self._sensitivities(tracks))
        return positions, np.reshape(std, positions.shape)

    def states(self, tracks: Tracks) -> np.ndarray:
        """States (n, 2·dim), positions then velocities, as :meth:`predict` gives positions."""
        index, ts, mask, order = self._query(tracks)
        states = motion.solve_tracks(self.field(), jnp.asarray(self.starts_)[index], ts, self.rtol)
        out = np.empty((len(tracks.t), 2 * tracks.dim))
        out[order] = np.asarray(states[:, 1:])[mask]
        return out

    def _sensitivities(self, tracks: Tracks) -> np.ndarray:
        """J (n·dim, p): ∂(positions)/∂(θ, s₀) at the rows of ``tracks`` (row by row, each
        row's coordinates in turn), the columns θ then every fitted track's starting state
        (zero for the tracks not asked about; none when the starts are not fitted)."""
        index, ts, mask, order = self._query(tracks)
        theta, parametrised = self.parametrised()
        d_theta, d_start = _position_jacobian(parametrised, theta, jnp.asarray(self.starts_), index, ts, self.rtol,
                                              tracks.dim)
        columns = [np.asarray(d_theta)] + ([np.asarray(d_start).reshape(*d_start.shape[:3], -1)]
                                           if self.fits_start else [])
        jacobian = np.concatenate(columns, axis=-1)[:, 1:][mask]  # (n, dim, p), padded rows dropped
        out = np.empty_like(jacobian)
        out[order] = jacobian
        return out.reshape(-1, out.shape[-1])

    def _query(self, tracks: Tracks):
        """(index of each track among the fitted, times (m, 1 + P) from each fitted start,
        mask (m, P) of the real points, order): row ``order[k]`` of the data is the k-th masked
        point, the padded rows being track by track, each in file order."""
        self._check_fitted()
        missing = [name for name in tracks.names if name not in self.tracks_]
        if missing:
            raise ValueError(f"track {missing[0]!r} was not fitted; the fitted tracks are {', '.join(self.tracks_)}")
        index = np.asarray([self.tracks_.index(name) for name in tracks.names])
        t0 = np.asarray(self.t0_)[index]
        early = tracks.t < t0[tracks.track]
        if early.any():
            row = int(np.flatnonzero(early)[0])
            raise ValueError(f"track {tracks.names[tracks.track[row]]!r}: time {tracks.t[row]:g} s is before its "
                             f"first fitted time {t0[tracks.track[row]]:g} s")
        # Each track from its fitted start, in a width shared by data sets of similar sizes.
        t, _, mask = tracks.padded(motion.width(np.bincount(tracks.track).max() + 1) - 1)
        return index, jnp.asarray(np.column_stack([t0, t])), mask, np.argsort(tracks.track, kind="stable")

    def mse(self, tracks: Tracks) -> float:
        """Mean squared position error (m², per coordinate) of :meth:`predict` on ``tracks``."""
        return float(np.mean((self.predict(tracks) - tracks.position) ** 2))


@eqx.filter_jit
def _position_jacobian(parametrised, theta, starts, index, ts, rtol, dim):
    """(∂x/∂θ (m, 1 + P, dim, p), ∂x/∂s₀ (m, 1 + P, dim, m_fit, 2·dim)) of the positions x
    solved from the fitted starts ``starts[index]`` at times ``ts``: forward mode (Diffrax's
    ForwardMode), one tangent per parameter."""

    def positions(theta, starts):
        states = motion.solve_tracks(parametrised(theta), starts[index], ts, rtol, diffrax.ForwardMode())
        return states[..., :dim]

    return jax.jacfwd(positions, argnums=(0, 1))(theta, starts)
