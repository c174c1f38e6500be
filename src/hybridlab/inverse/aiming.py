"""Exact aiming: how to launch so that the trajectory passes through a target.

The target is the point (d, z) relative to the launch point: d ≥ 0 m downrange and z m above
the launch point (z < 0: below it; the projectile's ``height`` stays the launch height above
the ground). A shot (v, θ) hits it when its height at x = d is the target's,

    F(v, θ) = y(d; v, θ) − (h + z) = 0,

with y(d; v, θ) = :meth:`Projectile.height_at` (−∞ where the shot never gets that far). For any
drag force along −v the path y(x) is concave (d²y/dx² = −g/v_x²), so a path through a target at
or above the ground stays above the ground before it. Three facts make the solve a sequence of
bracketed one-dimensional roots:

- at a fixed speed, y(d; θ) rises from −∞ (θ → −π/2, or the ground's θ = 0) to one maximum at
  θ*(v) and falls to −∞ at θ → π/2: the hits are the roots on either side of θ* (the low and the
  high arc), and θ* itself is the root of ∂y/∂θ;
- at a fixed angle, y(d; v) rises with v towards the line of sight h + d tan θ: one speed hits,
  if the target lies below that line;
- the least speed that reaches the target is where max_θ y(d; v, θ) = h + z: the target lies on
  the envelope of the trajectories of that speed.

Bounds of the searches:

- speeds are searched in their logarithm, up from the answer without drag (a lower bound: drag
  only lowers a path) to :func:`speed_ceiling` (10³⁰⁰ m/s); NaN means that no speed up to the
  ceiling hits;
- the flat launch (θ = 0) gets farthest downrange: exactly so without drag and under linear
  drag (x → m v cos θ / k), and under an ODE law to within the extra drag of the other's sideways
  motion. Where even it never gets to x = d at a speed, nothing more is searched at that speed:
  such a height is −∞, which under an ODE law costs a solve to its step limit;
- a target straight above or below the launch point (d = 0) is hit by vertical shots only:
  straight up (θ = π/2) passes every height up to its apex, the highest that any path of its
  speed gets (drag along −v only lowers a path that also moves sideways), and on its way back
  every height below the launch point, which from a height straight down (θ = −π/2) passes too;
- float64 bounds the targets (see :func:`aim`): the slopes of the paths, products of a distance
  and a speed, must neither overflow nor underflow, and the heights, measured from the ground,
  must resolve the target.

Everything is vectorised over targets and compiled once per drag law and shape; the solutions
are differentiable with respect to the target and every physical parameter (implicit
function theorem) in forward mode (``jax.jvp``, ``jax.jacfwd``), as the ODE laws' height is,
except the vertical shots' (the physics' apex under an ODE law has no forward mode).
"""

from __future__ import annotations

from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.inverse.search import (bracket_going, bracket_point, bracket_start, bracket_update, bracketed_root,
                                      climb_and_polish, only, polish_going, polish_start, polish_update, search_bracket)
from hybridlab.inverse.targets import (check_reach_scale, check_resolved, check_scale, given_speed, log_speeds,
                                       target_distance, target_level)
from hybridlab.physics import Projectile
from hybridlab.physics.batching import lanes, padded, shaped
from hybridlab.physics.compiling import by_motion
from hybridlab.physics.validation import array_module, as_float, check, is_traced

# Brackets that are only searched (:func:`search_bracket`), as (relative, absolute) widths: the angle of
# the highest path to 1e-8 (near the maximum the height is off by the square of the angle's
# error, 1e-16 of the curvature), and to 1e-12 where it is an answer that is differentiated (the
# implicit function theorem holds at the root only); the least-speed shot's coarse bracket (log
# speed to 1e-3 with angles to 1e-5, then Newton's method); the vertical least speed (log speed, to
# rounding); the farthest distance at a speed (log distance to 1e-3, down to 1400 e-folds below
# the vacuum's, then Newton's method).
_PEAK = (1e-8, 1e-12)
_EXACT = (1e-12, 1e-15)
_COARSE_PEAK = (1e-5, 1e-10)
_COARSE = (1e-3, 1e-3)
_FINE = (1e-15, 1e-15)
_REACH = (0.0, 1e-3)
_REACH_FOLDS = 1400.0
# Angles strictly inside (−π/2, π/2): at ±π/2 a shot never moves downrange.
_EDGE = 1e-9
# A target whose clearance is below this (relative to its distance from the launch point) lies
# on the envelope: the two arcs merge there, within the rounding of the height.
_TANGENT = 1e-12


