"""The LSTM forecaster: Equinox's LSTM cell and a linear read-out, trained by Adam (Optax) on
windows of the tracks, first with teacher forcing, then in free run."""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.estimators.params import EPOCHS, RATE, SEED, STEPS, Integer, Real
from hybridlab.forecasting.base import Forecaster, free_run, warm
from hybridlab.networks import training
from hybridlab.networks.progress import ProgressMeter


class Recurrent(eqx.Module):
    """(h_k, c_k) = LSTMCell(u_k, (h_{k−1}, c_{k−1})), ŷ_k = A h_k + b: the cell (input, forget,
    cell and output gates, as :class:`equinox.nn.LSTMCell`) and its read-out, in scaled units."""

    cell: eqx.nn.LSTMCell
    head: eqx.nn.Linear

    def __init__(self, inputs: int, hidden: int, outputs: int, key):
        k_cell, k_head = jax.random.split(key)
        self.cell = eqx.nn.LSTMCell(inputs, hidden, key=k_cell, dtype=jnp.float64)
        self.head = eqx.nn.Linear(hidden, outputs, key=k_head, dtype=jnp.float64)

    def initial(self):
        zeros = jnp.zeros(self.cell.hidden_size)
        return zeros, zeros

    def update(self, state, u):
        return self.cell(u, state)

    def readout(self, state):
        return self.head(state[0])


def _window_inputs(positions, scales):
    """Scaled inputs (B, W, 2·dim) of windows of positions (B, W + 1, dim): (x_k, Δx_k), k ≥ 1."""
    mean, scale, step_scale = scales
    x = (positions[:, 1:] - mean) / scale
    return jnp.concatenate([x, jnp.diff(positions, axis=1) / step_scale], axis=-1)


def _masked_mean(squares, mask):
    return jnp.sum(jnp.where(mask, squares, 0.0)) / jnp.maximum(jnp.sum(mask), 1)


@functools.lru_cache(maxsize=None)
def losses(warmup: int):
    """(teacher, free): the two training losses on windows (positions (B, W + 1, dim), counts
    (B,), scales (B, 3, dim), each row the same μ, σ, σ_Δ), one function object per ``warmup``
    (compiled once). Teacher forcing: the mean squared scaled error of the next step from the
    true inputs, after the first ``warmup`` steps. Free run: the mean squared error of the
    positions (in units of σ_Δ) forecast from the first ``warmup`` + 1 points to the window's end."""

    def teacher(recurrent, data):
        positions, counts, scales = data
        inputs = _window_inputs(positions, tuple(scales[0]))
        states = jax.vmap(lambda u: warm(recurrent, u, u.shape[0] + 1)[1])(inputs)
        predicted = jax.vmap(jax.vmap(recurrent.readout))(jax.tree.map(lambda a: a[:, :-1], states))
        targets = jnp.diff(positions, axis=1)[:, 1:] / scales[0, 2]
        j = jnp.arange(targets.shape[1])
        mask = (j < counts[:, None] - 2) & (j >= warmup - 1)
        return _masked_mean(jnp.sum((predicted - targets) ** 2, axis=-1), mask)

    def free(recurrent, data):
        positions, counts, scales = data
        horizon = positions.shape[1] - 1 - warmup
        inputs = _window_inputs(positions, tuple(scales[0]))
        observed = jnp.full(positions.shape[0], warmup + 1)
        forecast = free_run(recurrent, inputs, observed, positions[:, warmup], tuple(scales[0]), horizon)
        k = jnp.arange(horizon)
        mask = warmup + 1 + k < counts[:, None]
        return _masked_mean(jnp.sum(((forecast - positions[:, warmup + 1:]) / scales[0, 2]) ** 2, axis=-1), mask)

    return teacher, free


