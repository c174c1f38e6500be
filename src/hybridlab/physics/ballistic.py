"""Motion without drag: the closed forms of the parabola, from any launch height.

With launch speed v, angle θ, height h and gravity g, and u = v sin θ:
x(t) = v cos θ · t,  y(t) = h + u t − g t²/2,
flight time T = u/g + r/g with r = √(u² + 2 g h), written as h/((r − u)/2) when u < 0 so that a
downward throw does not cancel digits; the vertical impact velocity is exactly −r. Every
expression is arranged so that no intermediate over- or underflows unless the result itself
does (v, g, h anywhere in float64's range). All functions take scalars (the caller vectorises).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


@jax.custom_jvp
def _root(u, g, h):
    """r = √(u² + 2 g h) in m/s, as the hypotenuse of u and √(2g)·√h (no squares to overflow)."""
    return jnp.hypot(u, jnp.sqrt(2.0) * jnp.sqrt(g) * jnp.sqrt(h))


@_root.defjvp
def _root_jvp(primals, tangents):
    """dr = (u du + h dg + g dh)/r: finite at h = 0, where √h has no derivative (0 at rest)."""
    u, g, h = primals
    du, dg, dh = tangents
    r = _root(u, g, h)
    moving = r > 0
    r_safe = jnp.where(moving, r, 1.0)
    return r, jnp.where(moving, (u / r_safe) * du + (h / r_safe) * dg + (g / r_safe) * dh, 0.0)


def trajectory(p, speed, angle, t):
    """Position (x, y) in m at time t (s)."""
    return speed * jnp.cos(angle) * t, p.height + speed * jnp.sin(angle) * t - 0.5 * p.g * t**2


def landing(p, speed, angle):
    """(T, x, vx, vy) when the shot reaches y = 0: flight time (s), range (m), velocity (m/s)."""
    u = speed * jnp.sin(angle)
    r = _root(u, p.g, p.height)
    upward = u >= 0
    denominator = jnp.where(upward, 1.0, 0.5 * r - 0.5 * u)
    time = jnp.where(upward, u / p.g + r / p.g, p.height / denominator)
    vx = speed * jnp.cos(angle)
    return time, vx * time, vx, -r


def apex(p, speed, angle):
    """Highest point (x, y) in m: at t = u/g when u > 0, else the launch point."""
    u = jnp.maximum(speed * jnp.sin(angle), 0.0)
    t = u / p.g
    return speed * jnp.cos(angle) * t, p.height + 0.5 * u * t


def height_at(p, speed, angle, distance):
    """y (m) where x first reaches ``distance`` d ≥ 0 (m), at t = d/(v cos θ):
    y = h + t (u − g t/2) = h + d tan θ − g d²/(2 v² cos² θ), never forming d² or v² (which over-
    or underflow where y does not). −inf where x never reaches d (v cos θ = 0, d > 0); h at d = 0.
    """
    vx = speed * jnp.cos(angle)
    moving = vx > 0
    # Double where: the unreachable lanes' gradients stay finite (zero), not NaN.
    t = jnp.where(moving, distance, 0.0) / jnp.where(moving, vx, 1.0)
    y = p.height + t * (speed * jnp.sin(angle) - 0.5 * p.g * t)
    return jnp.where(moving, y, jnp.where(distance == 0, p.height, -jnp.inf))