class Hits(eqx.Module):
    """The angles (rad) that hit the target at a given speed, per target.

    ``low`` and ``high``: the low and the high arc (NaN where there is none; both the one
    solution for a target on the envelope; straight above the launch point, ``high`` = π/2 only);
    ``count``: 0, 1 or 2 distinct solutions; ``best``: the angle that passes highest at the
    target's distance (to 1e-8 rad: the height there is flat in the angle, off by ~1e-16 of its
    curvature; π/2 straight above the launch point; 0 where no angle gets that far), and
    ``clearance`` (m): how far above the target it passes there (negative: the closest approach
    misses the target by that much, straight below it; −∞ where no path gets to its distance).

    Attributes
    ----------
    low : jax.Array
        Angle of the low arc in rad, of the broadcast shape S of :func:`aim`'s arguments (NaN where none hits).
    high : jax.Array
        Angle of the high arc in rad, shape S (NaN where none hits; π/2 straight above the launch point).
    count : jax.Array
        Number of distinct angles that hit, 0, 1 or 2 (integers), shape S.
    best : jax.Array
        The angle in rad that passes highest at the target's distance, shape S.
    clearance : jax.Array
        How far in m that angle's path passes above the target, shape S (negative: below; −∞ where no path gets
        to the target's distance).
    """

    low: jax.Array
    high: jax.Array
    count: jax.Array
    best: jax.Array
    clearance: jax.Array


class Aim(eqx.Module):
    """The least-speed shot to each target (``speed`` m/s, ``angle`` rad; NaN where no speed up
    to :func:`speed_ceiling` hits) and the solution curve: for each of ``curve_angles`` (rad,
    across the angles that can reach it), the speed that hits (``curve_speeds``, m/s).

    Attributes
    ----------
    speed : jax.Array
        Least speed in m/s, of the targets' broadcast shape S (NaN where none hits).
    angle : jax.Array
        Its launch angle in rad, shape S.
    curve_angles : jax.Array
        Angles of the solution curve in rad, shape (*S, curve_points).
    curve_speeds : jax.Array
        The speed in m/s that hits at each of them, shape (*S, curve_points) (NaN where none does).
    """

    speed: jax.Array
    angle: jax.Array
    curve_angles: jax.Array
    curve_speeds: jax.Array


def _height(p, speed, angle, distance):
    """y(d; v, θ) in m, differentiable in forward mode (the ODE laws allow only that in a root);
    NaN at a speed that is not finite and >= 0, an angle outside the launch's domain or a
    distance that is not finite and >= 0. A search can ask for one in a lane whose step left its
    bracket (exp of a log speed's overshoot, a Newton step below θ = 0), and a check there would
    stop every lane (aim(LinearDrag(1.0), m = 0.1 kg, 50 m) raised so): the other lanes get a
    valid launch, and the height is solved unchecked (:meth:`Projectile.height_at_valid`), so
    that the searches' programs hold no runtime check, which JAX's persistent cache would not
    keep."""
    lowest = jnp.where(p.height > 0, -jnp.pi / 2, 0.0)
    valid = (jnp.isfinite(speed) & (speed >= 0) & (angle >= lowest) & (angle <= jnp.pi / 2)
             & jnp.isfinite(distance) & (distance >= 0))
    launch = [jnp.where(valid, value, safe) for value, safe in ((speed, 1.0), (angle, 0.0), (distance, 0.0))]
    height = p.height_at_valid(*jnp.broadcast_arrays(*launch), mode="forward")
    return jnp.where(valid, height, jnp.nan)


def _probe(p, speed, angle, distance, tangent):
    """(y, ẏ): the height y(d; v, θ) (:func:`_height`) and its derivative along ``tangent`` =
    (dv, dθ, dd), in forward mode. The searches' one height solve: a search written as one loop
    with one call of this a step compiles one ODE solve (each call site compiles its own, and a
    site costs some 2 s of XLA compiling under an ODE law)."""
    return jax.jvp(lambda v, a, d: _height(p, v, a, d), (speed, angle, distance), tangent)


def _apex(p, speed):
    """The highest that any path of ``speed`` (m/s) gets (m above the ground): straight up's
    apex (NaN at a speed that is not finite and >= 0, or where its solve fails; unchecked, as
    :func:`_height`). Not differentiated: the physics' apex under an ODE law has no forward
    mode."""
    p, speed = jax.lax.stop_gradient((p, speed))
    valid = jnp.isfinite(speed) & (speed >= 0)
    top = p.apex_valid(jnp.where(valid, speed, 1.0), jnp.full_like(speed, jnp.pi / 2))[1]
    return jnp.where(valid, top, jnp.nan)


def _scale(p, distance, level):
    """The target's distance from the launch point, √(d² + (h + z − h)²) in m (1 m for the
    launch point itself): the misses a root finder sees are relative to it, so that its
    tolerances hold at any size of target."""
    length = jnp.hypot(distance, level - p.height)
    return jnp.where(length > 0, length, 1.0)


def _lowest_angle(p):
    """The lowest launch angle: 0 from the ground, just above −π/2 from a height."""
    return jnp.where(p.height > 0, -jnp.pi / 2 + _EDGE, jnp.zeros_like(p.height))


# The steps of :func:`_peak`, one height solve each: does the flat launch get to x = d; the height
# of the lowest launch; bisection of ∂y/∂θ; the height at the best angle; done.
_FLAT, _LOWEST, _BISECT, _AT_BEST, _DONE = range(5)


