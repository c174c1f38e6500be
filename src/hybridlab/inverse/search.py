"""One-dimensional searches written as steps of one loop, for searches whose every step costs an
ODE solve: one call of the function a step, so that a compiled search holds one call site of
the solve (each site compiles on its own, some 2 s under an ODE law). Brackets climbed and halved
(:func:`search_bracket`), Newton's method kept inside a bracket (:func:`polish_update`), both in
one loop (:func:`climb_and_polish`), and lanes of a vectorised search that need no solve
(:func:`only`). No physics: the functions searched are the caller's.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optimistix as optx

# :func:`bracketed_root`: a bracket narrowed to 1e-6 by bisection, then Newton's method (its
# derivative in forward mode) polishes the root inside that bracket, where the function is
# monotone and nearly linear, and Optimistix differentiates it implicitly. The functions must be
# relative (an aim's divided by the target's distance from the launch point), as Bisection's
# atol also bounds |f|. The direction is given
# (a falling function is negated), not detected: detection raises where a bracket holds no root.
_RISING = optx.Bisection(rtol=1e-6, atol=1e-6, flip=False)
# Newton takes all its steps: a test on its value would demand a miss below the solve's rounding,
# and one on its steps, their ratio, misfires where the root is near 0 (a low arc at 10²⁰ times
# the least speed without drag is 5e-41 rad above the horizontal; Newton's steps from 4e-7 rad
# shrink by 1e-13, then 1e-21).
_NEWTON = optx.Newton(rtol=1e-13, atol=1e-300)
_POLISH_STEPS = 8
_STEPS = 256
# More steps than any bracket of an aim needs (a climb of 1400 e-folds, then 1e-15 of it: 62):
# where rounding stops a bracket short of its width, the search still ends.
_BRACKET_STEPS = 200


def only(needed, solve, *lanes, outputs=2):
    """``solve(*lanes)`` (a vmapped solve returning ``outputs`` arrays shaped like the lanes)
    where ``needed``, NaN elsewhere. The other lanes repeat the first needed one, the same work
    as it (a lane of a search left to itself, e.g. an unreachable target's, could keep every
    lane's loop going to its step limit); where no lane needs it nothing is solved at all."""
    if needed.size == 0:
        return solve(*lanes)
    first = jnp.argmax(needed)
    lanes = [jnp.where(needed, lane, lane[first]) for lane in lanes]
    nan = jnp.full(needed.shape, jnp.nan, dtype=jnp.float64)
    solved = jax.lax.cond(needed.any(), lambda: solve(*lanes), lambda: nan if outputs == 1 else (nan,) * outputs)
    return jax.tree.map(lambda a: jnp.where(needed, a, jnp.nan), solved)


def bracket_start(low, high, climbing):
    """The state of a search by :func:`search_bracket` (low, high, climbing, found, stride, steps)."""
    climbing = jnp.broadcast_to(jnp.asarray(climbing), jnp.shape(low))
    return low, high, climbing, ~climbing, jnp.full_like(low, jnp.log(2.0)), jnp.zeros(jnp.shape(low), int)


def bracket_point(state):
    """Where :func:`search_bracket` evaluates next: a stride up while climbing, else the middle."""
    low, high, climbing, _, stride, _ = state
    return jnp.where(climbing, jnp.minimum(low + stride, high), 0.5 * (low + high))


def bracket_update(state, x, value):
    """The state after ``value`` = fn(x) at x = :func:`bracket_point`."""
    low, high, climbing, found, stride, steps = state
    above = value >= 0
    return (jnp.where(above, low, x), jnp.where(above, x, high), climbing & ~above & (x < high), found | above,
            2 * stride, steps + 1)


def bracket_going(state, tolerance):
    """Whether the search goes on: climbing, or wider than ``tolerance`` = (rtol, atol)."""
    low, high, climbing, _, _, steps = state
    rtol, atol = tolerance
    wide = high - low > rtol * jnp.maximum(jnp.abs(low), jnp.abs(high)) + atol
    return (climbing | wide) & (steps < _BRACKET_STEPS)


def search_bracket(fn, low, high, tolerance, climbing=False):
    """(low, high, found): a bracket where ``fn`` rises through 0 (fn(low) < 0 ≤ fn(high)),
    halved until its width is below ``tolerance`` = (rtol, atol) (relative to its ends). With
    ``climbing``, ``high`` is only a ceiling: the upper end first climbs from ``low`` by strides
    that double, ln 2, 2 ln 2, 4 ln 2, … (a speed searched in its log: ×2, ×4, ×16, …), until
    fn ≥ 0 there; ``found`` is False where it reaches the ceiling without (the bracket then
    closes there). The first stride brackets the usual target (its least speed within twice the
    vacuum's), and eleven any (10³⁰⁰ times it).

    One call of ``fn`` a step, and none in a lane that is already done. Searches whose result is
    not differentiated (brackets and starting points) use this, not Optimistix's bisection,
    which also waits for |fn| to be small: never, across a jump (to a height −∞, where the shot
    never gets to d), so 256 steps, each under an ODE law a solve to its step limit."""
    def step(state):
        x = bracket_point(state)
        return bracket_update(state, x, fn(x))

    low, high, _, found, _, _ = jax.lax.while_loop(lambda state: bracket_going(state, tolerance), step,
                                                   bracket_start(low, high, climbing))
    return low, high, found


def bracketed_root(fn, lower, upper, args):
    """The root of ``fn`` on [lower, upper], where ``fn`` (relative: its rounding near 1e-16)
    rises through 0: bracketed by bisection, polished by Newton's method kept inside the last
    bracket (a non-finite Newton answer falls back to the bracket's point)."""
    coarse = optx.root_find(fn, _RISING, 0.5 * (lower + upper), args,
                            options={"lower": lower, "upper": upper}, max_steps=_STEPS, throw=False)
    fine = optx.root_find(fn, _NEWTON, coarse.value, args,
                          options={"lower": coarse.state.lower, "upper": coarse.state.upper},
                          max_steps=_POLISH_STEPS, throw=False)
    return jnp.where(jnp.isfinite(fine.value), fine.value, coarse.value)


def polish_start(low, high):
    """The state of a search by :func:`polish_update` in [low, high], from ``high``: (low, high,
    x, last (x, value, aux) where the value was finite, moved, Newton's last step, stalled, steps)."""
    inf, nan = jnp.full_like(high, jnp.inf), jnp.full_like(high, jnp.nan)
    stalled, steps = jnp.zeros_like(high, dtype=bool), jnp.zeros(jnp.shape(high), int)
    return low, high, high, (high, nan, nan), inf, inf, stalled, steps


def polish_update(state, value, rate, aux):
    """One step of the search for the root x of a function that rises through 0 in [low, high],
    given its ``value``, derivative ``rate`` and ``aux`` at the state's x: Newton's method, a
    step that leaves the bracket (or is not finite) replaced by bisection; each value narrows the
    bracket."""
    low, high, x, last, _, newton_before, _, steps = state
    low, high = jnp.where(value >= 0, low, x), jnp.where(value >= 0, x, high)
    newton = x - value / rate
    # At the root Newton's step rounds to nothing: newton = x = high there, and ends the search.
    inside = (newton >= low) & (newton <= high)
    following = jnp.where(inside, newton, 0.5 * (low + high))
    moved = jnp.abs(following - x)
    last = jax.tree.map(lambda new, old: jnp.where(jnp.isfinite(value), new, old), (x, value, aux), last)
    return (low, high, following, last, moved, jnp.where(inside, moved, jnp.inf), inside & (moved >= newton_before),
            steps + 1)


def polish_going(state, tolerance=1e-15, floor=1.0):
    """Whether the search goes on: until a step is below ``tolerance`` (relative to the root,
    absolute below ``floor``), or a Newton step after another is no shorter than it (the rounding of an
    ODE solve, ~1e-14 of a log speed, is reached). Its result is ``last``: within that step of the
    root, and on its finite side where the function jumps there (from −∞: under strong drag the
    least speed is a few units of rounding above the speed below which no angle gets to d)."""
    _, _, x, _, moved, _, stalled, steps = state
    return (moved > tolerance * jnp.maximum(jnp.abs(x), floor)) & ~stalled & (steps < _BRACKET_STEPS)


# The stages of :func:`climb_and_polish`.
_CLIMB, _POLISH, _SETTLED = range(3)


def climb_and_polish(fn, low, ceiling, width, coarse, exact, always=False):
    """(x, value, aux, found): the root x of ``fn`` (rising through 0 from ``low`` towards
    ``ceiling``), in one loop with one call of ``fn`` a step: :func:`search_bracket` climbing from
    ``low`` and halving to ``width``, ``fn`` asked with its tolerance ``coarse``; then, where the
    bracket found a root (or ``always``), Newton's method in it (:func:`polish_update`), from its
    upper end in the bracket doubled downwards (a coarse ``fn`` can under-estimate by as much as
    the bracket's width), ``fn`` asked with its tolerance ``exact``. ``fn(x, tolerance, active)`` gives
    (value, derivative, aux) and solves nothing where not ``active``."""
    def step(state):
        stage, bracket, polish = state
        climbing = stage == _CLIMB
        x = jnp.where(climbing, bracket_point(bracket), polish[2])
        tolerance = tuple(jnp.where(climbing, c, e) for c, e in zip(coarse, exact))
        value, rate, aux = fn(x, tolerance, stage != _SETTLED)
        bracket = jax.tree.map(partial(jnp.where, climbing), bracket_update(bracket, x, value), bracket)
        polish = jax.tree.map(partial(jnp.where, stage == _POLISH), polish_update(polish, value, rate, aux), polish)
        bracketed = climbing & ~bracket_going(bracket, width)
        polish = jax.tree.map(partial(jnp.where, bracketed), polish_start(2 * bracket[0] - bracket[1], bracket[1]),
                              polish)
        stage = jnp.select([climbing, stage == _POLISH],
                           [jnp.where(bracketed, jnp.where(bracket[3] | always, _POLISH, _SETTLED), _CLIMB),
                            jnp.where(polish_going(polish), _POLISH, _SETTLED)], _SETTLED)
        return stage, bracket, polish

    start = (jnp.full(jnp.shape(low), _CLIMB), bracket_start(low, ceiling, True), polish_start(low, ceiling))
    _, bracket, polish = jax.lax.while_loop(lambda state: state[0] != _SETTLED, step, start)
    x, value, aux = polish[3]
    return x, value, aux, bracket[3]
