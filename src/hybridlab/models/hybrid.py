"""Rung 6: a physics prior and a learned correction, composed."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from hybridlab.estimators import from_params
from hybridlab.estimators.params import PHYSICS, Check, OneOf
from hybridlab.models.base import Regressor, Scaler
from hybridlab.models.mlp import MLP, arrays_like, keep, network_size, training_diagnostics
from hybridlab.physics import Projectile
from hybridlab.uncertainty.intervals import LAST_LAYER, last_layer_jacobian


def multiplicative(network, z, aux):
    """ŷ/s = (D_prior/s)·(1 + N(z))."""
    return aux * (1.0 + network(z))


def additive(network, z, aux):
    """ŷ/s = D_prior/s + N(z)."""
    return aux + network(z)


CORRECTIONS = {"multiplicative": multiplicative, "additive": additive}
#: The correction network's hidden widths unless one is given (two tanh layers of 16).
NETWORK_WIDTHS = (16, 16)


def _recipe_or_none(network) -> None:
    """ValueError unless ``network`` is None, an MLP or an MLP's record."""
    if not (network is None or isinstance(network, (MLP, dict))):
        raise ValueError("must be an MLP (its training recipe)")
    if isinstance(network, dict) and network.get("model") != MLP.name:
        raise ValueError("must be an MLP's record (its training recipe)")


class Hybrid(Regressor):
    """The range of a (possibly wrong or incomplete) physical model, corrected by a network
    N trained end to end on the inputs standardised, z = (x − μ)/σ:

    - ``correction="multiplicative"`` (default): ŷ = D_prior(v, θ) · (1 + N(z)). It keeps the
      prior's limits: zero range at zero speed (and for a flat shot from the ground). Away
      from the data N's tanh units saturate and ŷ grows like the prior: a right law
      extrapolates, a wrong law's growth is inherited.
    - ``correction="additive"``: ŷ = D_prior(v, θ) + s·N(z), s the RMS of the training y. It
      corrects a prior that is off by an amount rather than a factor (a launch-height offset,
      a missing constant), and does not keep the prior's zeros.

    N's last layer starts at zero, so training starts from the prior. ``prior`` is a
    Projectile or its spec; ``network`` an unfitted :class:`MLP` whose recipe trains N
    (default: two tanh layers of 16, the MLP's defaults otherwise; its ``scale_output`` is not
    used: ŷ is scaled by s without a shift, so it stays 0 where the prior is 0). X columns:
    speed (m/s), angle (rad).

    Parameters
    ----------
    prior : Projectile or dict or None
        The physical model whose range D_prior (m) is corrected; None: ``Projectile()`` (no drag).
    correction : str
        ``"multiplicative"`` or ``"additive"``.
    network : MLP or dict or None
        The unfitted MLP (or its record) whose recipe trains N; None: two tanh layers of 16.

    Attributes
    ----------
    x_scaler_ : Scaler
        Mean and standard deviation of each column of X.
    y_scaler_ : Scaler
        Shift 0 and scale s, the RMS of the training y (m).
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
        If ``correction`` is not one of the two, ``prior`` is not a valid projectile or ``network`` not an
        MLP (or its record). A fit raises one unless X has 2 columns.
    """

    name = "hybrid"
    fitted_arrays = ("x_scaler", "y_scaler", "network")
    interval_method = LAST_LAYER
    fitted_facts = MLP.fitted_facts

    constraints = {"prior": PHYSICS, "correction": OneOf(tuple(CORRECTIONS)), "network": Check(_recipe_or_none,
                                                                                               "an MLP")}

    def __init__(self, prior=None, *, correction="multiplicative", network=None):
        self.prior, self.correction, self.network = prior, correction, network
        self.check_params()

    def _check_together(self) -> None:
        self.projectile()
        self.recipe()

    def projectile(self) -> Projectile:
        """The prior's Projectile (``Projectile()`` when ``prior`` is None).

        Returns
        -------
        projectile : Projectile
            ``prior``, or the projectile its spec describes.

        Raises
        ------
        ValueError
            If ``prior`` is an invalid spec.
        """
        return self.prior if isinstance(self.prior, Projectile) else Projectile.from_spec(self.prior or {})

    def recipe(self) -> MLP:
        """The MLP whose recipe trains N (two tanh layers of 16 when ``network`` is None).

        Returns
        -------
        recipe : MLP
            ``network``, or the MLP its record describes.

        Raises
        ------
        ValueError
            If ``network`` is a record that does not describe a valid MLP.
        """
        network = MLP(widths=NETWORK_WIDTHS) if self.network is None else self.network
        return from_params(network) if isinstance(network, dict) else network

    def _prior_range(self, X):
        if X.shape[1] != 2:
            raise ValueError(f"X must have 2 columns (speed m/s, angle rad), got {X.shape[1]}")
        X = jnp.asarray(X)
        return self.projectile().range(X[:, 0], X[:, 1])

    def _fit(self, X, y, progress):
        prior = self._prior_range(X)
        # No shift: the output must stay exactly 0 where a multiplicative prior is 0.
        self.x_scaler_ = Scaler.fit(X)
        self.y_scaler_ = Scaler(jnp.zeros(()), jnp.asarray(float(np.sqrt(np.mean(y**2))) or 1.0))
        scale = float(self.y_scaler_.scale)
        keep(self, self.recipe().train(self.x_scaler_.forward(X), prior / scale, y / scale,
                                      CORRECTIONS[self.correction], progress, start_at_zero=True))

    def _predict(self, X):
        z = self.x_scaler_.forward(jnp.asarray(X)).astype(self.network_.layers[0].weight.dtype)
        aux = (self._prior_range(X) / self.y_scaler_.scale).astype(z.dtype)
        out = CORRECTIONS[self.correction](self.network_, z, aux).astype(jnp.float64)
        return self.y_scaler_.inverse(out)

    def _sensitivities(self, X):
        return last_layer_jacobian(self, X)

    def _arrays_like(self):
        return arrays_like(self, self.recipe())

    def n_params(self):
        """Number of fitted numbers: the network's weights and biases (the scalers not counted).

        Returns
        -------
        n : int
            The count.
        """
        return network_size(self)

    def summary(self):
        """Facts about the fitted model (see ``Estimator.summary``), with the prior and the training.

        Returns
        -------
        summary : dict
            ``prior`` (in words), ``formula`` and ``diagnostics`` (``train_loss``, ``epochs_run``,
            ``converged``, ``hessian``, ``restarts``), besides the common keys.

        Raises
        ------
        ValueError
            If the model is not fitted.
        """
        out = super().summary()
        prior = self.projectile().label()
        out["prior"] = prior
        shape = "·(1 + N(v, θ))" if self.correction == "multiplicative" else " + s·N(v, θ)"
        out["formula"] = f"D_prior{shape}, prior: {prior}"
        out["diagnostics"] = training_diagnostics(self)
        return out