def _peak(p, speed, distance, lower, tolerance, along=None, lowest=False, active=True):
    """(flat, θ*, y*, ẏ*, bottom) at one speed (m/s) and distance d (m), in one loop of
    :func:`_probe`: the height of the flat launch, y(d; v, 0) (−∞ where even it never gets to d:
    then no angle does, and nothing more is solved); θ*(v), the angle whose path is highest at
    x = d, where ∂y/∂θ falls through 0, bisected on [``lower``, π/2) to ``tolerance`` (rad); its
    height y*, and with ``along`` = (dv, dθ, dd) the height's derivative ẏ* along it there (a
    last solve; without, ẏ* = 0 and y* is the height the bisection found at θ*); with
    ``lowest``, the height of the lowest launch, θ = ``lower`` (that of the flat launch when
    ``lower`` is 0; needed without ``along``). Where the shot never gets to d: θ* = ``lower``,
    y* = −∞, ẏ* = 0. Not ``active``: nothing is solved (the outputs as where the shot never
    gets to d)."""
    up = (0.0, 1.0, 0.0)
    tangents = up if along is None else along
    done_bisecting = _DONE if along is None else _AT_BEST

    def step(state):
        phase, bracket, flat, height, rate, bottom = state
        middle = bracket_point(bracket)
        angle = jnp.select([phase == _FLAT, phase == _LOWEST, phase == _BISECT], [0.0, lower, middle], bracket[0])
        # A lane that is done asks for the height at d = 0, which costs no solve.
        tangent = tuple(jnp.where(phase == _AT_BEST, a, b) for a, b in zip(tangents, up))
        y, slope = _probe(p, speed, angle, jnp.where(phase == _DONE, 0.0, distance), tangent)
        # Where the shot never gets to x = d (steep, |θ| near π/2 under drag) the height is −∞ and
        # its slope NaN: the maximum lies towards θ = 0 from there.
        past = jnp.where(jnp.isfinite(y), -slope, jnp.sign(angle))
        bisecting = phase == _BISECT
        bracket = jax.tree.map(partial(jnp.where, bisecting), bracket_update(bracket, middle, past), bracket)
        after_flat = jnp.where(y > -jnp.inf, jnp.where(lowest & (lower != 0), _LOWEST, _BISECT), _DONE)
        after_bisecting = jnp.where(bracket_going(bracket, tolerance), _BISECT, done_bisecting)
        phase = jnp.select([phase == _FLAT, phase == _LOWEST, bisecting, phase == _AT_BEST],
                           [after_flat, _BISECT, after_bisecting, _DONE], _DONE)
        started = (state[0] == _FLAT) | (state[0] == _LOWEST)
        flat = jnp.where(state[0] == _FLAT, y, flat)
        bottom = jnp.where(started, y, bottom)
        if along is None:  # y* is the height where the bracket's lower end last moved (at first, θ = lower)
            height = jnp.where(started | (bisecting & ~(past >= 0)), y, height)
        else:
            height = jnp.where(state[0] == _AT_BEST, y, height)
            rate = jnp.where(state[0] == _AT_BEST, slope, rate)
        return phase, bracket, flat, height, rate, bottom

    inf = jnp.full_like(speed, -jnp.inf)
    bracket = bracket_start(jnp.full_like(speed, lower), jnp.full_like(speed, jnp.pi / 2 - _EDGE), False)
    start = (jnp.where(active, _FLAT, _DONE), bracket, inf, inf, jnp.zeros_like(speed), inf)
    _, bracket, flat, height, rate, bottom = jax.lax.while_loop(lambda state: state[0] != _DONE, step, start)
    return flat, bracket[0], height, rate, bottom


def _miss(p, log_speed, angle, distance, level):
    """The relative miss (y(d; v, θ) − (h + z))/√(d² + z²) of one target."""
    return (_height(p, jnp.exp(log_speed), angle, distance) - level) / _scale(p, distance, level)


def _speed_miss(log_speed, args):
    """:func:`_miss` as a function of the log speed, ``args`` = (p, θ, d, h + z)."""
    p, angle, distance, level = args
    return _miss(p, log_speed, angle, distance, level)


def _peak_one(p, speed, distance, level):
    """(flat, θ*, clearance m, bottom): :func:`_peak` at x = d > 0 to 1e-8 rad, how far above
    the target the best path passes there, and the lowest launch's height at d."""
    flat, best, height, _, bottom = _peak(p, speed, distance, _lowest_angle(p), _PEAK, lowest=True)
    return flat, best, height - level, bottom


# The stages of :func:`_arcs_one`'s loop: the low arc's bracket, its polish, the high arc's, done.
_LOW, _LOW_POLISH, _HIGH, _HIGH_POLISH, _ARCS_DONE = range(5)
# An arc's bracket is bisected to this width (rad; relative, absolute) before Newton's method, kept
# inside it: 1e-3 took 2000 baseball targets' arcs 16 % less time than 1e-6, to the same residuals.
_ARC_WIDTH = (1e-3, 1e-3)


