"""Drag laws: the aerodynamic force on the projectile as a function of its velocity.

Every law is an Equinox module whose parameters are PyTree leaves (so ``jax.grad`` works with
respect to them) and exposes ``force(vx, vy) -> (fx, fy)`` in newtons, velocities in m/s.
Any module with such a ``force`` can be given to :class:`~hybridlab.physics.Projectile`;
laws without a closed-form motion are integrated numerically.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from hybridlab.physics.validation import parameter


def speed_of(vx, vy):
    """|v| = √(vx² + vy²), with a zero (not NaN) gradient at v = 0: a dropped ball starts at rest."""
    squared = vx**2 + vy**2
    positive = squared > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, squared, 1.0)), 0.0)


class NoDrag(eqx.Module):
    """No aerodynamic force: F = 0 (the vacuum, or a heavy slow body)."""

    def force(self, vx, vy):
        """F = (0, 0) N."""
        return jnp.zeros_like(vx), jnp.zeros_like(vy)


class LinearDrag(eqx.Module):
    """Stokes (viscous) drag F = -k·v, with k in kg/s (the lecture's shot put: k = 0.45 in its
    text, 4 × 0.45 = 1.8 in its code)."""

    k: jax.Array

    def __init__(self, k=0.45):
        self.k = parameter("k", k, positive=False)

    def force(self, vx, vy):
        """F = -k (vx, vy) N."""
        return -self.k * vx, -self.k * vy


class QuadraticDrag(eqx.Module):
    """Newton (form) drag F = -c·|v|·v, with c = ½ ρ C_d A in kg/m (a baseball: c ≈ 9e-4)."""

    c: jax.Array

    def __init__(self, c=9e-4):
        self.c = parameter("c", c, positive=False)

    def force(self, vx, vy):
        """F = -c |v| (vx, vy) N."""
        speed = speed_of(vx, vy)
        return -self.c * speed * vx, -self.c * speed * vy
