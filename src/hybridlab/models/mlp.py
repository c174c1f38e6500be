"""Rung 3, the black box: a multilayer perceptron fitted to standardised data.

An :class:`MLP` is also a training recipe: :meth:`MLP.train` fits a network through any
output map ``output(network, z, aux)`` (module-level, so that it is compiled once), which is
how a :class:`~hybridlab.models.hybrid.Hybrid` trains its correction.
"""

from __future__ import annotations

import functools
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.estimators.params import BATCH_SIZE, EPOCHS, RATE, SEED, STEPS, WIDTHS, Boolean, Integer, OneOf, Optional, Real
from hybridlab.models.base import Regressor, Scaler
from hybridlab.networks import training
from hybridlab.networks.network import ACTIVATIONS, INITS, Network
from hybridlab.networks.progress import QUIET
from hybridlab.uncertainty.diagnostics import best_of, hessian_report
from hybridlab.uncertainty.intervals import LAST_LAYER, last_layer_jacobian

OPTIMISERS = ("adam", "gd", "lm")
SCHEDULES = ("constant", "cosine")
DTYPES = {"float32": jnp.float32, "float64": jnp.float64}


class NetworkFit(NamedTuple):
    """What :meth:`MLP.train` returns: the kept network and how its training went."""

    network: Network
    epochs_run: int
    converged: bool | None
    restarts: dict | None
    train_loss: float
    hessian: dict
    train_seconds: float


def plain(network, z, aux):
    """The black box's output map: N(z) (``aux`` unused)."""
    del aux
    return network(z)


@functools.lru_cache(maxsize=None)
def objectives(output):
    """The loss mean((output − target)²) and the residuals output − target of ``output``,
    over data (z, aux, target): one function object each per output map (compiled once)."""

    def residuals(network, data):
        z, aux, target = data
        return output(network, z, aux) - target

    def loss(network, data):
        z, aux, target = data
        return training.mean_squared(output(network, z, aux), target)

    return loss, residuals


#: The most training rows the Hessian's diagnostics look at (a seeded sample beyond): a few
#: GB of forward-over-reverse tangents for the default network.
HESSIAN_ROWS = 1024