def _arc_step(p, speed, distance, level, best, state):
    """One step of :func:`_arcs_one`'s loop: one height solve (:func:`_probe`), at the bracket's
    middle while bisecting, at Newton's point while polishing (:func:`polish_update`); the miss
    made relative and, for the high arc (where it falls through 0), negated."""
    stage, bracket, polish, low = state
    bisecting, polishing = (stage == _LOW) | (stage == _HIGH), (stage == _LOW_POLISH) | (stage == _HIGH_POLISH)
    angle = jnp.where(bisecting, bracket_point(bracket), polish[2])
    # A lane that is done asks for the height at d = 0, which costs no solve.
    y, slope = _probe(p, speed, angle, jnp.where(stage == _ARCS_DONE, 0.0, distance), (0.0, 1.0, 0.0))
    sign = jnp.where(stage >= _HIGH, -1.0, 1.0) / _scale(p, distance, level)
    value, rate = sign * (y - level), sign * slope
    bracket = jax.tree.map(partial(jnp.where, bisecting), bracket_update(bracket, angle, value), bracket)
    polish = jax.tree.map(partial(jnp.where, polishing), polish_update(polish, value, rate, rate), polish)
    bracketed = bisecting & ~bracket_going(bracket, _ARC_WIDTH)
    polish = jax.tree.map(partial(jnp.where, bracketed), polish_start(bracket[0], bracket[1]), polish)
    # Relative steps only: a low arc can lie 1e-40 rad above the horizontal.
    polished = polishing & ~polish_going(polish, floor=0.0)
    low = jnp.where(polished & (stage == _LOW_POLISH), polish[3][0], low)
    # The high arc's bracket, [θ*, π/2), once the low arc is done.
    bracket = jax.tree.map(partial(jnp.where, polished & (stage == _LOW_POLISH)),
                           bracket_start(best, jnp.pi / 2 - _EDGE, False), bracket)
    stage = stage + jnp.where(bracketed | polished, 1, 0)
    return stage, bracket, polish, low


@jax.custom_jvp
def _arcs_one(p, speed, distance, level, best, bottom):
    """(low, high): the angles below and above ``best`` whose paths pass through a target that
    the best one clears; the low one NaN where even the lowest angle's path passes above it (its
    height at d, ``bottom``). In one loop with one height solve a step (each call site of a solve
    compiles on its own, some 2 s under an ODE law): for each arc in turn, bisection of its
    bracket ([lowest, θ*], [θ*, π/2)) to 1e-3 rad, then Newton's method kept inside it. One arc
    after the other, not both as lanes of one search, which would run until the slower is done
    (2000 baseball targets took 25 % longer so). Differentiated by the implicit function
    theorem on the miss (below)."""
    # From the ground y(d; 0) = −g d²/2v² ≤ 0 always passes below; from a height the lowest path
    # never gets to d.
    needed = bottom <= level
    nan = jnp.full_like(speed, jnp.nan)
    start = (jnp.where(needed, _LOW, _HIGH), bracket_start(jnp.where(needed, _lowest_angle(p), best),
                                                            jnp.where(needed, best, jnp.pi / 2 - _EDGE), False),
             polish_start(best, best), nan)
    _, _, polish, low = jax.lax.while_loop(lambda state: state[0] != _ARCS_DONE,
                                           partial(_arc_step, p, speed, distance, level, best), start)
    return low, polish[3][0]


@_arcs_one.defjvp
def _arcs_one_jvp(primals, tangents):
    """dθ = −(∂y/∂(p, v, d, z) · their tangents)/(∂y/∂θ) at each arc θ, where y(d; v, θ) = z."""
    p, speed, distance, level, _, _ = primals
    arcs = _arcs_one(*primals)

    def change(angle):
        _, by_angle = jax.jvp(lambda a: _height(p, speed, a, distance), (angle,), (jnp.ones_like(angle),))
        _, by_rest = jax.jvp(lambda *inputs: _height(inputs[0], inputs[1], angle, inputs[2]) - inputs[3],
                             (p, speed, distance, level), tuple(tangents[:4]))
        return -by_rest / by_angle

    return arcs, tuple(change(angle) for angle in arcs)