def windows(positions: np.ndarray, counts: np.ndarray, length: int, least: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions (B, length + 1, dim), counts (B,)): windows of ``length`` + 1 points of each
    track, every ``length`` // 2 points, each with at least ``least`` real points (a window at a
    track's end is padded with its last point)."""
    pieces, sizes = [], []
    for track, count in zip(positions, counts):
        for start in range(0, max(1, count - least + 1), max(1, length // 2)):
            index = np.minimum(np.arange(start, start + length + 1), count - 1)
            pieces.append(track[index])
            sizes.append(min(length + 1, count - start))
    return np.stack(pieces), np.asarray(sizes)


class LSTM(Forecaster):
    """A forecaster whose recurrence is an LSTM cell of ``hidden`` units with a linear read-out
    (from ``seed``), trained by Adam (``learning_rate``, cosine-decayed) on windows of
    ``window`` steps of the fitted tracks (every ``window`` // 2 steps), in shuffled mini-batches
    of ``batch_size`` windows: ``epochs`` epochs of teacher forcing (the true inputs; the next
    step's squared error after ``warmup`` steps), then ``free_epochs`` epochs of free run (warmed
    up on ``warmup`` + 1 points, the positions' squared error to the window's end), which teaches
    it to continue from its own predictions as :meth:`predict` does.
    See :mod:`hybridlab.forecasting.base` for the inputs, the free run and the interval.

    Parameters
    ----------
    hidden : int
        LSTM units, ≥ 1.
    window : int
        Steps per training window, ≥ 4 and ≥ ``warmup`` + 2.
    warmup : int
        Steps of warm-up before a window's loss counts, ≥ 1.
    epochs : int
        Teacher-forcing epochs, ≥ 1.
    free_epochs : int
        Free-run epochs, ≥ 0.
    learning_rate : float
        Adam's initial step size, finite and > 0.
    batch_size : int
        Windows per mini-batch, ≥ 1.
    validation : float
        Fraction of the training tracks held out for the interval, in [0, 1).
    seed : int
        Seed of the initialisation, the shuffles and the held-out tracks, in [0, 2**63 − 1].

    Attributes
    ----------
    recurrent_ : Recurrent
        The trained LSTM cell and read-out.
    train_loss_ : float
        Final teacher-forcing loss (scaled units, dimensionless).
    free_loss_ : float
        Final free-run loss (positions in units of σ_Δ, dimensionless).

    Raises
    ------
    ValueError
        If a hyperparameter breaks its constraint or ``warmup`` + 2 > ``window``.
    """

    name = "lstm"
    fitted_arrays = ("recurrent",)
    fitted_facts = Forecaster.fitted_facts + ("train_loss", "free_loss")
    constraints = {"hidden": Integer(1), "window": Integer(4), "warmup": Integer(1), "epochs": EPOCHS,
                   "free_epochs": STEPS, "learning_rate": RATE, "batch_size": Integer(1),
                   "validation": Real(0.0, 1.0), "seed": SEED}

    def __init__(self, *, hidden=32, window=24, warmup=5, epochs=300, free_epochs=100, learning_rate=3e-3,
                 batch_size=64, validation=0.2, seed=0):
        self.hidden, self.window, self.warmup, self.epochs = hidden, window, warmup, epochs
        self.free_epochs, self.learning_rate, self.batch_size = free_epochs, learning_rate, batch_size
        self.validation, self.seed = validation, seed
        self.check_params()

    def _check_together(self) -> None:
        if self.warmup + 2 > self.window:
            raise ValueError(f"warmup = {self.warmup}: must leave at least 2 steps of the window = {self.window}")

    def least_observed(self) -> int:
        """The warm-up's points and one more: what the free run was trained from.

        Returns
        -------
        count : int
            ``warmup`` + 1.
        """
        return self.warmup + 1

    def _train(self, positions, counts, progress: ProgressMeter) -> None:
        data = self._windows(positions, counts)
        teacher, free = losses(self.warmup)
        task = progress.task(self.name, self.epochs + self.free_epochs)
        recurrent = self._untrained()
        for loss, epochs in ((teacher, self.epochs), (free, self.free_epochs)):
            if epochs:
                steps = epochs * training.batches_per_epoch(len(data[1]), self.batch_size)
                adam = training.optimiser("adam", self.learning_rate, "cosine", steps)
                recurrent, _ = training.first_order(recurrent, loss, data, None, adam, epochs, None, task,
                                                    batch=self.batch_size, seed=self.seed)
        task.close()
        self.recurrent_ = recurrent
        self.train_loss_ = float(training.evaluate(teacher, recurrent, data))
        self.free_loss_ = float(training.evaluate(free, recurrent, data))

    def _windows(self, positions, counts):
        pieces, sizes = windows(positions, counts, self.window, self.warmup + 2)
        scales = np.broadcast_to(np.array([self.mean_, self.scale_, self.step_scale_]), (len(sizes), 3, len(self.mean_)))
        return jnp.asarray(pieces), jnp.asarray(sizes), jnp.asarray(scales)

    def _untrained(self) -> Recurrent:
        return Recurrent(2 * self.n_features_, self.hidden, self.n_features_, jax.random.key(self.seed))

    def _cell(self) -> Recurrent:
        return self.recurrent_

    def _arrays_like(self):
        return {"recurrent": self._untrained()}

    def summary(self):
        """Facts about the fitted model (see ``Estimator.summary``), with the recurrence and the losses.

        Returns
        -------
        summary : dict
            ``formula`` and ``diagnostics`` (``dt`` in s, ``horizon`` in steps, ``held_out``, ``train_loss``,
            ``free_loss``), besides the common keys.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        out = super().summary()
        out["formula"] = (f"(h_k, c_k) = LSTM(u_k, h_(k−1), c_(k−1)), Δx_(k+1) = A h_k + b; {self.hidden} units")
        out["diagnostics"] = {"dt": self.dt_, "horizon": self.horizon_, "held_out": self.held_out_,
                              "train_loss": self.train_loss_, "free_loss": self.free_loss_}
        return out