class MLP(Regressor):
    """y ≈ σ_y · N((x − μ_x)/σ_x) + μ_y with N a fully connected network.

    The default recipe: two tanh layers of 32, Adam with a cosine-decayed learning rate over
    full-batch epochs (mini-batches of ``batch_size`` rows, shuffled every epoch, where the
    training data have more: by default :data:`training.BATCH_ROWS`), early stopping on a held-out
    validation fraction of the training data (the best validation parameters are kept), then an L-BFGS polish that is kept only if it
    lowers the validation loss. ``optimiser="lm"`` fits by Levenberg–Marquardt instead (the
    autograd lecture's least squares), ``"gd"`` by plain gradient descent (the shot-put
    lecture's). ``restarts`` fits from that many seeds and keeps the lowest loss; the summary
    shows how far apart the restarts' parameters are. ``dtype="float32"`` trains in single
    precision (faster on large networks); predictions are returned as float64.
    ``scale_output=False`` trains on y itself (μ_y = 0, σ_y = 1).

    Parameters
    ----------
    widths : sequence of int
        Hidden layer widths, each ≥ 1.
    activation : str
        One of ``"tanh"``, ``"sigmoid"``, ``"relu"``, ``"gelu"``, ``"softplus"``.
    init : str
        Weight initialisation: ``"default"`` (Equinox's) or ``"glorot"``.
    optimiser : str
        ``"adam"``, ``"gd"`` (plain gradient descent) or ``"lm"`` (Levenberg–Marquardt).
    learning_rate : float
        First-order step size, finite and > 0.
    schedule : str
        ``"constant"`` or ``"cosine"`` (decayed over the run).
    epochs : int
        First-order epochs, ≥ 1.
    validation : float
        Fraction of the training rows held out for early stopping, in [0, 1) (none under ``"lm"``).
    patience : int or None
        Epochs without a better validation loss before stopping, ≥ 1; None: never stop early.
    polish : int
        L-BFGS steps after the first-order run, ≥ 0 (0: none).
    lm_steps : int
        Levenberg–Marquardt steps, ≥ 1 (``optimiser="lm"`` only).
    restarts : int
        Fits from that many seeds, ≥ 1; the lowest validation loss is kept.
    seed : int
        Seed of the initialisation, the split and the shuffles, in [0, 2**63 − 1].
    dtype : str
        ``"float64"`` or ``"float32"`` (training precision).
    scale_output : bool
        Whether to standardise y before training.
    batch_size : int or None
        Mini-batch rows, ≥ 1; None: ``training.BATCH_ROWS`` (32768).

    Attributes
    ----------
    x_scaler_ : Scaler
        Mean and standard deviation of each column of X.
    y_scaler_ : Scaler
        The output's shift and scale (in the unit of y, m).
    network_ : Network
        The trained network N.
    epochs_run_ : int
        Epochs the kept restart ran (0 for Levenberg–Marquardt).
    converged_ : bool or None
        Levenberg–Marquardt's verdict; None for a first-order fit.
    restarts_ : dict or None
        How far apart the restarts ended (None for one restart).
    train_loss_ : float
        Final training loss, mean squared error in standardised units.
    hessian_ : dict
        Report on the Hessian of the training loss at the kept network.
    train_seconds_ : float
        Wall-clock training time in s.

    Raises
    ------
    ValueError
        If a hyperparameter breaks its constraint (named with its value).
    """

    name = "mlp"
    fitted_arrays = ("x_scaler", "y_scaler", "network")
    interval_method = LAST_LAYER
    fitted_facts = ("epochs_run", "converged", "restarts", "train_loss", "hessian", "train_seconds")

    constraints = {"widths": WIDTHS, "activation": OneOf(tuple(ACTIVATIONS)), "init": OneOf(INITS),
                   "optimiser": OneOf(OPTIMISERS), "learning_rate": RATE, "schedule": OneOf(SCHEDULES),
                   "epochs": EPOCHS, "validation": Real(0.0, 1.0), "patience": Optional(Integer(1)),
                   "polish": STEPS, "lm_steps": Integer(1), "restarts": Integer(1), "seed": SEED,
                   "dtype": OneOf(tuple(DTYPES)), "scale_output": Boolean(), "batch_size": BATCH_SIZE}

    def __init__(self, *, widths=(32, 32), activation="tanh", init="default", optimiser="adam",
                 learning_rate=3e-3, schedule="cosine", epochs=4000, validation=0.1, patience=800,
                 polish=300, lm_steps=2000, restarts=1, seed=0, dtype="float64", scale_output=True, batch_size=None):
        self.widths, self.activation, self.init, self.optimiser = widths, activation, init, optimiser
        self.learning_rate, self.schedule, self.epochs = learning_rate, schedule, epochs
        self.validation, self.patience, self.polish = validation, patience, polish
        self.lm_steps, self.restarts, self.seed, self.dtype = lm_steps, restarts, seed, dtype
        self.scale_output, self.batch_size = scale_output, batch_size
        self.check_params()

    @classmethod
    def blog(cls, seed: int = 0, epochs: int = 1000) -> MLP:
        """The blog post's network: 2-256-256-1, sigmoid, Adam (lr 0.01), 1000 full-batch epochs.

        Parameters
        ----------
        seed : int
            Seed of the initialisation.
        epochs : int
            Adam epochs, ≥ 1.

        Returns
        -------
        model : MLP
            The unfitted recipe.
        """
        return cls(widths=(256, 256), activation="sigmoid", optimiser="adam", learning_rate=0.01,
                   schedule="constant", epochs=epochs, validation=0.0, patience=None, polish=0, seed=seed)

    @classmethod
    def lecture(cls, seed: int = 0, epochs: int = 50_000) -> MLP:
        """The shot-put lecture's decoder: 2-250-500-500-250-1, tanh, Glorot-uniform weights,
        plain gradient descent with η = 1e-4, 50 000 full-batch epochs (float32, as in its JAX).
        Its inputs are standardised and its targets are not: the loss is in m², which is what
        makes η = 1e-4 a workable step (on standardised targets it would crawl).

        Parameters
        ----------
        seed : int
            Seed of the initialisation.
        epochs : int
            Gradient-descent epochs, ≥ 1.

        Returns
        -------
        model : MLP
            The unfitted recipe.
        """
        return cls(widths=(250, 500, 500, 250), activation="tanh", init="glorot", optimiser="gd",
                   learning_rate=1e-4, schedule="constant", epochs=epochs, validation=0.0,
                   patience=None, polish=0, seed=seed, dtype="float32", scale_output=False)

    # Fitting -------------------------------------------------------------------------------
    def _fit(self, X, y, progress):
        self.x_scaler_ = Scaler.fit(X)
        self.y_scaler_ = Scaler.fit(y) if self.scale_output else Scaler.identity()
        keep(self, self.train(self.x_scaler_.forward(X), np.zeros(len(y)), self.y_scaler_.forward(y), plain,
                              progress))

    def train(self, z, aux, target, output, progress=QUIET, start_at_zero: bool = False) -> NetworkFit:
        """Fit a network N of this recipe so that ``output(N, z, aux)`` ≈ ``target`` (all in
        standardised units; ``z`` (n, d), ``aux`` and ``target`` (n,)). ``start_at_zero``
        zeroes the last layer at initialisation, so N starts as the constant 0.

        Parameters
        ----------
        z : array_like
            Standardised inputs, shape (n, d).
        aux : array_like
            Auxiliary data passed to ``output``, shape (n,) (a prior's range over its scale).
        target : array_like
            Standardised targets, shape (n,).
        output : callable
            ``output(network, z, aux)`` → predictions (n,); a module-level function, compiled once.
        progress : ProgressMeter
            Shows the epochs; quiet by default.
        start_at_zero : bool
            Whether the network's last layer starts at zero.

        Returns
        -------
        fit : NetworkFit
            The kept network, epochs run, convergence, restarts, training loss, Hessian report and time (s).
        """
        dtype = DTYPES[self.dtype]
        # Cast and split in NumPy, then on the device (eager JAX indexing compiles programs).
        train, validation = self._split(tuple(np.asarray(a).astype(dtype) for a in (z, aux, target)))
        train, validation = jax.device_put((train, validation))
        loss, residuals = objectives(output)
        start = time.perf_counter()
        task = progress.task(self.name, self.epochs * self.restarts)
        keys = [jax.random.fold_in(jax.random.key(self.seed), r) for r in range(self.restarts)]
        fits = [self._fit_once(self.new_network(z.shape[1], key, start_at_zero), train, validation, loss,
                               residuals, task, r * self.epochs) for r, key in enumerate(keys)]
        task.close()
        seconds = time.perf_counter() - start
        networks = [network for network, _, _ in fits]
        check = validation if validation is not None else train
        best, restarts = best_of([float(training.evaluate(loss, n, check)) for n in networks], networks,
                                 self.restarts > 1)
        network, epochs_run, converged = fits[best]
        return NetworkFit(network, epochs_run, converged, restarts, float(training.evaluate(loss, network, train)),
                          hessian_report(loss, network, self._sample(train)), seconds)

    def _sample(self, data):
        """The data, or a seeded random :data:`HESSIAN_ROWS` rows of them where there are more:
        the Hessian's diagnostics (one forward-over-reverse pass per parameter, all at once:
        memory ∝ rows × parameters) on a sample."""
        n = data[0].shape[0]
        if n <= HESSIAN_ROWS:
            return data
        rows = np.sort(np.random.default_rng(self.seed).choice(n, HESSIAN_ROWS, replace=False))
        return tuple(np.asarray(a)[rows] for a in data)  # (NumPy: an eager JAX gather compiles a program)

    def _split(self, data):
        """Training and validation parts (a seeded shuffle) of the standardised data."""
        n = data[0].shape[0]
        n_validation = int(round(self.validation * n)) if self.optimiser != "lm" else 0
        if n_validation == 0:
            return data, None
        order = np.random.default_rng(self.seed).permutation(n)
        held, kept = order[:n_validation], order[n_validation:]
        return tuple(a[kept] for a in data), tuple(a[held] for a in data)

    def _fit_once(self, network, train, validation, loss, residuals, task, offset):
        """(network, epochs run, converged): converged is Levenberg–Marquardt's verdict, None
        for a first-order run (which stops by early stopping or at its epoch count)."""
        if self.optimiser == "lm":
            network, converged = training.least_squares(network, residuals, train, self.lm_steps)
            return network, 0, converged
        batch = self.batch_size or training.BATCH_ROWS
        steps = self.epochs * training.batches_per_epoch(train[0].shape[0], batch)
        optimiser = training.optimiser(self.optimiser, self.learning_rate, self.schedule, steps)
        network, epochs = training.first_order(network, loss, train, validation, optimiser, self.epochs,
                                               self.patience, _Shifted(task, offset), batch=batch, seed=self.seed)
        if self.polish:
            polished = training.lbfgs(network, loss, train, self.polish)
            check = validation if validation is not None else train
            if float(training.evaluate(loss, polished, check)) < float(training.evaluate(loss, network, check)):
                network = polished
        return network, epochs, None

    def new_network(self, n_in: int, key, start_at_zero: bool = False) -> Network:
        """A freshly initialised network of this recipe with ``n_in`` inputs.

        Parameters
        ----------
        n_in : int
            Number of inputs.
        key : jax.Array
            JAX random key of the initialisation.
        start_at_zero : bool
            Whether the last layer starts at zero (N ≡ 0).

        Returns
        -------
        network : Network
            A network with one output, of this recipe's widths, activation, init and dtype.
        """
        network = Network(n_in, self.widths, self.activation, self.init, key, DTYPES[self.dtype])
        return network.zero_last() if start_at_zero else network

    # Prediction, persistence, summary --------------------------------------------------------
    def _predict(self, X):
        z = self.x_scaler_.forward(jnp.asarray(X)).astype(DTYPES[self.dtype])
        return self.y_scaler_.inverse(plain(self.network_, z, None).astype(jnp.float64))

    def _sensitivities(self, X):
        return last_layer_jacobian(self, X)

    def _arrays_like(self):
        return arrays_like(self, self)

    def n_params(self):
        """Number of fitted numbers: the network's weights and biases (the scalers not counted).

        Returns
        -------
        n : int
            The count.
        """
        return network_size(self)

    def summary(self):
        """Facts about the fitted model (see ``Estimator.summary``), with the training's diagnostics.

        Returns
        -------
        summary : dict
            ``diagnostics``: ``train_loss``, ``epochs_run``, ``converged``, ``hessian``, ``restarts``, besides
            the common keys.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        return {**super().summary(), "diagnostics": training_diagnostics(self)}


# What a model that keeps a NetworkFit (an MLP, a Hybrid) shares: its fitted attributes are the
# NetworkFit's fields plus x_scaler_ and y_scaler_.
def keep(model: Regressor, fitted: NetworkFit) -> None:
    """Set ``model``'s fitted attributes (``network_``, ``epochs_run_``, …) from ``fitted``."""
    for name, value in fitted._asdict().items():
        setattr(model, name + "_", value)


def arrays_like(model: Regressor, recipe: MLP) -> dict:
    """A placeholder of the saved arrays: the scalers and a network of ``recipe``'s shape."""
    return {"x_scaler": Scaler.like(model.n_features_), "y_scaler": Scaler.like(None),
            "network": recipe.new_network(model.n_features_, jax.random.key(0))}


def network_size(model: Regressor) -> int:
    """The network's weights and biases (the scalers are not counted as parameters)."""
    return int(sum(np.size(leaf) for leaf in jax.tree.leaves(model.network_)))


def training_diagnostics(model: Regressor) -> dict:
    """How the network's training went: loss, epochs, LM convergence, Hessian, restarts."""
    return {"train_loss": model.train_loss_, "epochs_run": model.epochs_run_, "converged": model.converged_,
            "hessian": model.hessian_, "restarts": model.restarts_}


class _Shifted:
    """A progress task seen from one restart: its epochs count after the earlier restarts'."""

    def __init__(self, task, offset):
        self.task, self.offset = task, offset

    def update(self, done):
        self.task.update(self.offset + done)