@by_motion
def _hits(p, speed, distance, level, upright=True):
    """:class:`Hits` (see :func:`aim`); the vertical shots only if ``upright`` (a target at d = 0)."""
    vertical = distance == 0
    flat, best, clearance, bottom = only(~vertical, jax.vmap(partial(_peak_one, p)), speed, distance, level,
                                          outputs=4)
    reaches = ~vertical & (flat > -jnp.inf)
    # A target on the envelope (within rounding of it, either side) has one solution, the best angle.
    tangent = reaches & (jnp.abs(clearance) <= _TANGENT * _scale(p, distance, level))
    low, high = only(reaches & (clearance > 0) & ~tangent, jax.vmap(partial(_arcs_one, p)),
                      speed, distance, level, best, bottom)
    low, high = jnp.where(tangent, best, low), jnp.where(tangent, best, high)
    best, clearance = jnp.where(reaches, best, 0.0), jnp.where(reaches, clearance, -jnp.inf)
    if upright:  # straight up to a height up to its apex or below the launch point; below it straight down too
        apex = only(vertical, jax.vmap(partial(_apex, p)), speed, outputs=1)
        low = jnp.where(vertical & (level < p.height), -jnp.pi / 2, low)
        high = jnp.where(vertical, jnp.where(apex >= level, jnp.pi / 2, jnp.nan), high)
        best = jnp.where(vertical, jnp.pi / 2, best)
        clearance = jnp.where(vertical, apex - level, clearance)
    count = jnp.where(tangent, 1, jnp.isfinite(low).astype(int) + jnp.isfinite(high).astype(int))
    return Hits(low, high, count, best, clearance)


def _speed_bracket_one(p, angle, distance, level):
    """(low, high): a bracket of the log speed that hits one target (d > 0, below the line of
    sight h + d tan θ) at this angle, climbed to from the speed without drag,
    v₀² = g d² / (2 cos²θ (d tan θ − z)) (drag only lowers a path); ``high`` NaN where no speed
    up to the ceiling hits."""
    rise = level - p.height
    vacuum = jnp.log(distance / jnp.cos(angle)) + 0.5 * (jnp.log(0.5 * p.g) - jnp.log(distance * jnp.tan(angle) - rise))
    ceiling = jnp.maximum(log_speeds(p, distance, level)[1], vacuum)
    args = (p, angle, distance, level)
    low, high, found = search_bracket(lambda u: _speed_miss(u, args), vacuum, ceiling, _COARSE, climbing=True)
    return low, jnp.where(found, high, jnp.nan)


def _speed_one(p, angle, distance, level, low, high):
    """The speed (m/s) that hits one target at this angle: the root in its bracket."""
    return jnp.exp(bracketed_root(_speed_miss, low, high, (p, angle, distance, level)))


def _vertical_least_one(p, level):
    """The least speed (m/s) straight up to a height ``level`` above the launch point: where the
    apex, which rises with the speed, gets there; up from the vacuum's √(2 g (level − h))."""
    vacuum, ceiling = log_speeds(p, jnp.zeros_like(level), level)
    _, high, found = search_bracket(lambda u: _apex(p, jnp.exp(u)) - level, vacuum, ceiling, _FINE, climbing=True)
    return jnp.where(found, jnp.exp(high), jnp.nan)


@by_motion(keep=True)
def _speeds(p, angle, distance, level, wanted=True, upright=True):
    """The speeds that hit at these angles (see :func:`aim`), where ``wanted``; the vertical shot
    only if ``upright`` (a target at d = 0)."""
    below_sight = wanted & (distance > 0) & (distance * jnp.tan(angle) > level - p.height)
    low, high = only(below_sight, jax.vmap(partial(_speed_bracket_one, p)), angle, distance, level)
    speed = only(jnp.isfinite(high), jax.vmap(partial(_speed_one, p)), angle, distance, level, low, high, outputs=1)
    # At d = 0: straight up to a point above the launch point; a drop (speed 0, at any angle) to
    # one at or below it.
    if upright:
        up = wanted & (distance == 0) & (level > p.height) & (angle == jnp.pi / 2)
        speed = jnp.where(up, only(up, jax.vmap(partial(_vertical_least_one, p)), level, outputs=1), speed)
    return jnp.where(wanted & (distance == 0) & (level <= p.height), 0.0, speed)


def _vacuum_reach(p, speed, level):
    """(ln d₀, √(v² − 2g(level − h))): the log of the farthest a shot of ``speed`` gets at the
    height ``level`` without drag, d₀ = v √(v² − 2g(level − h))/g (drag only shortens a path),
    and the root in it (0 exactly at the vacuum's apex, where only straight up gets there)."""
    rise = level - p.height
    climb = jnp.sqrt(2 * p.g) * jnp.sqrt(jnp.abs(rise))
    # √(v² − 2 g rise), with no square to overflow.
    root = jnp.where(rise <= 0, jnp.hypot(speed, climb), jnp.sqrt(jnp.maximum(speed - climb, 0.0) * (speed + climb)))
    return jnp.log(speed) + jnp.log(jnp.where(root > 0, root, 1.0)) - jnp.log(p.g), root


