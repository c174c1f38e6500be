"""Rung 5, the grey box: the physics with unknown parameters, fitted to the data."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.models import training
from hybridlab.models.base import Regressor
from hybridlab.models.diagnostics import hessian_report, lowest, restart_report, standard_errors
from hybridlab.models.priors import PARAMETERS, check_unknown, describe, label, projectile_from, with_parameters
from hybridlab.physics import LinearDrag, NoDrag, Projectile


class PhysicsFit(Regressor):
    """ŷ = D(v, θ; p): the range of a ``Projectile`` whose parameters named in ``unknown``
    (any of k, c, g, mass, height) are fitted by Levenberg–Marquardt through the
    differentiable range; X columns are speed (m/s) and angle (rad).

    ``physics`` gives the known parameters and the starting guesses of the unknown ones
    (a Projectile or its JSON description). The fit works in standardised units: residuals
    r_i = (D_i − y_i)/σ_y and log-parameters u = log(p/p₀), which keeps p > 0 and makes every
    unknown O(1). Standard errors come from the Jacobian J = ∂D/∂p at the optimum:
    Cov(p) = s² (JᵀJ)⁻¹ with s² = Σ(D_i − y_i)²/(n − q) for q unknowns (infinite for a
    parameter the data cannot determine). ``restarts`` > 1 also starts from u ~ N(0, 1) (each
    guess scaled by e^±1 or so, from ``seed``) and keeps the lowest loss; the restart report
    shows whether the starts agree (an identifiable fit) or reach equal loss apart.
    """

    name = "physics"

    def __init__(self, physics=None, unknown=("k",), steps=200, restarts=1, seed=0):
        physics = {"drag": "linear", "k": 1.0} if physics is None else physics
        self.physics = describe(physics) if isinstance(physics, Projectile) else dict(physics)
        start = projectile_from(self.physics)  # validates the description now, not at fit time
        self.unknown = check_unknown(self.physics, unknown)
        self.steps, self.restarts, self.seed = int(steps), int(restarts), int(seed)
        if self.restarts < 1:
            raise ValueError(f"restarts = {restarts}: must be >= 1")
        for name in self.unknown:
            # The projectile's value, not the description's: an omitted height defaults to 0.
            value = float(PARAMETERS[name][0](start))
            if not value > 0:
                raise ValueError(f"starting guess {name} = {value:g}: must be > 0 (fitted in log scale)")

    def config(self):
        return {"physics": self.physics, "unknown": list(self.unknown), "steps": self.steps,
                "restarts": self.restarts, "seed": self.seed}

    def _start(self) -> tuple[Projectile, jnp.ndarray]:
        start = projectile_from(self.physics)
        return start, jnp.stack([PARAMETERS[name][0](start) for name in self.unknown])

    def _closed_form(self) -> bool:
        return isinstance(projectile_from(self.physics).drag, (NoDrag, LinearDrag))

    def _range(self, values, X):
        if self._closed_form():
            return with_parameters(self._start()[0], self.unknown, values).range(X[:, 0], X[:, 1])

        def range_one(p, x):  # builds its own Projectile: a custom_jvp must not close over tracers
            return with_parameters(self._start()[0], self.unknown, p).range(x[0], x[1])

        return _shotwise(range_one)(values, X)

    def _fit(self, X, y):
        if X.shape[1] != 2:
            raise ValueError(f"X must have 2 columns (speed m/s, angle rad), got {X.shape[1]}")
        _, p0 = self._start()
        scale = float(np.std(y)) or 1.0
        data = (jnp.asarray(X), jnp.asarray(y), p0, scale)
        fits = [training.least_squares(u0, self._residuals, data, self.steps) for u0 in self._starts()]
        self.restarts_ = None
        if self.restarts > 1:
            losses = [float(self._loss(u, data)) for u, _ in fits]
            self.restarts_ = restart_report(losses, [p0 * jnp.exp(u) for u, _ in fits])
            fits = [fits[lowest(losses)]]
        u, self.converged_ = fits[0]
        self.values_ = p0 * jnp.exp(u)
        linearised = jax.jit(self._linearised)
        r, J_u = linearised(u, data)
        # Back to SI units: D − y = σ_y r and ∂D/∂p = σ_y (∂r/∂u) / p, as u = log(p/p₀).
        self._uncertainty(scale * np.asarray(r), scale * np.asarray(J_u) / np.asarray(self.values_))
        if self._closed_form():
            self.hessian_ = hessian_report(self._loss, u, data)
        else:
            def gradient(u):  # ∇L = (2/n) Jᵀr from the compiled Jacobian: no second compile of the ODE's
                r, J = linearised(u, data)
                return 2 / len(y) * J.T @ r

            self.hessian_ = hessian_report(self._loss, u, data, mode="gradient-differences", gradient=gradient)

    def _starts(self):
        """Log-parameter starts: the given guesses (u = 0), then seeded draws u ~ N(0, 1)."""
        q = len(self.unknown)
        draws = np.random.default_rng(self.seed).normal(size=(self.restarts - 1, q))
        return [jnp.zeros(q)] + [jnp.asarray(u) for u in draws]

    def _residuals(self, u, data):
        X, y, p0, scale = data
        return (self._range(p0 * jnp.exp(u), X) - y) / scale

    def _loss(self, u, data):
        return jnp.mean(self._residuals(u, data) ** 2)

    def _linearised(self, u, data):
        """The residuals r(u) and their Jacobian ∂r/∂u, in one pass (forward mode)."""
        return self._residuals(u, data), jax.jacfwd(self._residuals)(u, data)

    def _uncertainty(self, residual, J):
        """Standard errors and training RMSE from D − y and ∂D/∂p at the optimum (SI units)."""
        self.stderr_ = standard_errors(J, residual)
        self.rmse_ = float(np.sqrt(np.mean(residual**2)))

    def _predict(self, X):
        return self._range(self.values_, jnp.asarray(X))

    def fitted(self) -> Projectile:
        """The Projectile with the fitted parameter values."""
        start, _ = self._start()
        return with_parameters(start, self.unknown, self.values_)

    def physics_estimates(self) -> dict[str, dict[str, float]]:
        """{name: {"value": estimate, "stderr": standard error}} in SI units."""
        return {name: {"value": float(v), "stderr": float(s)}
                for name, v, s in zip(self.unknown, np.asarray(self.values_), self.stderr_)}

    def _arrays(self):
        return {"values": self.values_}

    def _arrays_like(self):
        return {"values": jnp.zeros(len(self.unknown))}

    def _set_arrays(self, arrays):
        self.values_ = arrays["values"]

    def _metadata(self):
        return {"stderr": self.stderr_.tolist(), "train_rmse": self.rmse_, "converged": self.converged_,
                "hessian": self.hessian_, "restarts": self.restarts_}

    def _set_metadata(self, metadata):
        # JSON has no infinity: an undetermined parameter's stderr is saved as null.
        self.stderr_ = np.array([np.inf if e is None else e for e in metadata["stderr"]], dtype=float)
        self.rmse_ = metadata["train_rmse"]
        self.converged_, self.hessian_ = metadata["converged"], metadata["hessian"]
        self.restarts_ = metadata.get("restarts")

    def summary(self):
        out = super().summary()
        fitted = describe(self.fitted())
        out["physics"] = self.physics_estimates()
        out["formula"] = f"range of {label(fitted)}"
        out["diagnostics"] = {"train_rmse": self.rmse_, "converged": self.converged_, "hessian": self.hessian_,
                              "restarts": self.restarts_}
        return out


def _shotwise(range_one):
    """D(p, X)_i = range_one(p, X_i), batched, with a forward-mode derivative built from
    per-shot reverse-mode gradients: ∂D_i = ∇_p D_i · dp + ∇_x D_i · dX_i.

    Why: a Diffrax solve has a custom VJP, so forward mode cannot go through it, and a
    reverse-mode Jacobian of the batched solve costs one backward pass over all n shots per
    row, n² work in all. The shots are independent, so n per-shot gradients (one vmapped
    backward pass) give the same Jacobian: 222x faster for 800 baseball shots
    (benchmarks/physics_fit_jacobian.py).
    """
    value_and_grads = jax.vmap(jax.value_and_grad(range_one, argnums=(0, 1)), in_axes=(None, 0))

    @jax.custom_jvp
    def batched(values, X):
        return jax.vmap(range_one, in_axes=(None, 0))(values, X)

    @batched.defjvp
    def batched_jvp(primals, tangents):
        (values, X), (d_values, d_X) = primals, tangents
        out, (grad_values, grad_X) = value_and_grads(values, X)
        return out, grad_values @ d_values + jnp.sum(grad_X * d_X, axis=1)

    return batched
