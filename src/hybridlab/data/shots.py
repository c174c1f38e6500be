"""Shot datasets: launch designs (where to shoot), measurement (range plus noise) and splits."""

from __future__ import annotations

from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.physics import Projectile


def _check_interval(name: str, interval, lowest: float = -np.inf, highest: float = np.inf,
                    unit: str = "") -> tuple[float, float]:
    """(low, high) of a range of launches, finite, low <= high, within [lowest, highest]."""
    low, high = (float(x) for x in interval)
    where = f"{name} = ({low:g}, {high:g}){unit}"
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"{where}: the ends must be finite")
    if not low <= high:
        raise ValueError(f"{where}: the lower end must not exceed the upper")
    if low < lowest or high > highest:
        bounds = f"be >= {lowest:g}" if highest == np.inf else f"lie within [{lowest:g}, {highest:g}]"
        raise ValueError(f"{where}: the ends must {bounds}{unit}")
    return low, high


def uniform_design(n: int, speed, angle, key: jax.Array) -> tuple[np.ndarray, np.ndarray]:
    """``n`` launches uniformly random in speed (m/s) and angle (rad), as the blog post draws them.

    Parameters
    ----------
    n : int
        Number of launches, a positive integer.
    speed : tuple of float
        (low, high) speeds in m/s, finite, low ≤ high.
    angle : tuple of float
        (low, high) angles in rad, finite, low ≤ high.
    key : jax.Array
        JAX random key (split into one for the speeds and one for the angles).

    Returns
    -------
    speed : numpy.ndarray
        Speeds in m/s, shape (n,).
    angle : numpy.ndarray
        Angles in rad, shape (n,).

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer or an interval is not finite with low ≤ high.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n = {n!r}: must be a positive integer")
    (v0, v1), (a0, a1) = _check_interval("speed", speed), _check_interval("angle", angle)
    k_speed, k_angle = jax.random.split(key)
    v = jax.random.uniform(k_speed, (int(n),), jnp.float64, v0, v1)
    theta = jax.random.uniform(k_angle, (int(n),), jnp.float64, a0, a1)
    return np.asarray(v), np.asarray(theta)


def grid_design(speed, angle, n_speed: int, n_angle: int) -> tuple[np.ndarray, np.ndarray]:
    """The regular n_speed × n_angle grid (the lecture's 100 × 100), speed varying slowest.

    Parameters
    ----------
    speed : tuple of float
        (low, high) speeds in m/s, finite, low ≤ high: the grid's ends.
    angle : tuple of float
        (low, high) angles in rad, finite, low ≤ high: the grid's ends.
    n_speed : int
        Number of speeds, a positive integer.
    n_angle : int
        Number of angles, a positive integer.

    Returns
    -------
    speed : numpy.ndarray
        Speeds in m/s, shape (n_speed·n_angle,).
    angle : numpy.ndarray
        Angles in rad, shape (n_speed·n_angle,).

    Raises
    ------
    ValueError
        If ``n_speed`` or ``n_angle`` is not a positive integer, or an interval is not finite with low ≤ high.
    """
    for name, n in (("n_speed", n_speed), ("n_angle", n_angle)):
        if int(n) != n or n < 1:
            raise ValueError(f"{name} = {n!r}: must be a positive integer")
    v, theta = np.meshgrid(np.linspace(*_check_interval("speed", speed), int(n_speed)),
                           np.linspace(*_check_interval("angle", angle), int(n_angle)), indexing="ij")
    return v.ravel(), theta.ravel()


def measure(projectile: Projectile, speed, angle, noise: float, key: jax.Array, relative: float = 0.0) -> np.ndarray:
    """Measured distances d = max(D(v, θ)·(1 + ε_r) + ε, 0) in m of the projectile's shots:
    :func:`add_noise` applied to its range D(v, θ).

    Parameters
    ----------
    projectile : Projectile
        The physics that flies the shots.
    speed : array_like
        Launch speeds v in m/s.
    angle : array_like
        Launch angles θ in rad, broadcastable with ``speed``.
    noise : float
        Standard deviation of the additive noise ε in m, finite and ≥ 0.
    key : jax.Array
        JAX random key.
    relative : float
        Standard deviation of the relative noise ε_r (dimensionless), finite and ≥ 0.

    Returns
    -------
    distance : numpy.ndarray
        Measured distances in m, ≥ 0, of the broadcast shape of ``speed`` and ``angle``.

    Raises
    ------
    ValueError
        If a launch is out of the projectile's domain or its range cannot be computed, or ``noise`` or
        ``relative`` is not finite and ≥ 0.
    """
    return add_noise(projectile.range(speed, angle), noise, key, relative)


def add_noise(distance, noise: float, key: jax.Array, relative: float = 0.0) -> np.ndarray:
    """d = max(D·(1 + ε_r) + ε, 0) in m for true distances D, with ε ~ N(0, noise²) additive
    (m) and ε_r ~ N(0, relative²) relative noise; clipped at 0 as a tape measure would be.

    Parameters
    ----------
    distance : array_like
        True distances D in m, any shape.
    noise : float
        Standard deviation of the additive noise in m, finite and ≥ 0.
    key : jax.Array
        JAX random key.
    relative : float
        Standard deviation of the relative noise (dimensionless), finite and ≥ 0.

    Returns
    -------
    measured : numpy.ndarray
        Measured distances d in m, ≥ 0, of the shape of ``distance``.

    Raises
    ------
    ValueError
        If ``noise`` or ``relative`` is not finite and ≥ 0.
    """
    for name, value in (("noise", noise), ("relative", relative)):
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} = {value!r}: must be finite and >= 0")
    k_additive, k_relative = jax.random.split(key)
    distance = jnp.asarray(distance, jnp.float64)
    shape = jnp.shape(distance)
    distance = distance * (1 + relative * jax.random.normal(k_relative, shape, jnp.float64))
    distance = distance + noise * jax.random.normal(k_additive, shape, jnp.float64)
    return np.asarray(jnp.maximum(distance, 0.0))


def simulate_shots(projectile: Projectile, n: int, speed, angle, noise: float, key: jax.Array,
                   relative: float = 0.0) -> dict[str, np.ndarray]:
    """``n`` uniformly random shots (speed m/s, angle rad) and their measured distances (m).

    Returns float64 arrays ``speed``, ``angle`` (rad), ``distance``, and ``height`` (m) when the
    projectile is launched from above the ground. The same key gives the same numbers.

    Parameters
    ----------
    projectile : Projectile
        The physics that flies the shots.
    n : int
        Number of shots, a positive integer.
    speed : tuple of float
        (low, high) launch speeds in m/s, finite, 0 ≤ low ≤ high.
    angle : tuple of float
        (low, high) launch angles in rad, finite, low ≤ high, within [0, π/2] from the ground and [−π/2, π/2]
        from a height.
    noise : float
        Standard deviation of the additive noise in m, finite and ≥ 0.
    key : jax.Array
        JAX random key.
    relative : float
        Standard deviation of the relative noise (dimensionless), finite and ≥ 0.

    Returns
    -------
    shots : dict of str to numpy.ndarray
        ``speed`` (m/s), ``angle`` (rad), ``distance`` (m, measured, ≥ 0), and ``height`` (m) from a height;
        each of shape (n,).

    Raises
    ------
    ValueError
        If ``n``, an interval, ``noise`` or ``relative`` is not as above, or a range cannot be computed.
    """
    # Every launch the ranges allow must be valid, not only the ones drawn: checked up front.
    _check_interval("speed", speed, 0.0, unit=" m/s")
    from_height = float(projectile.height) > 0
    _check_interval("angle", angle, -np.pi / 2 if from_height else 0.0, np.pi / 2,
                    unit=" rad" + ("" if from_height else " (from the ground)"))
    k_design, k_noise = jax.random.split(key)
    v, theta = uniform_design(n, speed, angle, k_design)
    shots = {"speed": v, "angle": theta, "distance": measure(projectile, v, theta, noise, k_noise, relative)}
    if float(projectile.height) > 0:
        shots["height"] = np.full(len(v), float(projectile.height))
    return shots


#: Shots per chunk of :func:`simulate_shot_chunks`: a few tens of MB in flight, whatever n is.
CHUNK = 1 << 18


def simulate_shot_chunks(projectile: Projectile, n: int, speed, angle, noise: float, key: jax.Array,
                         relative: float = 0.0, chunk: int = CHUNK) -> Iterator[dict[str, np.ndarray]]:
    """:func:`simulate_shots` for any ``n``, ``chunk`` shots at a time (the last one shorter):
    memory stays flat as n grows. Chunk 0 draws from ``key`` itself, chunk i ≥ 1 from
    ``fold_in(key, i)``, so that n ≤ ``chunk`` gives exactly :func:`simulate_shots`' shots.

    Parameters
    ----------
    projectile : Projectile
        The physics that flies the shots.
    n : int
        Number of shots in all, a positive integer.
    speed : tuple of float
        (low, high) launch speeds in m/s (see :func:`simulate_shots`).
    angle : tuple of float
        (low, high) launch angles in rad (see :func:`simulate_shots`).
    noise : float
        Standard deviation of the additive noise in m, finite and ≥ 0.
    key : jax.Array
        JAX random key.
    relative : float
        Standard deviation of the relative noise (dimensionless), finite and ≥ 0.
    chunk : int
        Shots per chunk, a positive integer.

    Yields
    ------
    shots : dict of str to numpy.ndarray
        One chunk, as :func:`simulate_shots` returns it: ``speed`` (m/s), ``angle`` (rad), ``distance`` (m)
        and, from a height, ``height`` (m), each of shape (min(chunk, shots left),).

    Raises
    ------
    ValueError
        If ``n`` or ``chunk`` is not a positive integer (on the first chunk's request), or as
        :func:`simulate_shots` raises for a chunk.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n = {n!r}: must be a positive integer")
    if int(chunk) != chunk or chunk < 1:
        raise ValueError(f"chunk = {chunk!r}: must be a positive integer")
    n, chunk = int(n), int(chunk)
    for i, start in enumerate(range(0, n, chunk)):
        yield simulate_shots(projectile, min(chunk, n - start), speed, angle, noise,
                             key if i == 0 else jax.random.fold_in(key, i), relative)


def holdout(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (kept, held out) of a seeded random split holding out round(fraction·n) of n.

    Parameters
    ----------
    n : int
        Number of items.
    fraction : float
        The share held out, in (0, 1).
    seed : int
        Seed of NumPy's random generator.

    Returns
    -------
    kept : numpy.ndarray
        The indices kept, increasing, shape (n − round(fraction·n),).
    held_out : numpy.ndarray
        The indices held out, increasing, shape (round(fraction·n),).

    Raises
    ------
    ValueError
        If ``fraction`` is not in (0, 1).
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction = {fraction!r}: must be in (0, 1)")
    order = np.random.default_rng(seed).permutation(n)
    held = int(round(fraction * n))
    return np.sort(order[held:]), np.sort(order[:held])