def _envelope_one(p, fixed, level, by_speed):
    """One lane of :func:`_on_envelope`: a point on the envelope of the paths, where the highest
    path at x = d passes at the target's height, max_θ y(d; v, θ) = ``level``, and the best angle
    θ* there, by :func:`climb_and_polish` on x with :func:`_peak` (the derivative of the maximum
    is the best path's, ∂y/∂θ = 0 there).

    - ``by_speed``: the least speed to a target (d = ``fixed`` > 0), x = ln v up from the
      vacuum's least speed (which drag only raises; bisecting the whole range of speeds instead
      probed speeds of 10⁴-10⁸ times the need, whose solves under an ODE law cost some 100 times
      those near it: 201 baseball targets, 27 s of the search's 28 s). Returns (ln v, θ*, miss
      m), NaN where no speed up to the ceiling clears it. A Newton's method in (u, θ) from a
      bracket alone overshoots where drag is strong (k/m = 10/s: the best angle moves by 10 %
      across a bracket 4e-5 wide).
    - otherwise the reach of a speed (v = ``fixed``) at a height ``level`` at most its apex:
      x = −ln d, from the vacuum's reach down (strong drag may leave 10⁻³⁰⁰ of it), bisected to
      1e-3, polished always. Returns (d m, θ*, miss); at a vacuum apex straight up's (0, π/2).
    """
    vacuum, ceiling = log_speeds(p, fixed, level)
    top, root = _vacuum_reach(p, fixed, level)
    lowest = _lowest_angle(p)

    def clearance(x, tolerance, active):
        """(max_θ y − level, its derivative in x, θ*): rises through 0 (−∞ where no angle gets
        to d, without a search)."""
        speed, distance = jnp.where(by_speed, jnp.exp(x), fixed), jnp.where(by_speed, fixed, jnp.exp(-x))
        along = (jnp.where(by_speed, speed, 0.0), 0.0, jnp.where(by_speed, 0.0, -distance))
        flat, best, height, rate, _ = _peak(p, speed, distance, lowest, tolerance, along, active=active)
        reaches = flat > -jnp.inf
        return jnp.where(reaches, height - level, -jnp.inf), rate, jnp.where(reaches, best, jnp.nan)

    width = tuple(jnp.where(by_speed, a, b) for a, b in zip(_COARSE, _REACH))
    x, miss, best, found = climb_and_polish(clearance, jnp.where(by_speed, vacuum, -top),
                                            jnp.where(by_speed, ceiling, _REACH_FOLDS - top), width, _COARSE_PEAK,
                                            _EXACT, always=~by_speed)
    least = tuple(jnp.where(found, a, jnp.nan) for a in (x, best, miss))
    farthest = (jnp.where(root > 0, jnp.exp(-x), 0.0), jnp.where(root > 0, best, jnp.pi / 2), miss)
    return tuple(jnp.where(by_speed, a, b) for a, b in zip(least, farthest))


@by_motion(keep=True)
def _on_envelope(p, fixed, level, by_speed, needed):
    """:func:`_envelope_one` for lanes of targets and speeds, where ``needed`` (NaN elsewhere):
    the least speeds and the reaches as lanes of one compiled program (an aim at a speed out of
    reach asks for both; each program compiles its own ODE solves)."""
    return only(needed, jax.vmap(partial(_envelope_one, p)), fixed, level, by_speed, outputs=3)


def _envelope(x, p, distance, level):
    """F(u, θ) = (y(d; e^u, θ) − (h + z), ∂y/∂θ)/√(d² + z²): zero at the least-speed shot
    (u = log v), whose target lies on the envelope of the paths of its speed."""
    height, slope = jax.jvp(lambda a: _height(p, jnp.exp(x[0]), a, distance), (x[1],), (jnp.ones_like(x[1]),))
    return jnp.stack([height - level, slope]) / _scale(p, distance, level)


@jax.custom_jvp
def _least_lanes(p, distance, level):
    """(u, θ, G) = (log v_min, θ_min, miss m) for targets at d > 0 (NaN at d = 0), the roots
    of :func:`_envelope` (:func:`_envelope_one`). Differentiated by the implicit function
    theorem on F (below), which costs nothing until a derivative is asked for."""
    return _on_envelope(p, distance, level, jnp.ones_like(distance, dtype=bool), distance > 0)


@_least_lanes.defjvp
def _least_lanes_jvp(primals, tangents):
    """dx = −(∂F/∂x)⁻¹ (∂F/∂(p, d, z) · their tangents), at each target's root x of F."""
    p, distance, level = primals
    u, theta, miss = _least_lanes(*primals)

    def change(u, theta, distance, level, by_distance, by_level):
        x = jnp.stack([u, theta])
        jacobian = jax.jacfwd(_envelope)(x, p, distance, level)
        _, moved = jax.jvp(lambda *inputs: _envelope(x, *inputs), (p, distance, level),
                           (tangents[0], by_distance, by_level))
        return -jnp.linalg.solve(jacobian, moved)

    dx = jax.vmap(change)(u, theta, distance, level, *tangents[1:])
    return (u, theta, miss), (dx[:, 0], dx[:, 1], jnp.zeros_like(miss))


