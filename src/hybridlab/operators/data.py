"""The operators' data: wind profiles from a Gaussian random field, and the trajectories the
physics gives for them."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.physics import Projectile, Wind
from hybridlab.physics.compiling import by_motion

#: Added to the covariance's diagonal (in units of its variance) so that its Cholesky factor
#: exists in float64: the squared-exponential kernel on a fine grid is numerically singular.
_JITTER = 1e-10


def gaussian_profiles(n: int, points: int, duration: float, std: float, length_scale: float, key) -> np.ndarray:
    """(n, points) samples at t_j = duration·j/(points − 1) of a zero-mean Gaussian random field
    with covariance std² exp(−(t − t')²/(2 ℓ²)) (m/s; ℓ = ``length_scale`` s).

    Parameters
    ----------
    n : int
        Number of profiles, ≥ 1.
    points : int
        Samples per profile, ≥ 1.
    duration : float
        Span of the grid in s, finite and > 0.
    std : float
        Standard deviation of the field in m/s, finite and > 0.
    length_scale : float
        Correlation time ℓ in s, finite and > 0.
    key : jax.Array
        JAX random key.

    Returns
    -------
    profiles : numpy.ndarray
        Shape (n, points), in m/s.

    Raises
    ------
    ValueError
        If ``n`` or ``points`` is not an integer ≥ 1, or ``duration``, ``std`` or ``length_scale`` is not
        finite and > 0.
    """
    for name, value in (("n", n), ("points", points)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} = {value!r}: must be an integer >= 1")
    for name, value in (("duration", duration), ("std", std), ("length_scale", length_scale)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} = {value!r}: must be finite and > 0")
    t = np.linspace(0.0, duration, int(points))
    covariance = std**2 * np.exp(-0.5 * ((t[:, None] - t[None, :]) / length_scale) ** 2)
    factor = np.linalg.cholesky(covariance + _JITTER * std**2 * np.eye(t.size))
    return np.asarray(jax.random.normal(key, (int(n), t.size), jnp.float64)) @ factor.T


@by_motion
def _trajectories(base: Projectile, samples, speed, angle, times):
    def one(s):
        return eqx.tree_at(lambda p: p.wind.samples, base, s).positions(speed, angle, times)

    return jax.vmap(one)(samples)


def wind_trajectories(projectile: Projectile, speed: float, angle: float, profiles, duration: float) -> np.ndarray:
    """(n, m, 2): the positions (m) of ``projectile`` launched at ``speed`` (m/s), ``angle``
    (rad), at the m sample times of each wind profile (``profiles`` (n, m) in m/s over
    [0, ``duration``] s), free flight (not stopped at the ground); one batched solve.

    Parameters
    ----------
    projectile : Projectile
        The physics: its drag, mass (kg), g (m/s²) and launch height (m); its own wind, if any, is replaced by
        each profile.
    speed : float
        Launch speed in m/s.
    angle : float
        Launch angle in rad.
    profiles : array_like
        Horizontal wind profiles, shape (n, m), m ≥ 2, in m/s, sampled evenly over [0, ``duration``].
    duration : float
        The profiles' span in s, > 0.

    Returns
    -------
    paths : numpy.ndarray
        Positions (x, y), shape (n, m, 2), in m, at the m times of the profiles.

    Raises
    ------
    ValueError
        If ``profiles`` is not a 2-D array of at least 2 samples per profile, or its first profile or
        ``duration`` is not a valid :class:`~hybridlab.physics.Wind`.
    equinox.EquinoxRuntimeError
        From the compiled solve, if the launch is out of the projectile's domain or a profile is not finite.
    """
    profiles = np.asarray(profiles, dtype=np.float64)
    if profiles.ndim != 2 or profiles.shape[1] < 2:
        raise ValueError(f"profiles must be a 2-D array (n, m >= 2), got shape {profiles.shape}")
    base = Projectile(projectile.drag, mass=projectile.mass, g=projectile.g, height=projectile.height,
                      wind=Wind(profiles[0], duration))
    times = jnp.linspace(0.0, duration, profiles.shape[1])
    return np.asarray(_trajectories(base, jnp.asarray(profiles), jnp.asarray(speed, float), jnp.asarray(angle, float),
                                    times))
