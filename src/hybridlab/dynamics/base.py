"""What every model of the dynamics shares: fitted to trajectories, it simulates and predicts
them (the estimator contract of :class:`hybridlab.estimators.Estimator` for persistence)."""

from __future__ import annotations

import abc

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.data import Tracks
from hybridlab.dynamics import motion
from hybridlab.physics import newton
from hybridlab.estimators import Estimator, WithInterval
from hybridlab.networks.progress import QUIET, ProgressMeter
from hybridlab.physics.compiling import solve_jit
from hybridlab.uncertainty import intervals

#: Tracks whose sensitivities are computed at once (the last block padded): one compiled
#: Jacobian serves any number of tracks, in memory bounded by the block.
TRACK_BLOCK = 256
#: How a prediction's solve (not differentiated) is compiled: Diffrax's forward mode, a plain
#: loop over the steps, traces and compiles in less time than the default checkpointed one, and
#: its states are the same (the adjoint changes only how a derivative would be taken).
_VALUES = diffrax.ForwardMode()
#: The solves of a fitted model's predictions, compiled as solves are.
_solve, _solve_tracks = solve_jit(newton.solve), solve_jit(newton.solve_tracks)


class Dynamics(WithInterval, Estimator, rung=False):
    """A model of ds/dt fitted to trajectories: ``fit(tracks)``, ``simulate(initial_state, t)``,
    ``predict(tracks, return_std=False)``, ``predict_interval(tracks, level)``, ``summary()``,
    ``save``/``load`` (JSON + arrays, no pickle). ``predict`` (:meth:`WithInterval.predict`)
    gives the positions (n, dim) in m at the rows of ``tracks`` — tracks this model was fitted
    on, by name, at any times at or after their first fitted time — continued from their fitted
    starting states, and with ``return_std`` the predictive standard deviation (n, dim) of a new
    measurement of each coordinate; a track not fitted, or a time before its first, is a
    ValueError.

    A subclass implements ``_fit(tracks, progress)``, which sets ``starts_`` (m, 2·dim), the
    fitted state of each track at its first time (``t0_``, with ``tracks_`` the names),
    ``field()``, the fitted vector field, and ``parametrised()``, the field as a function of
    the parameters θ its interval is linearised in.

    The predictive interval is the delta method (:mod:`hybridlab.uncertainty.intervals`) in θ and
    every fitted starting state: with J = ∂(positions)/∂(θ, s₀) at the training points and r
    the position residuals (every coordinate one observation), σ̂² = ‖r‖²/(n − p),
    Σ = σ̂²(JᵀJ)⁺, and a new measurement's s² = jᵀΣj + σ̂² at each coordinate of each point.
    A point depends on θ and on its own track's start only, so Σ is computed and kept in
    blocks (:class:`~hybridlab.uncertainty.intervals.GroupedDelta`): Σ_θθ, and per track the
    gain G and the start's covariance C, which grow linearly with the number of tracks. It
    widens where the trajectory's sensitivity to what was fitted grows:
    with time since the start, and off the speeds the data held as far as the linearisation
    sees it.

    Attributes
    ----------
    starts_ : jax.Array
        Fitted starting state of each track at its first time, shape (m, 2·dim): positions (m), velocities (m/s).
    tracks_ : list of str
        The fitted tracks' names, in order.
    t0_ : list of float
        Each track's first observation time in s.
    n_features_ : int
        dim, the number of position components of the tracks (2 for (x, y), 1 for a drop).
    interval_ : GroupedDelta or None
        The predictive interval (None: none).
    """

    #: Tolerance of the solves of :meth:`simulate` and :meth:`predict` (m, m/s).
    rtol: float

    def fit(self, tracks: Tracks, progress: ProgressMeter = QUIET) -> Dynamics:
        """Fit to ``tracks``; returns self.

        Parameters
        ----------
        tracks : Tracks
            Observed positions (m) at times (s), one or more tracks.
        progress : ProgressMeter
            Shows how a long fit advances; quiet by default.

        Returns
        -------
        self : Dynamics
            The fitted model.

        Raises
        ------
        ValueError
            If ``tracks`` is not a ``Tracks`` or a hyperparameter breaks its constraint (a subclass may refuse
            more); the model is then left unfitted.
        """
        def check():
            if not isinstance(tracks, Tracks):
                raise ValueError(f"tracks must be a hybridlab.data.Tracks, got {type(tracks).__name__}")
            known = {"tracks_": list(tracks.names), "t0_": tracks.first_times().tolist()}
            return (tracks,), tracks.dim, {"kind": tracks.kind}, known

        return self._fit_checked(check, progress)

    @abc.abstractmethod
    def _fit(self, tracks: Tracks, progress: ProgressMeter) -> None:
        """Set the fitted attributes (``starts_`` among them) from ``tracks``."""

    @abc.abstractmethod
    def field(self):
        """The fitted vector field: a callable module s ↦ ds/dt.

        Returns
        -------
        field : equinox.Module
            Maps a state s (2·dim,), positions (m) then velocities (m/s), to ds/dt (m/s, then m/s²).
        """

    @abc.abstractmethod
    def parametrised(self) -> tuple[jax.Array, eqx.Module]:
        """(θ, F): the fitted parameters the interval is linearised in, flat, and a callable
        module with F(θ) the fitted vector field (F(θ') the field at other values).

        Returns
        -------
        theta : jax.Array
            The parameters θ, shape (p,).
        parametrised : equinox.Module
            F, with F(θ) a vector field as ``field()`` gives.
        """

    #: Whether the starting states are fitted parameters (their sensitivities enter the interval).
    fits_start = True

    def _fit_interval(self, tracks: Tracks) -> intervals.GroupedDelta:
        """The delta method on the training ``tracks``, θ and every track's starting state."""
        residual = self.predict(tracks) - tracks.position
        blocks = ((J, K, group) for J, K, group, _ in self._sensitivity_blocks(tracks))
        return intervals.GroupedDelta.from_grams(*self._grams(blocks), residual, self.interval_method)

    def _grams(self, blocks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(JᵀJ (p, p), per fitted track J_gᵀK_g (m, p, q) and K_gᵀK_g (m, q, q)) summed over
        ``blocks`` of rows (J (r, p) the sensitivities to θ, K (r, q) to the start of each row's
        track ``group`` (r,)), into one set of arrays: memory linear in the tracks."""
        A = B = D = None
        for J, K, group in blocks:
            if A is None:
                p, q = J.shape[1], K.shape[1]
                A, B, D = np.zeros((p, p)), np.zeros((len(self.tracks_), p, q)), np.zeros((len(self.tracks_), q, q))
            A += J.T @ J
            np.add.at(B, group, J[:, :, None] * K[:, None, :])
            np.add.at(D, group, K[:, :, None] * K[:, None, :])
        return A, B, D

    def simulate(self, initial_state, t) -> np.ndarray:
        """States (P, 2·dim) — positions (m) then velocities (m/s) — at the times ``t`` (P,),
        increasing, from ``initial_state`` (2·dim,) at t[0].

        Parameters
        ----------
        initial_state : array_like
            State at t[0], shape (2·dim,): positions (m), then velocities (m/s).
        t : array_like
            Times in s, shape (P,), P ≥ 1, finite and non-decreasing.

        Returns
        -------
        states : numpy.ndarray
            Shape (P, 2·dim): positions (m), then velocities (m/s), at each time.

        Raises
        ------
        ValueError
            If the model is not fitted, ``initial_state`` is not of shape (2·dim,), or ``t`` is not as above.
        """
        self._check_fitted()
        s0 = np.asarray(initial_state, dtype=np.float64)
        t = np.asarray(t, dtype=np.float64)
        if s0.shape != (2 * self.n_features_,):
            raise ValueError(f"initial_state has shape {s0.shape}; this model's state has {2 * self.n_features_} "
                             "components (positions, then velocities)")
        if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0):
            raise ValueError("t must be a 1-D array of finite, increasing times (s)")
        return np.asarray(_solve(self.field(), s0, t, self.rtol, _VALUES))

    def _checked(self, tracks) -> tuple:
        return (tracks,)  # checked by _query, which the prediction and its interval ask

    def _predicted(self, tracks: Tracks) -> np.ndarray:
        return self.states(tracks)[:, :tracks.dim]

    def _std(self, predicted, tracks: Tracks) -> np.ndarray:
        interval = self._interval()
        std = np.empty(predicted.size)
        for J, K, group, rows in self._sensitivity_blocks(tracks):
            std[rows] = interval.std(J, K, group)
        return np.reshape(std, predicted.shape)

    def states(self, tracks: Tracks) -> np.ndarray:
        """States (n, 2·dim), positions then velocities, as :meth:`predict` gives positions.

        Parameters
        ----------
        tracks : Tracks
            Rows (n) of fitted tracks, at times (s) at or after each track's first fitted time.

        Returns
        -------
        states : numpy.ndarray
            Shape (n, 2·dim): positions (m), then velocities (m/s).

        Raises
        ------
        ValueError
            If the model is not fitted, a track was not fitted, or a time is before its track's first fitted
            time.
        """
        index, ts, mask, order = self._query(tracks)
        # Indexed and cut in NumPy: each eager JAX gather or slice would compile a program.
        states = _solve_tracks(self.field(), np.asarray(self.starts_)[index], ts, self.rtol, _VALUES)
        out = np.empty((len(tracks.t), 2 * tracks.dim))
        out[order] = np.asarray(states)[:, 1:][mask]
        return out

    def _sensitivity_blocks(self, tracks: Tracks):
        """For blocks of the tracks asked about (:data:`TRACK_BLOCK` at most, so that memory
        stays bounded however many there are), yields, for each coordinate of their points:
        J (r, p) = ∂(position)/∂θ, K (r, q) = ∂(position)/∂(its track's start) (q = 0 when
        the starts are not fitted), its track's index among the fitted (r,), and its index in
        ``predict(tracks).reshape(-1)`` (r,)."""
        index, ts, mask, order = self._query(tracks)
        theta, parametrised = self.parametrised()
        starts, ts = np.asarray(self.starts_)[index], np.asarray(ts)
        dim, size = tracks.dim, min(TRACK_BLOCK, motion.width(len(index)))
        # Each padded track's coordinates (point, axis) → their rows in predict(tracks).reshape(-1).
        where = np.full(mask.shape, -1)
        where[mask] = order
        where = (where[..., None] * dim + np.arange(dim)).reshape(len(index), -1)
        real = np.repeat(mask, dim, axis=1)
        for first in range(0, len(index), size):
            block = np.arange(first, min(first + size, len(index)))
            padded = np.concatenate([block, np.full(size - len(block), block[-1])])  # one compiled shape
            J, K = _position_jacobian(parametrised, theta, jnp.asarray(starts[padded]), jnp.asarray(ts[padded]),
                                      self.rtol, dim)
            keep = real[block]
            # (track, point, axis, column) → (track, point·axis, column), the sizes spelled out:
            # θ may have no component (a law with nothing fitted), which -1 cannot infer.
            J = np.asarray(J)[:len(block), 1:].reshape(*keep.shape, J.shape[-1])[keep]
            K = np.asarray(K)[:len(block), 1:].reshape(*keep.shape, K.shape[-1])[keep]
            group = np.repeat(index[block], keep.sum(axis=1))
            yield J, (K if self.fits_start else K[:, :0]), group, where[block][keep]

    def _query(self, tracks: Tracks):
        """(index of each track among the fitted, times (m, 1 + P) from each fitted start,
        mask (m, P) of the real points, order): row ``order[k]`` of the data is the k-th masked
        point, the padded rows being track by track, each in file order."""
        self._check_fitted()
        fitted = {name: i for i, name in enumerate(self.tracks_)}
        missing = [name for name in tracks.names if name not in fitted]
        if missing:
            raise ValueError(f"track {missing[0]!r} was not fitted; the fitted tracks are {', '.join(self.tracks_)}")
        index = np.asarray([fitted[name] for name in tracks.names], dtype=int)
        t0 = np.asarray(self.t0_)[index]
        early = tracks.t < t0[tracks.track]
        if early.any():
            row = int(np.flatnonzero(early)[0])
            raise ValueError(f"track {tracks.names[tracks.track[row]]!r}: time {tracks.t[row]:g} s is before its "
                             f"first fitted time {t0[tracks.track[row]]:g} s")
        # Each track from its fitted start, in a width shared by data sets of similar sizes.
        t, _, mask = tracks.padded(motion.width(np.bincount(tracks.track).max() + 1) - 1)
        return index, np.column_stack([t0, t]), mask, np.argsort(tracks.track, kind="stable")

    def mse(self, tracks: Tracks) -> float:
        """Mean squared position error (m², per coordinate) of :meth:`predict` on ``tracks``.

        Parameters
        ----------
        tracks : Tracks
            Rows of fitted tracks (see ``predict()``).

        Returns
        -------
        mse : float
            In m².

        Raises
        ------
        ValueError
            As ``predict()``.
        """
        return float(np.mean((self.predict(tracks) - tracks.position) ** 2))


@solve_jit
def _position_jacobian(parametrised, theta, starts, ts, rtol, dim):
    """(∂x/∂θ (b, 1 + P, dim, p), ∂x/∂s₀ (b, 1 + P, dim, 2·dim)) of the positions x of each
    of b tracks, solved from its start ``starts`` (b, 2·dim) at its times ``ts`` (b, 1 + P):
    forward mode (Diffrax's ForwardMode), one tangent per parameter, each track on its own."""

    def positions(theta, start, t):
        return newton.solve(parametrised(theta), start, t, rtol, diffrax.ForwardMode())[:, :dim]

    return jax.vmap(jax.jacfwd(positions, argnums=(0, 1)), in_axes=(None, 0, 0))(theta, starts, ts)