def _least(p, distance, level, fractions, upright=True):
    """The least-speed shots and the solution curves (see :func:`aim`); the vertical shots only
    if ``upright`` (a target at d = 0)."""
    log_speed, angle, miss = _least_lanes(p, distance, level)
    return _least_rest(p, distance, level, log_speed, angle, miss, fractions, upright)


@by_motion(keep=True)
def _least_rest(p, distance, level, log_speed, angle, miss, fractions, upright):
    """:func:`_least` after the search on the envelope: the vertical shots (if ``upright``)
    and the curves."""
    vertical = distance == 0
    speed = jnp.exp(log_speed)
    if upright:  # straight above the launch point, straight up; at it or below it, a drop (speed 0)
        up = vertical & (level > p.height)
        straight_up = only(up, jax.vmap(partial(_vertical_least_one, p)), level, outputs=1)
        speed = jnp.where(vertical, jnp.where(up, straight_up, 0.0), speed)
        angle = jnp.where(vertical, jnp.where(level >= p.height, jnp.pi / 2, -jnp.pi / 2), angle)
    curve = (jnp.zeros((distance.size, 0)),) * 2 if fractions.size == 0 else \
        _curve(p, distance, level, fractions, jnp.isfinite(speed), upright)
    return speed, angle, miss, *curve


def _curve(p, distance, level, fractions, wanted, upright):
    """(angles, speeds) of the solution curves: at ``fractions`` of the angles across (line of
    sight, π/2), where every angle can reach the target, the speed that hits."""
    sight = jnp.maximum(jnp.arctan2(level - p.height, distance), _lowest_angle(p))
    angles = sight[:, None] + fractions[None, :] * (jnp.pi / 2 - sight[:, None])
    n, k = angles.shape
    speeds = _speeds(p, angles.reshape(-1), jnp.repeat(distance, k), jnp.repeat(level, k), jnp.repeat(wanted, k),
                     upright)
    return angles, speeds.reshape(n, k)


@by_motion(keep=True)
def _under_apex(p, speed, level):
    """Whether each height ``level`` is at most the apex of its ``speed``."""
    return level <= jax.vmap(partial(_apex, p))(speed)


def _reach(p, speed, level, above=True):
    """:func:`reach`'s search (:func:`_on_envelope`); the apex solves (is the height above every
    path?) only if ``above`` (a target above the launch point: no path's apex is below it)."""
    xp = array_module(p, speed, level)  # NumPy when concrete: no program compiled for the masks
    under = _under_apex(p, speed, level) if above else xp.ones_like(speed, dtype=bool)
    distance, angle, _ = _on_envelope(p, speed, level, xp.zeros_like(speed, dtype=bool), under)
    return distance, xp.where(xp.asarray(under), xp.asarray(angle), np.pi / 2)


def reach(projectile: Projectile, speed, *, target_height=0.0) -> tuple[jax.Array, jax.Array]:
    """(distance m, angle rad): the farthest a shot of ``speed`` (m/s) gets at ``target_height``
    (m above the launch point) and the angle that gets it there — the maximum range when the
    target height is the ground's; the closest approach to a target out of reach. Where the
    height is above every path of this speed (above straight up's apex), the distance is NaN and
    the angle π/2.

    Parameters
    ----------
    projectile : Projectile
        The projectile, in still air (the searches assume it; a wind is refused).
    speed : array_like
        Launch speed in m/s, finite and > 0.
    target_height : array_like
        Height of the target in m above the launch point (negative: below it), at or above the ground;
        broadcast against ``speed``.

    Returns
    -------
    distance : jax.Array
        Farthest distance in m at that height, of the broadcast shape of the inputs (NaN above every path).
    angle : jax.Array
        The angle in rad that gets there, of the same shape.

    Raises
    ------
    ValueError
        Eagerly, if the projectile has a wind, a speed is not finite and > 0, a target is not finite or below
        the ground, or a speed's reach is beyond float64 (v³/g beyond 1e±300 m²/s).
    """
    p = projectile
    speed = given_speed(speed)
    level = target_level(p, target_height)
    check_reach_scale(p, speed)
    shape = np.broadcast_shapes(np.shape(speed), np.shape(level))
    # The apex's solve is compiled only for a target above the launch point (or heights traced).
    above = is_traced(level, p.height) or bool(np.any(np.asarray(level) > float(p.height)))
    return padded(lambda *shots: _reach(p, *shots, above), *lanes(shape, speed, level), shape=shape)


