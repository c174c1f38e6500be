"""The targets and speeds that float64 can aim at or with, checked before any search (a
ValueError naming the argument), and the bounds of the searches for speed: the least speed
without drag below, :func:`speed_ceiling` above. See :func:`hybridlab.inverse.aim`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.physics import Projectile
from hybridlab.physics.batching import lanes
from hybridlab.physics.validation import array_module, as_float, check, is_traced

# Products of a distance and a speed (m²/s) that the slopes of paths form: beyond 1e±300 they
# over- or underflow float64 (without drag, targets within ~1e±199 m of the launch point at 9.81 m/s²).
_SCALE = 300.0
# A launch height may be at most this many times a target's distance from the launch point:
# heights (measured from the ground) are then resolved to 2e-7 of that distance.
_HEIGHTS = 1e9
# A least-speed shot found must pass this close to its target, relative to the target's distance
# from the launch point (it passes within 1e-12 where float64 resolves it).
_RESOLVED = 1e-6
# Speeds (m/s) are searched up to this one: drag may raise the least speed without drag any number
# of decades (linear drag k/m = 1/s at g = 1e-300 m/s²: from 1e-149 m/s to 100 m/s).
_FASTEST = 1e300


def log_speeds(projectile, distance, level):
    """(ln v₀, ln v_max): the least speed without drag, v₀² = g (z + √(d² + z²)) — a lower
    bound: drag only lowers a path — and the ceiling of every search, :data:`_FASTEST` (or v₀
    above it). In logarithms: g (z + √(d² + z²)) overflows for targets float64 holds."""
    xp = array_module(projectile, distance, level)
    distance, rise = xp.asarray(distance), xp.asarray(level) - xp.asarray(projectile.height)
    length = xp.hypot(distance, rise)
    # z + √(d² + z²) below the launch point as d²/(√(d² + z²) − z), which cancels no digits.
    with np.errstate(divide="ignore", invalid="ignore"):  # in NumPy too: the branch not taken may divide by 0
        lift = xp.where(rise >= 0, length + rise, distance * (distance / (length - rise)))
        vacuum = 0.5 * (xp.log(xp.asarray(projectile.g)) + xp.log(lift))
    return vacuum, xp.maximum(vacuum, np.log(_FASTEST))


def target_level(projectile, target_height) -> jax.Array:
    """The target's height above the ground, h + z (m); ValueError naming ``target_height``
    unless it is finite and the target not below the ground, and for a projectile in a wind
    (:func:`check_still_air`: every aim asks for the target's level)."""
    check_still_air(projectile)
    rise = as_float("target_height", target_height)
    xp = array_module(projectile, rise)
    level = xp.asarray(projectile.height) + xp.asarray(rise)
    check("target_height", rise, ~xp.isfinite(level) | (level < 0),
          "finite, with the target at or above the ground (height + target_height >= 0)")
    return level


def target_distance(distance) -> jax.Array:
    """The target's distance downrange (m); ValueError naming ``distance`` unless finite and ≥ 0."""
    distance = as_float("distance", distance)
    return check("distance", distance, lambda xp, d: ~xp.isfinite(d) | (d < 0), "finite and >= 0")


def given_speed(speed) -> jax.Array:
    """A launch speed (m/s); ValueError naming ``speed`` unless finite and > 0."""
    speed = as_float("speed", speed)
    return check("speed", speed, lambda xp, v: ~xp.isfinite(v) | (v <= 0), "finite and > 0")


def check_scale(projectile, distance, level, speed=None) -> None:
    """ValueError (eagerly) for a target (d > 0) too far from or too near the launch point to aim
    at in float64, or a given speed too fast or too slow for it. The slopes of its paths form
    products d·v of a distance and a speed (the given one, or the least without drag, v₀), which
    over- or underflow beyond 1e±:data:`_SCALE` m²/s; at a given speed v the angle of the low arc
    goes as (v₀/v)², and the slopes at the farthest reach as d·v·(v/v₀)²."""
    if is_traced(distance, level, speed, *jax.tree.leaves(projectile)):
        return
    length = np.hypot(distance, np.asarray(level) - float(projectile.height))
    _check_height(projectile, length)
    least = np.exp(np.asarray(log_speeds(projectile, distance, level)[0]))
    launch = least if speed is None else np.asarray(speed)
    with np.errstate(divide="ignore", invalid="ignore"):
        slopes, ratio = np.log10(length) + np.log10(launch), 2 * (np.log10(launch) - np.log10(least))
    tests = [(slopes > _SCALE, True, "the slopes of its paths overflow"),
             (slopes < -_SCALE, False, "the slopes of its paths underflow")]
    if speed is not None:
        tests += [(ratio > _SCALE, True, "the angle of its low arc underflows"),
                  (slopes + np.minimum(ratio, 0.0) < -_SCALE, False, "the slopes at its farthest reach underflow")]
    for bad, over, cause in tests:
        bad = bad & (np.asarray(distance) > 0)
        if bad.any():
            i = int(np.argmax(bad))
            _refuse_scale(projectile, distance[i], level[i], None if speed is None else launch[i], over, cause)


def _check_height(projectile, length) -> None:
    """ValueError for a launch height above ground more than :data:`_HEIGHTS` times a target's
    distance ``length`` (m, > 0) from the launch point: heights are measured from the ground,
    and their rounding there hides the target's."""
    bad = (length > 0) & (float(projectile.height) / _HEIGHTS > length)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"height = {float(projectile.height):g}: a launch this high rounds heights to "
                         f"{np.spacing(float(projectile.height)):.3g} m, too coarse for float64 to aim at a target "
                         f"{length[i]:.3g} m from it")


