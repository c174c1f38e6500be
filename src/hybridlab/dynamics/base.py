"""What every model of the dynamics shares: fitted to trajectories, it simulates and predicts
them (the estimator contract of :class:`hybridlab.models.base.Estimator` for persistence)."""

from __future__ import annotations

import abc

import jax.numpy as jnp
import numpy as np

from hybridlab.data import Tracks
from hybridlab.dynamics import motion
from hybridlab.models.base import Estimator
from hybridlab.models.progress import QUIET, ProgressMeter


class Dynamics(Estimator, rung=False):
    """A model of ds/dt fitted to trajectories: ``fit(tracks)``, ``simulate(initial_state, t)``,
    ``predict(tracks)``, ``summary()``, ``save``/``load`` (JSON + arrays, no pickle).

    A subclass implements ``_fit(tracks, progress)``, which sets ``starts_`` (m, 2·dim), the
    fitted state of each track at its first time (``t0_``, with ``tracks_`` the names), and
    ``field()``, the fitted vector field."""

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
            self._fit(tracks, progress)
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

    def predict(self, tracks: Tracks) -> np.ndarray:
        """Positions (n, dim) at the rows of ``tracks`` (tracks this model was fitted on, by name;
        at any times after their first), continued from their fitted starting states."""
        return self.states(tracks)[:, :tracks.dim]

    def states(self, tracks: Tracks) -> np.ndarray:
        """States (n, 2·dim), positions then velocities, as :meth:`predict` gives positions."""
        self._check_fitted()
        missing = [name for name in tracks.names if name not in self.tracks_]
        if missing:
            raise ValueError(f"track {missing[0]!r} was not fitted; the fitted tracks are {', '.join(self.tracks_)}")
        index = [self.tracks_.index(name) for name in tracks.names]
        t0 = np.asarray(self.t0_)[index]
        early = tracks.t < t0[tracks.track]
        if early.any():
            row = int(np.flatnonzero(early)[0])
            raise ValueError(f"track {tracks.names[tracks.track[row]]!r}: time {tracks.t[row]:g} s is before its "
                             f"first fitted time {t0[tracks.track[row]]:g} s")
        # Each track from its fitted start, in a width shared by data sets of similar sizes.
        t, _, mask = tracks.padded(motion.width(np.bincount(tracks.track).max() + 1) - 1)
        ts = jnp.asarray(np.column_stack([t0, t]))
        states = motion.solve_tracks(self.field(), jnp.asarray(self.starts_)[np.asarray(index)], ts, self.rtol)
        out = np.empty((len(tracks.t), 2 * tracks.dim))
        # The padded rows are track by track, each in file order.
        out[np.argsort(tracks.track, kind="stable")] = np.asarray(states[:, 1:])[mask]
        return out

    def mse(self, tracks: Tracks) -> float:
        """Mean squared position error (m², per coordinate) of :meth:`predict` on ``tracks``."""
        return float(np.mean((self.predict(tracks) - tracks.position) ** 2))