def aim_sensitivity(projectile: Projectile, speed, angle, distance) -> jax.Array:
    """dθ/dd (rad per m): how the angle that hits a target moves with its distance, at a shot
    (``speed`` m/s, ``angle`` rad) through it at ``distance`` m — the condition of aiming. By the
    implicit function theorem on y(d; v, θ) = const, dθ/dd = −(∂y/∂d)/(∂y/∂θ): it grows without
    bound as the target nears the farthest reach at that speed, where ∂y/∂θ = 0 (both arcs
    meet; the maximum range for a target on the ground).

    Parameters
    ----------
    projectile : Projectile
        The projectile.
    speed : float
        Launch speed in m/s, a scalar (an array does not broadcast here).
    angle : array_like
        Angle in rad of a shot through the target (an arc that ``aim`` gives), finite and in the launch's domain.
    distance : array_like
        Target distance in m downrange, finite and ≥ 0; broadcast against ``angle``.

    Returns
    -------
    sensitivity : jax.Array
        dθ/dd in rad/m, of the broadcast shape of ``angle`` and ``distance``.

    Raises
    ------
    ValueError
        If ``angle`` or ``distance`` is not real.
    equinox.EquinoxRuntimeError
        If an angle or distance is out of its domain or NaN (checked inside ``vmap``, so not a ``ValueError``).
    """
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
      the line of sight h + d tan θ, or no speed up to :func:`speed_ceiling` hits;
    - neither: :class:`Aim`, the least-speed shot and ``curve_points`` points of the solution
      curve {(v, θ)} (each a speed solve: ``curve_points=0`` skips the curve, which under an
      ODE law costs far more than the least-speed shot itself).

    At d = 0 only vertical shots hit. Straight above the launch point (z > 0): straight up
    (θ = π/2) at any speed whose apex gets there, the least speed straight up, and no speed at
    any angle given (angles are below π/2). At the launch point or below it (z ≤ 0): the least
    speed 0 (a drop; angle π/2 at it, −π/2 below it), and speed 0 at any angle given; at a given
    speed, straight up and, from a height below the launch point, straight down (θ = −π/2).

    Arguments broadcast against each other. ValueError (eagerly) for a distance that is not
    finite and ≥ 0, a target below the ground (h + z < 0), a speed ≤ 0, an angle outside
    (−π/2, π/2) (or [0, π/2) from the ground), or both speed and angle, and for a projectile in
    a wind: the searches assume still air (the vacuum's least speed bounds the search from
    below, which a tailwind breaks). ValueError too where float64 cannot aim: a target whose
    paths' slopes over- or underflow (without drag at 9.81 m/s², beyond ~1e±199 m from the
    launch point), a given speed whose low arc or farthest reach does, a launch height above 10⁹
    times the target's distance, and a least-speed shot that misses its target by more than 1e-6
    of that distance (drag so strong that the least speed lies within rounding of the speed
    below which no angle gets there).

    Parameters
    ----------
    projectile : Projectile
        The projectile, in still air.
    distance : array_like
        Target distance d in m downrange, finite and ≥ 0.
    target_height : array_like
        Target height z in m above the launch point (h + z ≥ 0).
    speed : array_like, optional
        A given launch speed in m/s, finite and > 0: solve for the angles.
    angle : array_like, optional
        A given launch angle in rad: solve for the speed.
    curve_points : int
        Points of the solution curve when neither is given (0: no curve).

    Returns
    -------
    hits : Hits
        With ``speed``: ``low``, ``high``, ``best`` (rad), ``count`` and ``clearance`` (m), each of the
        broadcast shape S of the arguments.
    speed : jax.Array
        With ``angle``: the speed in m/s that hits, shape S (NaN where none does).
    aim : Aim
        With neither: the least-speed shot (shape S) and the solution curve (shape (*S, curve_points)).

    Raises
    ------
    ValueError
        Eagerly, for the refusals listed above.
    """
    if speed is not None and angle is not None:
        raise ValueError("speed and angle: give one of them (or neither), not both")
    p = projectile
    distance = target_distance(distance)
    level = target_level(p, target_height)
    given = [as_float(name, value) for name, value in (("speed", speed), ("angle", angle)) if value is not None]
    shape = np.broadcast_shapes(*(np.shape(a) for a in (distance, level, *given)))
    distance, level = lanes(shape, distance, level)
    # The vertical shots' solves are compiled only for a target at d = 0 (or distances traced).
    upright = is_traced(distance) or bool(np.any(distance == 0))
    if speed is not None:
        (v,) = lanes(shape, given_speed(given[0]))
        check_scale(p, distance, level, v)
        return padded(lambda *shots: _hits(p, *shots, upright), v, distance, level, shape=shape)
    if angle is not None:
        lowest = float(_lowest_angle(p))
        theta = check("angle", given[0], lambda xp, a: ~(a >= lowest) | ~(a < np.pi / 2),
                      "in [0, pi/2) from the ground, in (-pi/2, pi/2) from a height")
        (theta,) = lanes(shape, theta)
        check_scale(p, distance, level)
        return padded(lambda *shots: _speeds(p, *shots, upright=upright), theta, distance, level, shape=shape)
    check_scale(p, distance, level)
    fractions = (np.arange(curve_points) + 0.5) * (1.0 / max(curve_points, 1))  # as XLA divides by a constant
    v, theta, miss, angles, speeds = padded(lambda *shots: _least(p, *shots, fractions, upright), distance, level)
    check_resolved(p, distance, level, miss)
    return Aim(*(shaped(a, shape) for a in (v, theta, angles, speeds)))

