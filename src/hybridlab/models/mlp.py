"""Rung 3, the black box: a multilayer perceptron fitted to standardised data."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hybridlab.models import training
from hybridlab.models.base import Regressor, Scaler
from hybridlab.models.diagnostics import hessian_report, lowest, restart_report
from hybridlab.models.network import Network

OPTIMISERS = ("adam", "gd", "lm")
SCHEDULES = ("constant", "cosine")
DTYPES = {"float32": jnp.float32, "float64": jnp.float64}


class MLP(Regressor):
    """y ≈ σ_y · N((x − μ_x)/σ_x) + μ_y with N a fully connected network.

    The default recipe: two tanh layers of 32, Adam with a cosine-decayed learning rate over
    full-batch epochs, early stopping on a held-out validation fraction of the training data
    (the best validation parameters are kept), then an L-BFGS polish that is kept only if it
    lowers the validation loss. ``optimiser="lm"`` fits by Levenberg–Marquardt instead (the
    autograd lecture's least squares), ``"gd"`` by plain gradient descent (the shot-put
    lecture's). ``restarts`` fits from that many seeds and keeps the lowest loss; the summary
    shows how far apart the restarts' parameters are. ``dtype="float32"`` trains in single
    precision (faster on large networks); predictions are returned as float64.
    """

    name = "mlp"

    def __init__(self, widths=(32, 32), activation="tanh", init="default", optimiser="adam",
                 learning_rate=3e-3, schedule="cosine", epochs=4000, validation=0.1, patience=800,
                 polish=300, lm_steps=2000, restarts=1, seed=0, dtype="float64", scale_output=True):
        self.widths = tuple(int(w) for w in widths)
        self.activation, self.init, self.optimiser = activation, init, optimiser
        self.learning_rate, self.schedule, self.epochs = float(learning_rate), schedule, int(epochs)
        self.validation, self.patience, self.polish = float(validation), patience, int(polish)
        self.lm_steps, self.restarts, self.seed, self.dtype = int(lm_steps), int(restarts), int(seed), dtype
        self.scale_output = bool(scale_output)
        self._check_config()

    @classmethod
    def blog(cls, seed: int = 0) -> MLP:
        """The blog post's network: 2-256-256-1, sigmoid, Adam (lr 0.01), 1000 full-batch epochs."""
        return cls(widths=(256, 256), activation="sigmoid", optimiser="adam", learning_rate=0.01,
                   schedule="constant", epochs=1000, validation=0.0, patience=None, polish=0, seed=seed)

    @classmethod
    def lecture(cls, seed: int = 0, epochs: int = 50_000) -> MLP:
        """The shot-put lecture's decoder: 2-250-500-500-250-1, tanh, Glorot-uniform weights,
        plain gradient descent with η = 1e-4, 50 000 full-batch epochs (float32, as in its JAX).
        Its inputs are standardised and its targets are not: the loss is in m², which is what
        makes η = 1e-4 a workable step (on standardised targets it would crawl)."""
        return cls(widths=(250, 500, 500, 250), activation="tanh", init="glorot", optimiser="gd",
                   learning_rate=1e-4, schedule="constant", epochs=epochs, validation=0.0,
                   patience=None, polish=0, seed=seed, dtype="float32", scale_output=False)

    def config(self):
        return {"widths": list(self.widths), "activation": self.activation, "init": self.init,
                "optimiser": self.optimiser, "learning_rate": self.learning_rate, "schedule": self.schedule,
                "epochs": self.epochs, "validation": self.validation, "patience": self.patience,
                "polish": self.polish, "lm_steps": self.lm_steps, "restarts": self.restarts,
                "seed": self.seed, "dtype": self.dtype, "scale_output": self.scale_output}

    def _check_config(self):
        for name, value, allowed in (("optimiser", self.optimiser, OPTIMISERS),
                                     ("schedule", self.schedule, SCHEDULES), ("dtype", self.dtype, tuple(DTYPES))):
            if value not in allowed:
                raise ValueError(f"{name} = {value!r}: must be one of {allowed}")
        if not 0.0 <= self.validation < 1.0:
            raise ValueError(f"validation = {self.validation}: must be in [0, 1)")
        for name in ("epochs", "restarts", "lm_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} = {getattr(self, name)}: must be >= 1")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate = {self.learning_rate}: must be > 0")

    # What the network computes: overridden by Hybrid ----------------------------------------
    def _auxiliary(self, X):
        """Fixed per-row inputs of the output map besides the network (none for a pure MLP)."""
        return jnp.zeros(X.shape[0])

    def _output_scaler(self, y) -> Scaler:
        if self.scale_output:
            return Scaler.fit(y)
        return Scaler(jnp.zeros(()), jnp.ones(()))  # the identity: train on y itself

    @staticmethod
    def _standardised_output(network, z, auxiliary):
        """The model's output in standardised units, (y − μ_y)/σ_y."""
        del auxiliary
        return network(z)

    # Fitting -------------------------------------------------------------------------------
    def _fit(self, X, y):
        self.x_scaler_, self.y_scaler_ = Scaler.fit(X), self._output_scaler(y)
        dtype = DTYPES[self.dtype]
        z = self.x_scaler_.forward(jnp.asarray(X)).astype(dtype)
        target = self.y_scaler_.forward(jnp.asarray(y)).astype(dtype)
        auxiliary = (self._auxiliary(X) / self.y_scaler_.scale).astype(dtype)
        train, validation = self._split((z, auxiliary, target))
        start = time.perf_counter()
        fits = [self._fit_once(jax.random.fold_in(jax.random.key(self.seed), r), train, validation)
                for r in range(self.restarts)]
        self.train_seconds_ = time.perf_counter() - start
        networks = [network for network, _, _ in fits]
        losses = [float(self._loss(network, validation if validation is not None else train)) for network in networks]
        best = lowest(losses)
        self.network_, self.epochs_run_, self.converged_ = fits[best]
        self.restarts_ = restart_report(losses, networks) if self.restarts > 1 else None
        self.train_loss_ = float(self._loss(self.network_, train))
        self.hessian_ = hessian_report(self._loss, self.network_, train)

    def _split(self, data):
        """Training and validation parts (a seeded shuffle) of the standardised data."""
        n = data[0].shape[0]
        n_validation = int(round(self.validation * n)) if self.optimiser != "lm" else 0
        if n_validation == 0:
            return data, None
        order = np.random.default_rng(self.seed).permutation(n)
        held, kept = order[:n_validation], order[n_validation:]
        return tuple(a[kept] for a in data), tuple(a[held] for a in data)

    def _loss(self, network, data):
        z, auxiliary, target = data
        return training.mean_squared(self._standardised_output(network, z, auxiliary), target)

    def _residuals(self, network, data):
        z, auxiliary, target = data
        return self._standardised_output(network, z, auxiliary) - target

    def _fit_once(self, key, train, validation):
        """(network, epochs run, converged): converged is Levenberg–Marquardt's verdict, None
        for a first-order run (which stops by early stopping or at its epoch count)."""
        network = self._new_network(key)
        if self.optimiser == "lm":
            network, converged = training.least_squares(network, self._residuals, train, self.lm_steps)
            return network, 0, converged
        network, epochs = training.first_order(network, self._loss, train, validation, self._optax(),
                                               self.epochs, self.patience, self.progress)
        if self.polish:
            polished = training.lbfgs(network, self._loss, train, self.polish)
            check = validation if validation is not None else train
            if float(self._loss(polished, check)) < float(self._loss(network, check)):
                network = polished
        return network, epochs, None

    def _new_network(self, key):
        return Network(self.n_features_, self.widths, self.activation, self.init, key, DTYPES[self.dtype])

    def _optax(self):
        rate = self.learning_rate
        if self.schedule == "cosine":
            rate = optax.cosine_decay_schedule(self.learning_rate, self.epochs, alpha=1e-3)
        return optax.adam(rate) if self.optimiser == "adam" else optax.sgd(rate)

    # Prediction, persistence, summary --------------------------------------------------------
    def _predict(self, X):
        dtype = DTYPES[self.dtype]
        z = self.x_scaler_.forward(jnp.asarray(X)).astype(dtype)
        auxiliary = (self._auxiliary(X) / self.y_scaler_.scale).astype(dtype)
        out = self._standardised_output(self.network_, z, auxiliary).astype(jnp.float64)
        return self.y_scaler_.inverse(out)

    def _arrays(self):
        return {"x": self.x_scaler_, "y": self.y_scaler_, "network": self.network_}

    def _arrays_like(self):
        return {"x": Scaler.like(self.n_features_), "y": Scaler.like(None),
                "network": self._new_network(jax.random.key(0))}

    def _set_arrays(self, arrays):
        self.x_scaler_, self.y_scaler_, self.network_ = arrays["x"], arrays["y"], arrays["network"]

    def n_params(self):
        return int(sum(np.size(leaf) for leaf in jax.tree.leaves(self.network_)))

    def _metadata(self):
        return {"epochs_run": self.epochs_run_, "train_loss": self.train_loss_, "hessian": self.hessian_,
                "restarts": self.restarts_, "train_seconds": self.train_seconds_, "converged": self.converged_}

    def _set_metadata(self, metadata):
        self.epochs_run_, self.train_loss_ = metadata["epochs_run"], metadata["train_loss"]
        self.hessian_, self.restarts_ = metadata["hessian"], metadata["restarts"]
        self.train_seconds_, self.converged_ = metadata["train_seconds"], metadata.get("converged")

    def summary(self):
        out = super().summary()
        out["diagnostics"] = {"train_loss": self.train_loss_, "epochs_run": self.epochs_run_,
                              "converged": self.converged_, "hessian": self.hessian_, "restarts": self.restarts_}
        return out
