"""Motion without drag: the closed forms of the parabola, from any launch height.

With launch speed v, angle θ, height h and gravity g, and u = v sin θ:
x(t) = v cos θ · t,  y(t) = h + u t − g t²/2,
flight time T = (u + r)/g with r = √(u² + 2 g h), written as 2h/(r − u) when u < 0 so that a
downward throw does not cancel digits. All functions take scalars (the caller vectorises).
"""

from __future__ import annotations

import jax.numpy as jnp


def _safe_sqrt(x):
    """√x with a finite gradient at x = 0 (a shot at rest from the ground)."""
    positive = x > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1.0)), 0.0)


def trajectory(p, speed, angle, t):
    """Position (x, y) in m at time t (s)."""
    return speed * jnp.cos(angle) * t, p.height + speed * jnp.sin(angle) * t - 0.5 * p.g * t**2


def landing(p, speed, angle):
    """(T, x, vx, vy) when the shot reaches y = 0: flight time (s), range (m), velocity (m/s)."""
    u = speed * jnp.sin(angle)
    r = _safe_sqrt(u**2 + 2 * p.g * p.height)
    upward = u >= 0
    denominator = jnp.where(upward, 1.0, r - u)
    time = jnp.where(upward, (u + r) / p.g, 2 * p.height / denominator)
    vx = speed * jnp.cos(angle)
    return time, vx * time, vx, u - p.g * time


def apex(p, speed, angle):
    """Highest point (x, y) in m: at t = u/g when u > 0, else the launch point."""
    u = jnp.maximum(speed * jnp.sin(angle), 0.0)
    t = u / p.g
    return speed * jnp.cos(angle) * t, p.height + 0.5 * u * t