def _refuse_scale(projectile, distance, level, speed, over, cause) -> None:
    """The ValueError of :func:`check_scale` for one target, naming the speed where given."""
    rise = float(level - projectile.height)
    length = float(np.hypot(distance, rise))
    how = f"({cause})"
    if speed is not None:
        raise ValueError(f"speed = {speed:g}: too {'fast' if over else 'slow'} to aim with in float64 at a target "
                         f"{length:.3g} m from the launch point {how}")
    name, value = ("distance", float(distance)) if distance >= abs(rise) else ("target_height", rise)
    raise ValueError(f"{name} = {value:g}: a target {length:.3g} m from the launch point is too "
                     f"{'far' if over else 'near'} to aim at in float64 under g = {float(projectile.g):g} m/s² {how}")


def check_reach_scale(projectile, speed) -> None:
    """ValueError (eagerly) for a speed whose reach (~v²/g) makes the slopes there, products
    ~v³/g of a distance and a speed, over- or underflow (beyond 1e±:data:`_SCALE` m²/s)."""
    if is_traced(speed, *jax.tree.leaves(projectile)):
        return
    with np.errstate(divide="ignore"):
        exponent = 3 * np.log10(np.asarray(speed)) - np.log10(float(projectile.g))
    bad = ~(np.abs(exponent) <= _SCALE)
    if bad.any():
        i = np.unravel_index(int(np.argmax(bad)), bad.shape)
        over = exponent[i] > 0
        raise ValueError(f"speed = {float(np.asarray(speed)[i]):g}: too {'fast' if over else 'slow'} for float64 under "
                         f"g = {float(projectile.g):g} m/s² (the slopes at its farthest reach "
                         f"{'overflow' if over else 'underflow'})")


def check_resolved(projectile, distance, level, miss) -> None:
    """ValueError (eagerly) where the least-speed shot found passes farther from its target
    than 1e-6 of the target's distance from the launch point: float64 cannot resolve it (drag
    so strong that the least speed lies within rounding of the speed below which no angle gets
    to d, or paths whose slopes overflow)."""
    if is_traced(miss, distance, level, *jax.tree.leaves(projectile)):
        return
    length = np.hypot(distance, np.asarray(level) - float(projectile.height))
    bad = np.abs(np.asarray(miss)) > _RESOLVED * length
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"distance = {float(distance[i]):g}: float64 cannot resolve the least-speed shot to this "
                         f"target (the best found passes {abs(float(miss[i])):.3g} m from it)")


def speed_ceiling(projectile: Projectile, distance, *, target_height=0.0) -> jax.Array:
    """The fastest launch (m/s) that :func:`aim` tries for the target (``distance`` m downrange,
    ``target_height`` m above the launch point): 10³⁰⁰ m/s, or its least speed without drag
    (which drag only raises) where that is faster. A NaN speed from :func:`aim` means that no
    speed up to this one hits.

    Parameters
    ----------
    projectile : Projectile
        The projectile, in still air (a wind is refused).
    distance : array_like
        The target's distance downrange in m, finite and ≥ 0.
    target_height : array_like
        The target's height in m above the launch point (negative: below it), finite, the target at or above
        the ground; broadcast against ``distance``.

    Returns
    -------
    speed : jax.Array
        The fastest launch speed tried, in m/s, of the broadcast shape of ``distance`` and ``target_height``.

    Raises
    ------
    ValueError
        If the projectile has a wind, a distance is not finite and ≥ 0, or a target height is not finite or
        puts the target below the ground.
    """
    vacuum, _ = log_speeds(projectile, target_distance(distance), target_level(projectile, target_height))
    xp = array_module(vacuum)  # NumPy when concrete: no program compiled
    ceiling = xp.maximum(xp.exp(vacuum), _FASTEST)
    return ceiling if xp is jnp else jax.device_put(ceiling)


def check_target(projectile: Projectile, distance, *, target_height=0.0, speed=None) -> None:
    """The ValueError that :func:`aim` raises, before any search, for a target (``distance`` m
    downrange, ``target_height`` m above the launch point) or a given ``speed`` (m/s) that
    float64 cannot aim at or with, or a projectile in a wind; nothing for one it can. (Not
    :func:`aim`'s other refusal: a speed and an angle both given.)

    Parameters
    ----------
    projectile : Projectile
        The projectile (mass in kg, g in m/s², launch height in m).
    distance : array_like
        The target's distance downrange in m.
    target_height : array_like
        The target's height in m above the launch point (negative: below it); broadcast against ``distance``.
    speed : array_like, optional
        A given launch speed in m/s; broadcast against the others.

    Raises
    ------
    ValueError
        If a distance is not finite and ≥ 0, a target is not finite or below the ground, a speed is not finite
        and > 0, the launch height is more than 1e9 times a target's distance from the launch point, a target
        is too far from or too near the launch point for float64 (the slopes of its paths, products of a
        distance and a speed, beyond 1e±300 m²/s), or a given speed is too fast or too slow for its target; and
        also if the projectile has a wind (the target's level is checked as :func:`aim` checks it).
    """
    values = [target_distance(distance), target_level(projectile, target_height)]
    values += [] if speed is None else [given_speed(speed)]
    shape = np.broadcast_shapes(*(np.shape(a) for a in values))
    check_scale(projectile, *lanes(shape, *values))


def check_still_air(projectile) -> None:
    """ValueError for a projectile in a wind: the searches assume still air (the vacuum's least
    speed bounds them from below, which a tailwind breaks)."""
    if getattr(projectile, "wind", None) is not None:
        raise ValueError(f"projectile: aiming assumes still air; this one has a {projectile.wind.label()}")
