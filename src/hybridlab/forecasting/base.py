"""What every data-only forecaster shares: tracks in, evenly spaced steps, a free run out.

A forecaster learns the map from a track's recent past to its next step on many training tracks
(``fit(tracks)``), then continues a new track from its observed part (``predict(observed,
horizon)``): a warm-up on the observed points, then a free run that feeds each predicted
position back as the next input. It steps through time, so the tracks must be evenly spaced:
the step ``dt_`` (s) is the median step of the training tracks, and every step of the tracks it
is fitted to or asked about must lie within :data:`STEP_TOLERANCE` of it.

Inputs and outputs are in scaled units: u_k = ((x_k − μ)/σ, Δx_k/σ_Δ), the position and the last
step Δx_k = x_k − x_{k−1} (the velocity estimate of the observed part, times dt), and the model
predicts the next step Δx_{k+1}/σ_Δ; μ, σ are the training positions' mean and standard
deviation per coordinate, σ_Δ the steps' root mean square per coordinate.

The predictive interval is empirical, by horizon: after the fit, tracks held out of it (a
``validation`` fraction of the training tracks, at least one; all of them if there are fewer
than :data:`LEAST_HELD_OUT` + 1) are cut at several points and run free to their end; s_k (per
coordinate) is the root mean square error of the forecasts k steps ahead against the measured
positions (noise included), made non-decreasing in k. ``predict(..., return_std=True)`` gives
s_k, ``predict_interval`` ŷ ± z·s_k (Gaussian quantile). The cuts leave at least
:meth:`least_observed` points to warm up on, and a forecast from fewer is refused, as is a
horizon past the longest one calibrated (:attr:`horizon_`): the model was never checked there;
so is a track whose positions or steps lie outside the training tracks' (:meth:`seen`).
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.data import Tracks
from hybridlab.estimators import Estimator, WithInterval
from hybridlab.networks.progress import QUIET, ProgressMeter
from hybridlab.uncertainty.intervals import ByHorizon

#: How far a step may be from the median step (relative) for the tracks to count as evenly spaced.
STEP_TOLERANCE = 0.1
#: Held-out tracks below which the interval is calibrated on the training tracks (optimistic).
LEAST_HELD_OUT = 2
#: Forecasts of each held-out track, from cuts spread over its length.
CUTS = 8
#: How far (a share of the training inputs' span) an observed input may lie beyond them.
WIDER = 0.1
#: Forecasts k steps ahead needed for s_k to be calibrated at k.
LEAST_SAMPLES = 5


def padded_positions(tracks: Tracks) -> tuple[np.ndarray, np.ndarray]:
    """(positions (m, P, dim), counts (m,)): each track's points in time order, the short ones
    repeating their last point (P the longest track's count)."""
    _, position, mask = tracks.padded()
    return position, mask.sum(axis=1)


def check_steps(tracks: Tracks, dt: float | None = None) -> float:
    """The median step (s) of ``tracks``; ValueError unless every step is within
    :data:`STEP_TOLERANCE` of it (or of ``dt``, the fitted step), or a track has fewer than 2 points."""
    t, _, mask = tracks.padded()
    counts = mask.sum(axis=1)
    if counts.min() < 2:
        short = tracks.names[int(np.argmin(counts))]
        raise ValueError(f"track {short!r} has {counts.min()} point: a forecaster needs at least 2 (a step)")
    steps = np.diff(t, axis=1)[mask[:, 1:]]
    reference = float(np.median(steps)) if dt is None else dt
    worst = float(np.max(np.abs(steps / reference - 1)))
    if worst > STEP_TOLERANCE:
        raise ValueError(f"steps from {steps.min():.4g} to {steps.max():.4g} s: a forecaster steps through time and "
                         f"needs evenly spaced points (within {STEP_TOLERANCE:.0%} of {reference:.4g} s)")
    return reference


class Forecaster(WithInterval, Estimator, rung=False):
    """Base of the data-only forecasters (see the module's docstring): ``fit(tracks)``;
    ``predict(observed, horizon, return_std=False)`` (:meth:`WithInterval.predict`): the positions
    (m, horizon, dim) in m of each observed track (a ``Tracks`` of the fitted dim, steps within
    10 % of ``dt_``, at least :meth:`least_observed` points) at k·``dt_`` after its last point,
    k = 1 … ``horizon`` (at most :attr:`horizon_`), NaN from the first step whose position or
    step leaves the training inputs' range widened by :data:`WIDER` of it; with ``return_std``,
    s_k (m, horizon, dim). A track the model never saw the like of (:meth:`seen`) is a
    ValueError. A subclass implements ``_train(positions, counts, progress)`` and ``_cell()``
    (the fitted recurrence), and keeps ``validation`` and ``seed``.

    Attributes
    ----------
    dt_ : float
        The step in s: the median step of the training tracks.
    mean_ : list of float
        μ, the training positions' mean per coordinate, in m.
    scale_ : list of float
        σ, their standard deviation per coordinate, in m.
    step_scale_ : list of float
        σ_Δ, the steps' root mean square per coordinate, in m.
    horizon_ : int
        The longest forecast calibrated, in steps of ``dt_``.
    interval_ : ByHorizon
        s_k, shape (horizon_, dim), in m: the predictive standard deviation k steps ahead.
    held_out_ : int
        Tracks held out for the interval (0: calibrated on the fitted tracks).
    input_low_ : list of float
        The training inputs' lower bounds (scaled), 2·dim values.
    input_high_ : list of float
        Their upper bounds (scaled), 2·dim values.
    """

    interval_method: ClassVar[str] = "empirical, by horizon, from free runs of held-out tracks"
    fitted_facts = ("dt", "mean", "scale", "step_scale", "horizon", "held_out", "input_low", "input_high")

    def fit(self, tracks: Tracks, progress: ProgressMeter = QUIET) -> Forecaster:
        """Learn the next step from ``tracks`` (evenly spaced, each at least 3 points); returns self.

        Parameters
        ----------
        tracks : Tracks
            Training tracks: positions (m) at evenly spaced times (s), each of at least 3 points.
        progress : ProgressMeter
            Shows how a long training advances; quiet by default.

        Returns
        -------
        self : Forecaster
            The fitted model.

        Raises
        ------
        ValueError
            If ``tracks`` is not a ``Tracks``, a hyperparameter breaks its constraint, a track has fewer than
            3 points, the steps are not within 10 % of their median, the held-out tracks are too short to
            calibrate the interval, or a fitted number is not finite; the model is then left unfitted.
        """
        def check():
            if not isinstance(tracks, Tracks):
                raise ValueError(f"tracks must be a hybridlab.data.Tracks, got {type(tracks).__name__}")
            return (tracks,), tracks.dim, {"kind": tracks.kind}, {"dt_": check_steps(tracks)}

        return self._fit_checked(check, progress)

    def _fit(self, tracks: Tracks, progress: ProgressMeter) -> None:
        positions, counts = padded_positions(tracks)
        if counts.min() < 3:
            raise ValueError(f"track {tracks.names[int(np.argmin(counts))]!r}: a forecaster learns from tracks of "
                             "at least 3 points")
        fit, held = self._split(len(counts))
        real = np.arange(positions.shape[1]) < counts[:, None]
        real[np.setdiff1d(np.arange(len(counts)), fit)] = False  # the held-out tracks set no scale
        steps = np.diff(positions, axis=1)[real[:, 1:]]
        self.mean_ = positions[real].mean(axis=0).tolist()
        self.scale_ = [float(s) or 1.0 for s in positions[real].std(axis=0)]
        self.step_scale_ = [float(s) or 1.0 for s in np.sqrt(np.mean(steps**2, axis=0))]
        inputs = np.asarray(self._inputs(jnp.asarray(positions[fit])))[real[fit][:, 1:]]
        self.input_low_, self.input_high_ = inputs.min(axis=0).tolist(), inputs.max(axis=0).tolist()
        self._train(positions[fit], counts[fit], progress)
        # 0: too few tracks to hold any out, the interval calibrated on the fitted ones (optimistic).
        self.held_out_ = 0 if len(held) == len(fit) and np.array_equal(held, fit) else int(len(held))
        self._calibrate_horizons(positions[held], counts[held])

    def _check_fit(self, tracks: Tracks) -> None:
        """ValueError unless every fitted number is finite (an ill-conditioned read-out, a
        diverged training)."""
        leaves = jax.tree.leaves(eqx.filter(self._arrays(), eqx.is_array))
        if not all(np.isfinite(np.asarray(leaf)).all() for leaf in leaves):
            raise ValueError(f"the {self.name} fit gave numbers that are not finite: raise its ridge penalty or lower "
                             "its learning rate")

    def _split(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the tracks fitted and of those held out for the interval (the same as the
        fitted ones when too few are left over)."""
        order = np.random.default_rng(self.seed).permutation(m)
        held = int(round(self.validation * m))
        if held < LEAST_HELD_OUT or m - held < 1:
            return np.arange(m), np.arange(m)
        return np.sort(order[held:]), np.sort(order[:held])

    def _inputs(self, positions):
        """Scaled inputs (…, P − 1, 2·dim) from positions (…, P, dim): (x_k, Δx_k) for k ≥ 1."""
        x = (positions[..., 1:, :] - jnp.asarray(self.mean_)) / jnp.asarray(self.scale_)
        step = jnp.diff(positions, axis=-2) / jnp.asarray(self.step_scale_)
        return jnp.concatenate([x, step], axis=-1)

    def _examples(self, positions, counts):
        """(inputs (m, P − 2, 2·dim), targets (m, P − 2, dim), mask (m, P − 2)): the input at k
        (1 ≤ k ≤ P − 2) and the scaled step Δx_{k+1} that follows it, where the track has it."""
        inputs = self._inputs(jnp.asarray(positions))[:, :-1]
        targets = jnp.diff(jnp.asarray(positions), axis=1)[:, 1:] / jnp.asarray(self.step_scale_)
        mask = np.arange(positions.shape[1] - 2) < (counts - 2)[:, None]
        return inputs, targets, jnp.asarray(mask)

    def _calibrate_horizons(self, positions: np.ndarray, counts: np.ndarray) -> None:
        """Set ``interval_`` (s_k, H × dim) and ``horizon_`` = H from free runs of the held-out tracks."""
        least = self.least_observed()
        cuts = [(i, c) for i, n in enumerate(counts) if n > least
                for c in np.unique(np.linspace(least, n - 1, CUTS).astype(int))]
        if not cuts:
            raise ValueError(f"no held-out track has more than {least} points, the least a forecast is made from")
        track, cut = (np.array(a) for a in zip(*cuts))
        longest = int(np.max(counts[track] - cut))
        forecast = np.asarray(self._positions(positions[track], cut, longest))
        k = np.arange(1, longest + 1)
        index = np.minimum(cut[:, None] - 1 + k, positions.shape[1] - 1)
        truth = positions[track[:, None], index]
        valid = (cut[:, None] - 1 + k) < counts[track][:, None]
        error = np.where(valid[..., None], forecast - truth, 0.0)
        samples = valid.sum(axis=0)
        horizon = int(np.max(np.flatnonzero(samples >= LEAST_SAMPLES), initial=-1)) + 1
        if horizon < 1:
            raise ValueError(f"the held-out tracks give fewer than {LEAST_SAMPLES} one-step forecasts: "
                             "give more or longer tracks")
        rms = np.sqrt(np.sum(error**2, axis=0)[:horizon] / samples[:horizon, None])
        self.horizon_ = horizon
        self.interval_ = ByHorizon(method=self.interval_method, dof=None, spread=np.maximum.accumulate(rms, axis=0))

    def _positions(self, positions, counts, horizon: int):
        """Forecast positions (m, horizon, dim) after the first ``counts`` points of each track."""
        scales = tuple(jnp.asarray(v) for v in (self.mean_, self.scale_, self.step_scale_))
        positions = jnp.asarray(positions)
        return free_run(self._cell(), self._inputs(positions), jnp.asarray(counts), last_real(positions, counts),
                        scales, horizon)

    def seen(self, observed: Tracks) -> np.ndarray:
        """(m,): whether every input of each observed track — its positions and steps, scaled —
        lies within the range of the training inputs, widened by :data:`WIDER` of its span on
        each side: a track outside it asks the model about what it never saw.

        Parameters
        ----------
        observed : Tracks
            The observed tracks (m of them): positions in m.

        Returns
        -------
        seen : numpy.ndarray
            Boolean, shape (m,).

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        self._check_fitted()
        positions, counts = padded_positions(observed)
        outside = self._outside(positions)
        real = np.arange(outside.shape[1]) < (counts - 1)[:, None]
        return ~np.any(outside & real, axis=1)

    def _outside(self, positions) -> np.ndarray:
        """(m, P − 1): whether the input of each point 1 … P − 1 of ``positions`` (m, P, dim) lies
        outside the training inputs' range widened by :data:`WIDER` of it."""
        inputs = np.asarray(self._inputs(jnp.asarray(positions)))
        low, high = np.asarray(self.input_low_), np.asarray(self.input_high_)
        margin = WIDER * (high - low)
        return np.any((inputs < low - margin) | (inputs > high + margin), axis=-1)

    def _checked(self, observed, horizon) -> tuple:
        """(padded positions, counts, horizon) of valid ``observed`` tracks (see :meth:`predict`)."""
        if not isinstance(observed, Tracks):
            raise ValueError(f"observed must be a hybridlab.data.Tracks, got {type(observed).__name__}")
        if observed.dim != self.n_features_:
            raise ValueError(f"observed tracks have {observed.dim} coordinates, the model was fitted on "
                             f"{self.n_features_}")
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or not 1 <= horizon <= self.horizon_:
            raise ValueError(f"horizon = {horizon!r}: must be an integer from 1 to {self.horizon_} steps of "
                             f"{self.dt_:.4g} s, the longest forecast checked on held-out tracks")
        check_steps(observed, self.dt_)
        positions, counts = padded_positions(observed)
        unseen = np.flatnonzero(~self.seen(observed))
        if unseen.size:
            raise ValueError(f"track {observed.names[unseen[0]]!r}: its positions or steps lie outside those of the "
                             f"training tracks (by more than {WIDER:.0%} of their range): this {type(self).__name__} "
                             "never saw such a track (the physics rungs can be asked)")
        if counts.min() < self.least_observed():
            short = observed.names[int(np.argmin(counts))]
            raise ValueError(f"track {short!r} has {counts.min()} observed points: this {type(self).__name__} "
                             f"forecasts from at least {self.least_observed()} (its interval was checked from there)")
        return positions, counts, int(horizon)

    def _predicted(self, positions, counts, horizon) -> np.ndarray:
        predicted = np.array(self._positions(positions, counts, horizon))  # a writable copy
        predicted[self._strayed(np.asarray(last_real(positions, counts)), predicted)] = np.nan
        return predicted

    def _std(self, predicted, positions, counts, horizon) -> np.ndarray:
        std = np.broadcast_to(self._interval().std(horizon), predicted.shape).copy()
        std[np.isnan(predicted)] = np.nan  # where the free run strayed
        return std

    def _strayed(self, last: np.ndarray, predicted: np.ndarray) -> np.ndarray:
        """(m, horizon): the steps of a free run from the first one whose position or step lies
        outside the training inputs' widened range on: past what the model saw."""
        outside = self._outside(np.concatenate([last[:, None, :], predicted], axis=1))
        return np.logical_or.accumulate(outside, axis=1)

    def predict_interval(self, observed: Tracks, horizon: int, level: float = 0.9):
        """(low, high), each (m, horizon, dim): the ``level`` interval ŷ ± z·s_k of a measurement
        k steps after each observed track's last point.

        Parameters
        ----------
        observed : Tracks
            The observed parts of m tracks (see ``predict()``).
        horizon : int
            Steps to forecast, from 1 to ``horizon_``.
        level : float
            Coverage probability, in (0, 1).

        Returns
        -------
        low : numpy.ndarray
            Shape (m, horizon, dim), in m.
        high : numpy.ndarray
            Shape (m, horizon, dim), in m.

        Raises
        ------
        ValueError
            As ``predict()``, or if ``level`` is not in (0, 1).
        """
        return self._interval_around(*self.predict(observed, horizon, return_std=True), level)

    def least_observed(self) -> int:
        """The fewest observed points of a track a forecast is made from (and checked from).

        Returns
        -------
        count : int
            3 unless a subclass needs more.
        """
        return 3

    @abc.abstractmethod
    def _train(self, positions: np.ndarray, counts: np.ndarray, progress: ProgressMeter) -> None:
        """Set the fitted arrays from the fitted tracks' positions (m, P, dim) and point counts (m,)."""

    @abc.abstractmethod
    def _cell(self) -> eqx.Module:
        """The fitted recurrence: a module with ``initial()`` (the state before any input),
        ``update(state, u)`` (the state after scaled input u) and ``readout(state)`` (the
        scaled next step)."""


def warm(cell, inputs, count):
    """The state of ``cell`` after the first ``count`` − 1 of ``inputs`` (P − 1, 2·dim) — the
    inputs of points 1 … count − 1 — and every state on the way (P − 1, …)."""
    def step(state, item):
        j, u = item
        new = cell.update(state, u)
        state = jax.tree.map(lambda a, b: jnp.where(j < count - 1, a, b), new, state)
        return state, state

    return jax.lax.scan(step, cell.initial(), (jnp.arange(inputs.shape[0]), inputs))


@eqx.filter_jit
def free_run(cell, inputs, counts, last, scales, horizon: int):
    """Positions (m, horizon, dim): each track warmed up on its observed inputs, then run free
    from its last position ``last`` (m, dim), each predicted step fed back as the next input."""
    mean, scale, step_scale = scales

    def one(inputs, count, x):
        state, _ = warm(cell, inputs, count)

        def step(carry, _):
            state, x = carry
            dx = cell.readout(state) * step_scale
            x = x + dx
            state = cell.update(state, jnp.concatenate([(x - mean) / scale, dx / step_scale]))
            return (state, x), x

        return jax.lax.scan(step, (state, x), None, length=horizon)[1]

    return jax.vmap(one)(inputs, counts, last)


def last_real(values, counts):
    """values[i, counts[i] − 1] for each row i of ``values`` (m, P, …)."""
    return values[jnp.arange(values.shape[0]), counts - 1]
