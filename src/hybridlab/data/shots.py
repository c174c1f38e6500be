"""Shot datasets: launches (speed, angle) and the measured distance, simulated."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.physics import Projectile


def simulate_shots(
    projectile: Projectile,
    n: int,
    speed: tuple[float, float],
    angle: tuple[float, float],
    noise: float,
    key: jax.Array,
) -> dict[str, np.ndarray]:
    """``n`` shots, uniformly random in speed (m/s) and angle (rad), as the blog post samples them.

    distance = max(D(v, θ) + ε, 0) with ε ~ N(0, noise²) in m: additive Gaussian noise, clipped
    at 0 as a tape measure would. Returns float64 arrays ``speed``, ``angle`` (rad), ``distance``.
    The same key gives the same numbers.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n = {n!r}: must be a positive integer")
    for name, (low, high) in (("speed", speed), ("angle", angle)):
        if not low <= high:
            raise ValueError(f"{name} range = ({low}, {high}): the lower end must not exceed the upper")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise = {noise!r}: must be finite and >= 0")
    k_speed, k_angle, k_noise = jax.random.split(key, 3)
    v = jax.random.uniform(k_speed, (n,), jnp.float64, speed[0], speed[1])
    theta = jax.random.uniform(k_angle, (n,), jnp.float64, angle[0], angle[1])
    distance = projectile.range(v, theta) + noise * jax.random.normal(k_noise, (n,), jnp.float64)
    return {
        "speed": np.asarray(v),
        "angle": np.asarray(theta),
        "distance": np.asarray(jnp.maximum(distance, 0.0)),
    }
