"""Rung 6: a physics prior times a learned correction."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from hybridlab.models.base import Scaler
from hybridlab.models.mlp import MLP
from hybridlab.models.priors import describe, label, projectile_from
from hybridlab.physics import Projectile


#: MLP options a Hybrid's construction fixes (see the class docstring): not options of its own.
FIXED = ("init", "scale_output")


class Hybrid(MLP):
    """ŷ(v, θ) = D_prior(v, θ) · (1 + N((x − μ)/σ)): the range of a (possibly wrong or
    incomplete) physical model, corrected by a small network N trained end to end.

    The correction is multiplicative, so the model keeps the prior's limits: zero range at
    zero speed (and for a flat shot from the ground), and the prior itself when N ≡ 0 — N's
    last layer starts at zero, so training starts from the prior. Away from the training data
    N's tanh units saturate and the model grows like the prior: a right law extrapolates, a
    wrong law's growth is inherited. X columns: speed (m/s), angle (rad). The training recipe
    and its options are the MLP's (default: tanh layers of 16).
    """

    name = "hybrid"

    def __init__(self, prior=None, widths=(16, 16), **options):
        prior = {"drag": "none"} if prior is None else prior
        self.prior = describe(prior) if isinstance(prior, Projectile) else dict(prior)
        self._prior = projectile_from(self.prior)
        for fixed in FIXED:
            if fixed in options:
                raise ValueError(f"{fixed} = {options[fixed]!r}: a Hybrid fixes its {fixed}; leave it out")
        super().__init__(widths=widths, init="zero-last", **options)

    def config(self):
        return {"prior": self.prior, **{k: v for k, v in super().config().items() if k not in FIXED}}

    def _auxiliary(self, X):
        if X.shape[1] != 2:
            raise ValueError(f"X must have 2 columns (speed m/s, angle rad), got {X.shape[1]}")
        return self._prior.range(jnp.asarray(X[:, 0]), jnp.asarray(X[:, 1]))

    def _output_scaler(self, y):
        # No shift: the output must stay exactly 0 where the prior is 0.
        return Scaler(jnp.zeros(()), jnp.asarray(float(np.sqrt(np.mean(y**2))) or 1.0))

    @staticmethod
    def _standardised_output(network, z, auxiliary):
        return auxiliary * (1.0 + network(z))

    def summary(self):
        out = super().summary()
        out["prior"] = label(self.prior)
        out["formula"] = f"D_prior·(1 + N(v, θ)), prior: {label(self.prior)}"
        return out
