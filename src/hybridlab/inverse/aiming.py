"""Exact aiming: how to launch so that the trajectory passes through a target.

The target is the point (d, z) relative to the launch point: d ≥ 0 m downrange and z m above
the launch point (z < 0: below it; the projectile's ``height`` stays the launch height above
the ground). A shot (v, θ) hits it when its height at x = d is the target's,

    F(v, θ) = y(d; v, θ) − (h + z) = 0,

with y(d; v, θ) = :meth:`Projectile.height_at` (−∞ where the shot never gets that far). For any
drag force along −v the path y(x) is concave (d²y/dx² = −g/v_x²), so a path through a target at
or above the ground stays above the ground before it. Three facts make the solve a sequence of
bracketed one-dimensional roots (Optimistix's bisection, with implicit differentiation):

- at a fixed speed, y(d; θ) rises from −∞ (θ → −π/2, or the ground's θ = 0) to one maximum at
  θ*(v) and falls to −∞ at θ → π/2: the hits are the roots on either side of θ* (the low and the
  high arc), and θ* itself is the root of ∂y/∂θ;
- at a fixed angle, y(d; v) rises with v towards the line of sight h + d tan θ: one speed hits,
  if the target lies below that line;
- the least speed that reaches the target is where max_θ y(d; v, θ) = h + z: the target lies on
  the envelope of the trajectories of that speed.

Everything is vectorised over targets and compiled once per drag law and shape; the solutions
are differentiable with respect to the target and every physical parameter (implicit
function theorem) in forward mode (``jax.jvp``, ``jax.jacfwd``), as the ODE laws' height is.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx

from hybridlab.physics import Projectile
from hybridlab.physics.validation import as_float, check

# Roots: bisection brackets the root to 1e-6 (rad, or log speed), then Newton's method (its
# derivative in forward mode) polishes it inside that bracket, where the function is monotone and
# nearly linear: ~20 + 3 evaluations instead of ~50 bisections. The functions are made relative
# (divided by max(d, 1 m)), as Bisection's atol also bounds |f|. The direction is given, not
# detected: detection raises where a bracket holds no root, and a batch of targets always has
# lanes (unreachable targets) whose result is then discarded.
_RISING = optx.Bisection(rtol=1e-6, atol=1e-6, flip=False)
_FALLING = optx.Bisection(rtol=1e-6, atol=1e-6, flip=True)
# Newton stops on the size of its step (the miss cannot get below the solve's rounding, which a
# test on its value would demand).
_NEWTON = optx.Newton(rtol=1e-13, atol=1e-13, cauchy_termination=False)
_POLISH_STEPS = 8
# The angle of the highest path needs less: near the maximum the height is off by the square of
# the angle's error (1e-14 of the curvature for 1e-7 rad).
_PEAK = optx.Bisection(rtol=1e-7, atol=1e-7, flip=True)
# The farthest distance at a speed (the closest approach to a target out of reach).
_REACH = optx.Bisection(rtol=1e-11, atol=1e-11, flip=True)
_STEPS = 256
# The least-speed shot: a coarse bracketed start (log speed and angle to ~1e-5, relative and
# absolute), then Newton's method on the envelope system.
_COARSE = 1e-5
_COARSE_PEAK = optx.Bisection(rtol=1e-5, atol=1e-5, flip=True)
_NEWTON_STEPS = 32
# Angles strictly inside (−π/2, π/2): at ±π/2 a shot never moves downrange.
_EDGE = 1e-9
# A target whose clearance is below this (relative to max(d, 1 m)) lies on the envelope: the
# two arcs merge there, within the rounding of the height.
_TANGENT = 1e-12
# Speeds are searched over this many decades below and above √(g·max(d, 1 m)).
_DECADES = 8.0


class Hits(eqx.Module):
    """The angles (rad) that hit the target at a given speed, per target.

    ``low`` and ``high``: the low and the high arc (NaN where there is none; both the one
    solution for a target on the envelope); ``count``: 0, 1 or 2 distinct solutions; ``best``:
    the angle that passes highest at the target's distance (to 1e-7 rad: the height there is
    flat in the angle, off by ~1e-14 of its curvature), and ``clearance`` (m): how far above
    the target it passes there (negative: the closest approach misses the target by that much,
    straight below it).
    """

    low: jax.Array
    high: jax.Array
    count: jax.Array
    best: jax.Array
    clearance: jax.Array


class Aim(eqx.Module):
    """The least-speed shot to each target (``speed`` m/s, ``angle`` rad) and the solution
    curve: for each of ``curve_angles`` (rad, across the angles that can reach it), the speed
    that hits (``curve_speeds``, m/s)."""

    speed: jax.Array
    angle: jax.Array
    curve_angles: jax.Array
    curve_speeds: jax.Array


def _height(p, speed, angle, distance):
    """y(d; v, θ) in m, differentiable in forward mode (the ODE laws allow only that in a root);
    NaN at a speed that is not finite and >= 0. A vmapped search can ask for one in a lane whose
    step left the bracket (exp of a log speed's overshoot): the height's own check would stop
    every lane for it (aim(LinearDrag(1.0), m = 0.1 kg, 50 m) raised so)."""
    valid = jnp.isfinite(speed) & (speed >= 0)
    height = p.height_at(jnp.where(valid, speed, 1.0), angle, distance, mode="forward")
    return jnp.where(valid, height, jnp.nan)


def _lowest_angle(p):
    """The lowest launch angle: 0 from the ground, just above −π/2 from a height."""
    return jnp.where(p.height > 0, -jnp.pi / 2 + _EDGE, 0.0)


def _bisect(fn, lower, upper, args, solver):
    """The bisection's solution of ``fn`` = 0 on [lower, upper] (its ``state`` holds the last
    bracket); where ``fn`` does not change sign there, some point of it, which the caller discards."""
    return optx.root_find(fn, solver, 0.5 * (lower + upper), args, options={"lower": lower, "upper": upper},
                          max_steps=_STEPS, throw=False)


def _root(fn, lower, upper, args, rising=True):
    """The root of ``fn`` on [lower, upper], where ``fn`` (relative: its rounding near 1e-16)
    rises (or falls) through 0: bracketed by bisection, polished by Newton's method kept inside
    the last bracket (a non-finite Newton answer falls back to the bracket's point)."""
    coarse = _bisect(fn, lower, upper, args, _RISING if rising else _FALLING)
    fine = optx.root_find(fn, _NEWTON, coarse.value, args,
                          options={"lower": coarse.state.lower, "upper": coarse.state.upper},
                          max_steps=_POLISH_STEPS, throw=False)
    return jnp.where(jnp.isfinite(fine.value), fine.value, coarse.value)


def _best_angle(p, speed, distance, lower, coarse=False):
    """θ*(v): the angle whose path is highest at x = d, the root of ∂y/∂θ, to 1e-7 rad (1e-5
    if ``coarse``). Bisection, as Newton's method on ∂y/∂θ, with its second derivative through
    the solve, costs more than the last steps it saves."""
    def slope(angle, args):  # a forward derivative: the ODE laws' height allows only that here
        p, speed, distance = args
        height, rate = jax.jvp(lambda a: _height(p, speed, a, distance), (angle,), (jnp.ones_like(angle),))
        # Where the shot never gets to x = d (steep, |θ| near π/2 under drag) the height is −∞ and
        # its slope NaN: the maximum lies towards θ = 0 from there.
        return jnp.where(jnp.isfinite(height), rate / jnp.maximum(distance, 1.0), -jnp.sign(angle))

    args = (p, speed, distance)
    if coarse:
        return _bisect(slope, lower, jnp.pi / 2 - _EDGE, args, _COARSE_PEAK).value
    return _bisect(slope, lower, jnp.pi / 2 - _EDGE, args, _PEAK).value


def _hits_one(p, speed, distance, level):
    """:class:`Hits` of one target (scalars)."""
    lower = _lowest_angle(p)
    best = _best_angle(p, speed, distance, lower)
    clearance = _height(p, speed, best, distance) - level

    def miss(angle, args):
        return (_height(args[0], args[1], angle, args[2]) - args[3]) / jnp.maximum(args[2], 1.0)

    args = (p, speed, distance, level)
    # A target on the envelope (within rounding of it, either side) has one solution, the best angle.
    tangent = jnp.abs(clearance) <= _TANGENT * jnp.maximum(distance, 1.0)
    some = (clearance >= 0) | tangent
    low = jnp.where(tangent, best, _root(miss, lower, best, args))
    high = jnp.where(tangent, best, _root(miss, best, jnp.pi / 2 - _EDGE, args, rising=False))
    # The low arc needs the lowest angle's path to pass at or below the target (a guard: from the
    # ground y(d; 0) = −g d²/2v² ≤ 0, from a height the lowest path never gets to d).
    low_exists = some & ~tangent & (_height(p, speed, lower, distance) <= level)
    count = jnp.where(some, jnp.where(low_exists, 2, 1), 0)
    nan = jnp.nan
    return Hits(jnp.where(low_exists | (some & tangent), low, nan), jnp.where(some, high, nan), count, best,
                clearance)


def _log_speeds(p, distance):
    """The bracket of log speeds searched: _DECADES either side of √(g·max(d, 1 m))."""
    centre = 0.5 * jnp.log(p.g * jnp.maximum(distance, 1.0))
    return centre - _DECADES * jnp.log(10.0), centre + _DECADES * jnp.log(10.0)


def _speed_one(p, angle, distance, level):
    """The speed (m/s) that hits one target at this angle, NaN where none does."""
    lower, upper = _log_speeds(p, distance)

    def miss(log_speed, args):
        return (_height(args[0], jnp.exp(log_speed), args[1], args[2]) - args[3]) / jnp.maximum(args[2], 1.0)

    args = (p, angle, distance, level)
    reachable = miss(upper, args) > 0
    # The launch point itself is passed at t = 0 at any speed: the least is 0.
    at_launch = (distance == 0) & (level == p.height)
    return jnp.where(at_launch, 0.0, jnp.where(reachable, jnp.exp(_root(miss, lower, upper, args)), jnp.nan))


def _climb_then_bisect(fn, lower, ceiling):
    """The root of ``fn``, rising through 0 above ``lower`` (fn(lower) < 0), to the coarse
    tolerance: the bracket's upper end climbs by ln 2 (a doubling of the speed) until fn ≥ 0
    there or it reaches ``ceiling``, then bisection. One loop, with one call of ``fn`` a step:
    Optimistix's bisection after a separate climb compiled the nested search twice (15 s more
    for an ODE law)."""
    tolerance = _COARSE * (jnp.abs(lower) + 1.0)

    def step(state):
        low, high, bracketed = state
        x = jnp.where(bracketed, 0.5 * (low + high), jnp.minimum(low + jnp.log(2.0), ceiling))
        above = (fn(x) >= 0) | (~bracketed & (x >= ceiling))
        return jnp.where(above, low, x), jnp.where(above, x, high), bracketed | above

    def going(state):
        low, high, bracketed = state
        return ~bracketed | (high - low > tolerance)

    low, high, _ = jax.lax.while_loop(going, step, (lower, ceiling, jnp.array(False)))
    return 0.5 * (low + high)


def _least_speed_one(p, distance, level):
    """(v_min, θ_min) for one target, where the target lies on the envelope: the root (u, θ),
    u = log v, of F = (y(d; e^u, θ) − (h + z), ∂y/∂θ). A coarse bisection in u of
    max_θ y(d; e^u, θ) − (h + z) (from the vacuum's least speed, a lower bound: drag only
    lowers a path) brings Newton's method on F close enough to converge at once; F's Jacobian
    there, [[∂y/∂u, 0], [∂²y/∂θ∂u, ∂²y/∂θ²]], is regular (the path's height peaks in θ).

    The bisection's bracket is found by doubling the speed from the vacuum's until the target
    is cleared (up to :data:`_DECADES` decades): bisecting the whole range instead probed
    speeds of 10⁴-10⁸ times the need, whose solves under an ODE law cost some 100 times those
    near it (201 baseball targets: 27 s of the search's 28 s)."""
    lowest = _lowest_angle(p)
    rise = level - p.height
    vacuum = 0.5 * jnp.log(p.g * (jnp.hypot(distance, rise) + rise))

    def clearance(log_speed, args):
        p, distance, level = args
        speed = jnp.exp(log_speed)
        return (_height(p, speed, _best_angle(p, speed, distance, lowest, coarse=True), distance) - level) \
            / jnp.maximum(distance, 1.0)

    args = (p, distance, level)
    u = _climb_then_bisect(lambda x: clearance(x, args), vacuum, vacuum + _DECADES * jnp.log(10.0))
    theta = _best_angle(p, jnp.exp(u), distance, lowest, coarse=True)

    def envelope(x, args):
        p, distance, level = args
        height, slope = jax.jvp(lambda a: _height(p, jnp.exp(x[0]), a, distance), (x[1],), (jnp.ones_like(x[1]),))
        return jnp.stack([height - level, slope])

    solution = optx.root_find(envelope, _NEWTON, jnp.stack([u, theta]), args, max_steps=_NEWTON_STEPS, throw=False)
    return jnp.exp(solution.value[0]), solution.value[1]


def _reach_one(p, speed, level):
    """(d*, θ*): the farthest distance at which a shot of this speed passes at the height
    ``level``, the root of max_θ y(d; v, θ) − level in d (it falls with d). Drag only shortens
    a path, so d* lies below the vacuum's reach √(v²(v² + 2g(h − level)))/g."""
    lowest = _lowest_angle(p)
    vacuum = speed * jnp.sqrt(jnp.maximum(speed**2 + 2 * p.g * (p.height - level), 0.0)) / p.g

    def clearance(distance, args):
        p, speed, level = args
        return (_height(p, speed, _best_angle(p, speed, distance, lowest), distance) - level) / scale

    scale = jnp.maximum(vacuum, 1.0)
    distance = _bisect(clearance, 0.0, vacuum * (1 + 1e-9) + 1e-300, (p, speed, level), _REACH).value
    return distance, _best_angle(p, speed, distance, lowest)


@eqx.filter_jit
def _reach(p, speed, level):
    return jax.vmap(_reach_one, in_axes=(None, 0, 0))(p, speed, level)


def _level(p, target_height) -> jax.Array:
    """The target's height above the ground, h + z (m); ValueError naming ``target_height``
    unless it is finite and the target not below the ground."""
    rise = as_float("target_height", target_height)
    level = p.height + rise
    check("target_height", rise, ~jnp.isfinite(level) | (level < 0),
          "finite, with the target at or above the ground (height + target_height >= 0)")
    return level


def reach(projectile: Projectile, speed, *, target_height=0.0) -> tuple[jax.Array, jax.Array]:
    """(distance m, angle rad): the farthest a shot of ``speed`` (m/s) gets at ``target_height``
    (m above the launch point) and the angle that gets it there — the maximum range when the
    target height is the ground's; the closest approach to a target out of reach."""
    p = projectile
    speed = as_float("speed", speed)
    speed = check("speed", speed, ~jnp.isfinite(speed) | (speed <= 0), "finite and > 0")
    level = _level(p, target_height)
    shape = jnp.broadcast_shapes(jnp.shape(speed), jnp.shape(level))
    distance, angle = _reach(p, *(jnp.broadcast_to(a, shape).reshape(-1) for a in (speed, level)))
    return distance.reshape(shape), angle.reshape(shape)


@eqx.filter_jit
def _hits(p, speed, distance, level):
    return jax.vmap(_hits_one, in_axes=(None, 0, 0, 0))(p, speed, distance, level)


@eqx.filter_jit
def _speeds(p, angle, distance, level):
    return jax.vmap(_speed_one, in_axes=(None, 0, 0, 0))(p, angle, distance, level)


@eqx.filter_jit
def _least(p, distance, level, fractions):
    speed, angle = jax.vmap(_least_speed_one, in_axes=(None, 0, 0))(p, distance, level)
    # The curve: angles across (line of sight, π/2), where every angle can reach the target.
    sight = jnp.maximum(jnp.arctan2(level - p.height, distance), _lowest_angle(p))
    angles = sight[:, None] + fractions[None, :] * (jnp.pi / 2 - sight[:, None])
    n, k = angles.shape
    speeds = _speeds(p, angles.reshape(-1), jnp.repeat(distance, k), jnp.repeat(level, k)).reshape(n, k)
    return speed, angle, angles, speeds


def aim_sensitivity(projectile: Projectile, speed, angle, distance) -> jax.Array:
    """dθ/dd (rad per m): how the angle that hits a target moves with its distance, at a shot
    (``speed`` m/s, ``angle`` rad) through it at ``distance`` m — the condition of aiming. By the
    implicit function theorem on y(d; v, θ) = const, dθ/dd = −(∂y/∂d)/(∂y/∂θ): it grows without
    bound as the target nears the farthest reach at that speed, where ∂y/∂θ = 0 (both arcs
    meet; the maximum range for a target on the ground)."""
    def slopes(theta, d):
        return jax.jacfwd(lambda a, b: projectile.height_at(speed, a, b, mode="forward"), argnums=(0, 1))(theta, d)

    angle, distance = jnp.broadcast_arrays(as_float("angle", angle), as_float("distance", distance))
    by_angle, by_distance = jax.vmap(slopes)(angle.reshape(-1), distance.reshape(-1))
    return (-by_distance / by_angle).reshape(angle.shape)


def aim(projectile: Projectile, distance, *, target_height=0.0, speed=None, angle=None, curve_points: int = 64):
    """How to launch ``projectile`` to pass through the target (``distance`` m downrange,
    ``target_height`` m above the launch point), for each of an array of targets.

    - ``speed`` given (m/s): the angles that hit, :class:`Hits` (the low and the high arc, or
      the closest approach);
    - ``angle`` given (rad): the speed that hits (m/s), NaN where the target lies on or above
      the line of sight h + d tan θ (no speed reaches it);
    - neither: :class:`Aim`, the least-speed shot and ``curve_points`` points of the solution
      curve {(v, θ)} (each a speed solve: ``curve_points=0`` skips the curve, which under an
      ODE law costs far more than the least-speed shot itself).

    A target at the launch point (d = 0, z = 0) is passed at launch: least speed 0, and at a
    given angle speed 0. One straight above it (d = 0, z > 0) needs θ = π/2, outside the
    angles searched: unreachable (NaN, count 0).

    Arguments broadcast against each other. ValueError (eagerly) for a distance that is not
    finite and ≥ 0, a target below the ground (h + z < 0), a speed ≤ 0, an angle outside
    (−π/2, π/2) (or [0, π/2) from the ground), or both speed and angle, and for a projectile in
    a wind: the searches assume still air (the vacuum's least speed bounds the search from
    below, which a tailwind breaks).
    """
    if speed is not None and angle is not None:
        raise ValueError("speed and angle: give one of them (or neither), not both")
    if getattr(projectile, "wind", None) is not None:
        raise ValueError(f"projectile: aiming assumes still air; this one has a {projectile.wind.label()}")
    p = projectile
    distance = as_float("distance", distance)
    distance = check("distance", distance, ~jnp.isfinite(distance) | (distance < 0), "finite and >= 0")
    level = _level(p, target_height)
    given = [as_float(name, value) for name, value in (("speed", speed), ("angle", angle)) if value is not None]
    shape = jnp.broadcast_shapes(*(jnp.shape(a) for a in (distance, level, *given)))
    distance, level = (jnp.broadcast_to(a, shape).reshape(-1) for a in (distance, level))
    if speed is not None:
        v = jnp.broadcast_to(check("speed", given[0], ~jnp.isfinite(given[0]) | (given[0] <= 0), "finite and > 0"),
                             shape).reshape(-1)
        return jax.tree.map(lambda a: a.reshape(shape), _hits(p, v, distance, level))
    if angle is not None:
        lowest = float(_lowest_angle(p))
        theta = check("angle", given[0], ~(given[0] >= lowest) | ~(given[0] < jnp.pi / 2),
                      "in [0, pi/2) from the ground, in (-pi/2, pi/2) from a height")
        theta = jnp.broadcast_to(theta, shape).reshape(-1)
        return _speeds(p, theta, distance, level).reshape(shape)
    fractions = (jnp.arange(curve_points) + 0.5) / curve_points
    v, theta, angles, speeds = _least(p, distance, level, fractions)
    return Aim(v.reshape(shape), theta.reshape(shape), angles.reshape(*shape, -1), speeds.reshape(*shape, -1))
