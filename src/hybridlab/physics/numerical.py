"""Motion under any drag law, by a Diffrax ODE solve (quadratic drag has no closed form).

Equations of motion, m dv/dt = F_drag(v) − m g ŷ, dx/dt = v. They are solved with 8th-order
Dormand–Prince in units of a speed V (time V/g, length V²/g), so that tolerances are relative:
the launch's V = max(v, √(g h)), or the law's terminal speed v_t (quadratic drag: √(m g/c)) where
that is lower — under strong drag the whole motion lives at the scale of v_t, some 1e-99 of the
launch's units at c = 1e100. The height is measured from the launch point. Two phases that an
explicit solver cannot afford are taken in closed form (for a law with a terminal speed):
- a launch faster than 1e8 v_t first slows under drag alone, |v| = v₀/(1 + v₀ t c/m), over
  a path (m/c) ln(v₀/(1e8 v_t)) (gravity's share of the velocity change is 1e-16);
- a fall deeper than 256 terminal lengths v_t²/g (beyond the drag-only descent) ends at the
  terminal speed to machine precision (v_y + v_t decays like e^{−2 g t/v_t}), so only the
  last 256 are solved and the rest adds (h − 256 v_t²/g)/v_t to the flight time.

A horizontal wind w(t) enters the drag's argument, the velocity relative to the air
v − (w(t), 0), with t = t̃ V/g. Neither shortcut above is taken under a wind (a fast launch
through moving air, and a deep fall's drift with a wind that changes in time, have no such
closed form): the whole motion is solved, and a motion beyond the solver's step limit is an
error, not an approximation. The wind's speed enters V (V = max(v, √(g h), max|w|) before the cap).

Ground impact (y = 0), the apex (v_y = 0) and the passage over a distance (x = d, for
:func:`height_at`) are found in three moves:
1. a cheap solve (rtol 1e-8) with a Diffrax event locates the crossing time t_e roughly — the
   event is located on the solver's dense interpolant, which is far less accurate than the
   steps themselves (errors up to ~1e-9 relative at rtol 1e-12 were measured);
2. an accurate solve (rtol = atol = 1e-12) steps exactly to t_e;
3. one Newton step along the trajectory, dt = −y/v_y (or −v_y/a_y, or −(x − d)/v_x) puts the
   state on the crossing; the residual is O(dt²), below machine precision.
The Newton step also carries the derivative: d(t_e − y/v_y) = −(∂y/∂p)/v_y, the implicit-
function-theorem value, whatever t_e is, so the rough solve is kept out of differentiation.
All functions take scalars; the caller vectorises them with ``vmap``, which gives every shot
its own event time.

Differentiation: by default (``adjoint=REVERSE``, Diffrax's ``RecursiveCheckpointAdjoint``)
the solve supports reverse mode (``jax.grad``, ``jax.vjp``) but not forward mode: its custom
VJP admits no JVP. ``adjoint=FORWARD`` (``diffrax.ForwardMode()``) differentiates through the
solver's steps in forward mode instead (``jax.jvp``, ``jax.jacfwd``: the Jacobian of many
ranges with respect to a few parameters) and then admits no reverse mode. The rough solve is
never differentiated (its inputs and its time are cut from the graph), so either mode only
goes through the accurate solve and the Newton step.
"""

from __future__ import annotations

import functools
import math

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx

from hybridlab.physics.drag import AbstractDrag

_SOLVER = diffrax.Dopri8()
_ROUGH = diffrax.PIDController(rtol=1e-8, atol=1e-8)
_ACCURATE = diffrax.PIDController(rtol=1e-12, atol=1e-12)
_ROOT_FINDER = optx.Newton(rtol=1e-12, atol=1e-12)
_MAX_STEPS = 16_384
# Far beyond any crossing (in units of V/g): the event ends the rough solve long before.
_T_MAX = 1e6
_X, _HEIGHT, _VY = 0, 1, 3  # components of the state (x, y − h, v_x, v_y)
#: Above this speed (in units of the terminal speed) drag alone acts: see the module docstring.
_FAST = 1e8
#: Falls deeper than this (in terminal lengths) end at the terminal speed: see the module docstring.
_DEEP = 256.0
#: How far (scaled) the rough solve's ground lies below the true one: see :func:`_crossing`.
_LIFT = 1e-300
#: Below this rising speed (in units of V) a ground launch's flight is taken in closed form.
_BRIEF = 1e-9
#: The smallest terminal speed (m/s) that the scaled solve can represent.
SLOWEST = 1e-300
#: Reverse mode through the solve (Diffrax's default): jax.grad, jax.vjp.
REVERSE = diffrax.RecursiveCheckpointAdjoint()
#: Forward mode through the solve: jax.jvp, jax.jacfwd.
FORWARD = diffrax.ForwardMode()


def _terminal_speed(p):
    """v_t (m/s) if the drag law declares one (``terminal_speed(mass, g)``), else infinite."""
    declared = getattr(p.drag, "terminal_speed", None)
    return jnp.inf if declared is None else declared(p.mass, p.g)


def limit(p) -> str | None:
    """Why the scaled solve cannot represent this projectile (concrete values), or None: a
    terminal speed √(m g/c) or length m/c below 1e-300 (m/s, m)."""
    # No terminal speed (c = 0 or none declared): nothing to represent. Read from the concrete
    # c, not computed: an eager √(mg/c) would compile three programs.
    if getattr(p.drag, "terminal_speed", None) is None or not float(getattr(p.drag, "c", 0.0)) > 0:
        return None
    mass, g, c = (math.log10(float(x)) for x in (p.mass, p.g, p.drag.c))
    for name, exponent, unit in [("terminal speed √(mass·g/c)", 0.5 * (mass + g - c), "m/s"),
                                 ("terminal length mass/c", mass - c, "m")]:
        if exponent < math.log10(SLOWEST):
            return f"the {name} = {_power(exponent)} {unit} is below {SLOWEST:g} {unit}, beyond float64's reach"
    return None


def _power(exponent: float) -> str:
    """10^exponent written out, as it may underflow float64."""
    whole = math.floor(exponent)
    return f"{10 ** (exponent - whole):.3g}e{whole:+d}"


def _scales(p, speed):
    """(V, V/g, V²/g): speed (m/s), time (s) and length (m) units, V = min(max(v, √(g h), max|w|),
    v_t).

    The solution does not depend on the choice of V, so V is cut from differentiation.
    """
    launch = jnp.maximum(speed, jnp.sqrt(p.g) * jnp.sqrt(p.height))
    launch = launch if p.wind is None else jnp.maximum(launch, p.wind.fastest())
    v = jnp.minimum(launch, _terminal_speed(p))
    v = jax.lax.stop_gradient(jnp.where(v > 0, v, 1.0))
    return v, v / p.g, v * (v / p.g)


def _acceleration(p, vx, vy, v_scale):
    """F(V ṽ)/(m g) for the scaled velocity ṽ: the law's own scaled form, or for a plain module
    with only a ``force`` the generic one of :class:`AbstractDrag`."""
    scaled = getattr(p.drag, "acceleration", None) or functools.partial(AbstractDrag.acceleration, p.drag)
    return scaled(vx, vy, v_scale, p.mass, p.g)


def _air(p, t, v_scale):
    """The wind w̃ = w(t̃ V/g)/V in units of V at scaled time t̃; 0 in still air."""
    return 0.0 if p.wind is None else p.wind(t * (v_scale / p.g)) / v_scale


def _vector_field(t, state, args):
    """d/dt̃ of the scaled state (x̃, ỹ, ṽx, ṽy): (ṽx, ṽy, F_x/(m g), F_y/(m g) − 1), F at the
    velocity relative to the air (ṽx − w̃(t̃), ṽy)."""
    p, v_scale, _ = args
    _, _, vx, vy = state
    ax, ay = _acceleration(p, vx - _air(p, t, v_scale), vy, v_scale)
    return jnp.stack([vx, vy, ax, ay - 1.0])


def _launch(speed, angle, v_scale, shortcut=True):
    """(t̃₀, scaled state at t̃₀, ln ṽ₀, s̃): where the solve starts.

    The launch itself, or for ṽ₀ = v/V > _FAST the end of the drag-only phase dṽ/dt̃ = −|ṽ|ṽ:
    speed ṽ₀/(1 + ṽ₀ t̃) falls to _FAST at t̃₀ = 1/_FAST − 1/ṽ₀ after the path s̃ = ln(ṽ₀/_FAST)
    along the launch direction; ln ṽ₀ is formed from logarithms, as ṽ₀ may overflow.
    ``shortcut`` False (under a wind): always the launch itself.
    """
    moving = speed > 0
    log_v0 = jnp.log(jnp.where(moving, speed, 1.0)) - jnp.log(v_scale)
    fast = moving & (log_v0 > math.log(_FAST)) & shortcut
    run = jnp.where(fast, log_v0 - math.log(_FAST), 0.0)
    v0 = jnp.where(fast, _FAST, jnp.where(fast, v_scale, speed) / v_scale)
    t0 = jnp.where(fast, 1 / _FAST - jnp.exp(-jnp.where(fast, log_v0, 0.0)), 0.0)
    direction = jnp.stack([jnp.cos(angle), jnp.sin(angle)])
    return t0, jnp.concatenate([run * direction, v0 * direction]), log_v0, run


def _diffeqsolve(p, speed, angle, t_end, controller=_ACCURATE, event=None, adjoint=REVERSE, level=0.0,
                 throw=True, saveat=None):
    """(Diffrax solution, scales): the solve to ``t_end`` (scaled time) or to the event;
    ``level`` (scaled) is where the event's condition puts its zero (see :data:`_CONDITIONS`);
    the state saved at the end, or at ``saveat``'s times."""
    scales = v_scale, time_scale, _ = _scales(p, speed)
    t0, state0, _, _ = _launch(speed, angle, v_scale, p.wind is None)
    stops = [] if saveat is None else [saveat.subs.ts]
    if p.wind is not None and not p.wind.constant:
        # Step onto the wind's samples, where its slope jumps: a step across a kink would
        # lose the solver's order (errors of 5e-12 relative were measured).
        stops.append(jnp.linspace(0.0, 1.0, p.wind.samples.shape[0]) * p.wind.duration / time_scale)
    if stops:
        # And onto the times saved: the dense interpolant between steps is far less accurate
        # than the steps (2e-10 relative against 1e-14 was measured).
        stops = jnp.sort(jnp.concatenate(stops))
        controller = diffrax.ClipStepSizeController(controller, step_ts=jax.lax.stop_gradient(stops))
    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(_vector_field),
        _SOLVER,
        t0=t0,
        t1=t_end,
        dt0=None,
        y0=state0,
        args=(p, v_scale, level),
        saveat=saveat or diffrax.SaveAt(t1=True),
        stepsize_controller=controller,
        event=event,
        max_steps=_MAX_STEPS,
        adjoint=adjoint,
        throw=throw,
    )
    return solution, scales


def _solve(p, speed, angle, t_end, controller=_ACCURATE, event=None, adjoint=REVERSE, level=0.0, checked=True):
    """(t, scaled state at t, scales): the solve to ``t_end`` (scaled time) or to the event,
    which must fire. A failed solve, or an event that does not fire, raises when the program
    runs; not ``checked``, it gives a NaN state instead (a program without runtime checks, which
    are host callbacks: JAX's persistent cache keeps no program with one)."""
    solution, scales = _diffeqsolve(p, speed, angle, t_end, controller, event, adjoint, level, throw=checked)
    state = solution.ys[0]
    if not checked:
        ended = (solution.result == diffrax.RESULTS.successful) | (solution.result == diffrax.RESULTS.event_occurred)
        return solution.ts[0], jnp.where(ended & (solution.event_mask if event is not None else True), state,
                                         jnp.nan), scales
    if event is not None:
        # A solve whose event never fires runs to t1 and returns garbage: refuse it.
        state = eqx.error_if(state, ~solution.event_mask, "the projectile never reached the event")
    return solution.ts[0], state, scales


def _constant(tree):
    """``tree`` with its arrays cut from differentiation (its other leaves as they are)."""
    return jax.tree.map(lambda x: jax.lax.stop_gradient(x) if eqx.is_array_like(x) else x, tree)


def _height(t, y, args, **kwargs):
    """Height above the ground, which lies ``level`` (scaled) below the launch point."""
    return y[_HEIGHT] + args[2]


def _vertical_speed(t, y, args, **kwargs):
    return y[_VY]


def _past(t, y, args, **kwargs):
    """x − d: horizontal position beyond the distance ``level`` (scaled)."""
    return y[_X] - args[2]


# Event conditions by state component, and the direction in which each crosses zero (False:
# falling through it, True: rising through it); module-level so that compiled solves are reused.
_CONDITIONS = {_HEIGHT: (_height, False), _VY: (_vertical_speed, False), _X: (_past, True)}


def _event(component):
    condition, direction = _CONDITIONS[component]
    return diffrax.Event(condition, root_finder=_ROOT_FINDER, direction=direction)


def _newton(p, t, state, scales, component, level):
    """(t, state) moved by one Newton step onto the zero of ``component``'s condition."""
    args = (p, scales[0], level)
    rate = _vector_field(t, state, args)
    dt = -_CONDITIONS[component][0](t, state, args) / rate[component]
    # Second order in dt for the position, whose first derivative vanishes at the apex.
    state = state + rate * dt + 0.5 * jnp.zeros_like(state).at[:2].set(rate[2:]) * dt**2
    return t + dt, state


def _crossing(p, speed, angle, component, level=0.0, adjoint=REVERSE, checked=True):
    """Accurate (t, scaled state, scales) where the event condition of ``component`` (height
    above the ground ``level`` below the launch, or v_y) falls through 0 (``checked``: see
    :func:`_solve`)."""
    # Only the rough time is used, and not differentiated: cut the solve's inputs from the graph
    # too, so that neither mode of differentiation goes through it.
    # A launch from the ground starts on the event's zero, and an event fires only on a change of
    # sign: a first step past a short flight (a shallow shot) would miss the landing and fall
    # to the step limit. Raised by _LIFT, the condition starts positive and the crossing moves
    # by a negligible amount (the accurate solve and the Newton step place it exactly).
    lift = _LIFT if component == _HEIGHT else 0.0
    rough_time, rough, _ = _solve(*_constant((p, speed, angle)), _T_MAX, controller=_ROUGH, event=_event(component),
                                  level=jax.lax.stop_gradient(level) + lift, checked=checked)
    t, state, scales = _solve(p, speed, angle, jax.lax.stop_gradient(rough_time), adjoint=adjoint, level=level,
                              checked=checked)
    t, state = _newton(p, t, state, scales, component, level)
    if not checked:
        # A failed rough solve (NaN state) leaves its time finite, and the accurate solve to it
        # would place a crossing mid-flight: NaN, as a failed accurate solve gives.
        failed = jnp.any(jnp.isnan(rough))
        t, state = jnp.where(failed, jnp.nan, t), jnp.where(failed, jnp.nan, state)
    return t, state, scales


def trajectory(p, speed, angle, t, adjoint=REVERSE, checked=True):
    """Position (x, y) in m at time t (s), by integrating to t (free flight, not stopped at y = 0);
    within a drag-only phase, s̃ = ln(1 + ṽ₀ t̃) along the launch direction (``checked``: see
    :func:`_solve`)."""
    v_scale, time_scale, length_scale = _scales(p, speed)
    t0, _, log_v0, _ = _launch(speed, angle, v_scale, p.wind is None)
    scaled = t / time_scale
    solved = scaled > t0
    # diffeqsolve needs t1 > t0; before t0 the closed form holds anyway.
    _, state, _ = _solve(p, speed, angle, jnp.where(solved, scaled, t0 + 1.0), adjoint=adjoint, checked=checked)
    early = jnp.where(scaled > 0, jnp.logaddexp(0.0, log_v0 + jnp.log(jnp.where(scaled > 0, scaled, 1.0))), 0.0)
    early_position = early * jnp.stack([jnp.cos(angle), jnp.sin(angle)])
    x, y = jnp.where(solved, state[:2], early_position) * length_scale
    return x, p.height + y


def positions(p, speed, angle, ts, adjoint=REVERSE):
    """Positions (P, 2) in m at the increasing times ``ts`` (P,) (s, from 0) of free flight, from
    one solve that saves at every time (:func:`trajectory` solves once per time); within a
    drag-only fast phase, its closed form."""
    v_scale, time_scale, length_scale = _scales(p, speed)
    t0, _, log_v0, _ = _launch(speed, angle, v_scale, p.wind is None)
    scaled = ts / time_scale
    solved = scaled > t0
    end = jnp.maximum(scaled[-1], t0 + 1.0)
    solution, _ = _diffeqsolve(p, speed, angle, end, adjoint=adjoint,
                               saveat=diffrax.SaveAt(ts=jnp.clip(scaled, t0, end)))
    early = jnp.where(scaled > 0, jnp.logaddexp(0.0, log_v0 + jnp.log(jnp.where(scaled > 0, scaled, 1.0))), 0.0)
    early_position = early[:, None] * jnp.stack([jnp.cos(angle), jnp.sin(angle)])
    position = jnp.where(solved[:, None], solution.ys[:, :2], early_position) * length_scale
    return position.at[:, 1].add(p.height)


def _early_landing(early, angle, depth, log_v0, scales):
    """(T, x, vx, vy) of a downward launch that reaches the ground within its drag-only phase
    (where ``early``; other lanes get a harmless stand-in): after the path s̃ = h̃/|sin θ|, at
    t̃ = e^{s̃ − ln ṽ₀} − e^{−ln ṽ₀}, at speed e^{ln ṽ₀ − s̃}."""
    v_scale, time_scale, length_scale = scales
    sine = jnp.where(early, jnp.sin(angle), -1.0)
    path = jnp.where(early, depth, 0.0) / -sine
    time = time_scale * (jnp.exp(path - log_v0) - jnp.exp(-log_v0))
    landing_speed = v_scale * jnp.exp(log_v0 - path)
    return time, path * jnp.cos(angle) * length_scale, landing_speed * jnp.cos(angle), landing_speed * sine


def _root(x):
    """√x for x ≥ 0 with a finite derivative at 0 (taken as 0): a ground launch's ỹ₀ = 0 made
    √(−2 ã_y ỹ₀)'s derivative infinite, and reverse mode's 0 × ∞ a NaN gradient of every
    landing, the lanes not brief included."""
    positive = x > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1.0)), 0.0)


def _brief_landing(p, speed, angle, scales):
    """(T, x, vx, vy) of a flight too short for the solve's event to resolve (a ground launch
    rising at ṽ_y < _BRIEF, a scaled flight time below ~2e-9): the third-order Taylor expansion
    of the motion at the (scaled) start of the solve, s(t̃) = s₀ + ṡ t̃ + s̈ t̃²/2 + s⃛ t̃³/6, whose
    height falls to 0 at the root of its quadratic part, t̃₂ = (ṽ_y + √(ṽ_y² − 2 ã_y ỹ₀))/(−ã_y),
    moved by one Newton step onto the cubic's; the error is of order (t̃ × the drag's rate)²."""
    v_scale, time_scale, length_scale = scales
    t0, state, _, _ = _launch(speed, angle, v_scale, p.wind is None)

    def rate(t, s):
        return _vector_field(t, s, (p, v_scale, 0.0))

    first = rate(t0, state)
    second = jax.jvp(rate, (t0, state), (jnp.ones_like(t0), first))[1]
    third = jnp.concatenate([second[2:], jnp.zeros(2)])  # the jerk's velocity part is not needed
    ay = jnp.minimum(first[_VY], -1e-300)  # (drag opposes the rise; a stand-in lane may give anything)
    # In units of the larger of ṽ_y and √(−2 ã_y ỹ₀): ṽ_y² underflows below ṽ_y = 1e-154.
    unit = jnp.maximum(jnp.abs(first[_HEIGHT]), _root(-2 * ay * state[_HEIGHT]))
    unit = jnp.where(unit > 0, unit, 1.0)
    rise, drop = first[_HEIGHT] / unit, -2 * ay * (state[_HEIGHT] / unit) / unit
    t = unit * (rise + _root(rise**2 + drop)) / -ay

    def at(t):
        return state + first * t + second * t**2 / 2 + third * t**3 / 6

    t = t - at(t)[_HEIGHT] / (first[_HEIGHT] + second[_HEIGHT] * t + third[_HEIGHT] * t**2 / 2)
    x, _, vx, vy = at(t)
    return (t0 + t) * time_scale, x * length_scale, vx * v_scale, vy * v_scale


def landing(p, speed, angle, adjoint=REVERSE, checked=True):
    """(T, x, vx, vy) when the shot reaches y = 0: flight time (s), range (m), velocity (m/s)
    (``checked``: see :func:`_solve`)."""
    grounded = (p.height == 0) & (speed * jnp.sin(angle) <= 0)
    # A shot from the ground that does not rise lands at once; its (unused) solve gets a
    # valid launch instead, so that its event fires.
    launch = (0.0, 0.0, speed * jnp.cos(angle), speed * jnp.sin(angle))
    speed, angle = jnp.where(grounded, 1.0, speed), jnp.where(grounded, jnp.pi / 4, angle)
    scales = v_scale, time_scale, length_scale = _scales(p, speed)
    _, _, log_v0, run = _launch(speed, angle, v_scale, p.wind is None)
    descent = run * jnp.maximum(-jnp.sin(angle), 0.0)
    # A deep fall is solved over its last _DEEP terminal lengths only (see the module docstring).
    shallow = (p.height <= (_DEEP + descent) * length_scale) | (p.wind is not None)
    high = p.height > 0  # (and the length unit may underflow to 0 for a launch at 1e-200 m/s)
    depth = jnp.where(shallow, jnp.where(shallow & high, p.height, 0.0) / jnp.where(high, length_scale, 1.0),
                      _DEEP + descent)
    rest = jnp.where(shallow, 0.0, (p.height - depth * length_scale) / v_scale)
    early = descent > depth
    # A landing within the drag-only phase gives its (unused) solve a ground it reaches.
    t, state, _ = _crossing(p, speed, angle, _HEIGHT, jnp.where(early, descent + 1.0, depth), adjoint, checked)
    x, _, vx, vy = state
    solved = (t * time_scale + rest, x * length_scale, vx * v_scale, vy * v_scale)
    landed = tuple(jnp.where(early, a, b) for a, b in zip(_early_landing(early, angle, depth, log_v0, scales), solved))
    # A downward throw from a height below 1e-280 units of length lands before its scaled height
    # is representable: NaN (an eager call refuses it), not a wrong landing.
    lost = (p.height > 0) & (depth < 1e-280) & (angle < 0) & ~early
    landed = tuple(jnp.where(lost, jnp.nan, value) for value in landed)
    brief = (p.height == 0) & (speed * jnp.sin(angle) < _BRIEF * v_scale)
    landed = tuple(jnp.where(brief, a, b) for a, b in zip(_brief_landing(p, speed, angle, scales), landed))
    return tuple(jnp.where(grounded, a, b) for a, b in zip(launch, landed))


def apex(p, speed, angle, adjoint=REVERSE, checked=True):
    """Highest point (x, y) in m, where v_y falls through 0; the launch point when v_y(0) ≤ 0
    (``checked``: see :func:`_solve`)."""
    rising = speed * jnp.sin(angle) > 0
    # A shot that does not rise has no apex event; its (unused) solve gets a rising launch.
    _, state, (_, _, length_scale) = _crossing(
        p, jnp.where(rising, speed, 1.0), jnp.where(rising, angle, jnp.pi / 4), _VY, adjoint=adjoint, checked=checked
    )
    x, y = state[:2] * length_scale
    return jnp.where(rising, x, 0.0), p.height + jnp.where(rising, y, 0.0)


#: :func:`apex` without runtime checks (NaN where a solve fails), for programs that JAX's
#: persistent cache should keep; one object, so that compiled programs of it are reused.
apex_unchecked = functools.partial(apex, checked=False)


def landing_forward(p, speed, angle, checked=True):
    """:func:`landing` through a solve differentiated in forward mode (``jax.jvp``,
    ``jax.jacfwd``), not reverse: for the Jacobian of many shots with respect to a few
    parameters, 1.4-2.3x faster than per-shot gradients and half the compile
    (benchmarks/physics_fit_jacobian.py)."""
    return landing(p, speed, angle, adjoint=FORWARD, checked=checked)


landing_unchecked = functools.partial(landing, checked=False)
landing_forward_unchecked = functools.partial(landing_forward, checked=False)
trajectory_unchecked = functools.partial(trajectory, checked=False)

#: Each checked per-shot solve and its program without runtime checks (NaN where a solve fails),
#: which gives the same values bit for bit where it succeeds: an eager call runs the latter,
#: which JAX's persistent cache keeps (it keeps no program with a host callback), and the
#: former only where a value is NaN (a failed solve's), for the failure's one-line cause: a
#: second compiled program on that path.
UNCHECKED = {landing: landing_unchecked, landing_forward: landing_forward_unchecked, apex: apex_unchecked,
             trajectory: trajectory_unchecked}


def height_at(p, speed, angle, distance, adjoint=REVERSE):
    """y (m) of free flight (not stopped at the ground) where x first reaches ``distance`` d ≥ 0
    (m); −inf where it never does: v cos θ = 0 with d > 0, or d beyond the reach of the solve
    (x not at d within its horizon of 1e6 time units V/g or its step limit, as under a law whose
    x has an asymptote, such as linear drag). The launch height at d = 0.

    Found like the height's zero: a rough solve with an event on x − d rising through 0, an
    accurate solve to its time, one Newton step dt = −(x − d)/v_x. A distance passed within the
    drag-only fast phase (see :func:`_launch`), which runs straight along the launch direction,
    is at height h + d tan θ.
    """
    v_scale, _, length_scale = _scales(p, speed)
    _, state0, _, _ = _launch(speed, angle, v_scale, p.wind is None)
    target = distance / length_scale
    # Passed at once: d = 0, or within the drag-only phase (x̃₀ = s̃ cos θ there).
    early = target <= state0[_X]
    moving = speed * jnp.cos(angle) > 0
    solved = ~early & moving
    # Lanes that are not solved get a launch and a target that the solve reaches at once.
    speed_s, angle_s = jnp.where(solved, speed, 1.0), jnp.where(solved, angle, jnp.pi / 4)
    target_s = jnp.where(solved, target, 1e-3)
    rough, _ = _diffeqsolve(*_constant((p, speed_s, angle_s)), _T_MAX, controller=_ROUGH, event=_event(_X),
                            level=jax.lax.stop_gradient(target_s), throw=False)
    reached = solved & rough.event_mask
    # A solve that fails otherwise than by its step limit: NaN, which an eager call reports.
    failed = ~rough.event_mask & (rough.result != diffrax.RESULTS.max_steps_reached) \
        & (rough.result != diffrax.RESULTS.successful)
    # Lanes that did not reach d take a short accurate solve, discarded below.
    t0 = _launch(speed_s, angle_s, _scales(p, speed_s)[0], p.wind is None)[0]
    t_end = jnp.where(reached, rough.ts[0], t0 + 1e-3)
    accurate, scales = _diffeqsolve(p, speed_s, angle_s, jax.lax.stop_gradient(t_end), adjoint=adjoint,
                                    level=target_s, throw=False)
    # A long fall that the rough solve crossed but the accurate one cannot in its step limit
    # lies beyond the solve's reach, as one the rough solve never crossed.
    reached = reached & (accurate.result == diffrax.RESULTS.successful)
    _, state = _newton(p, accurate.ts[0], accurate.ys[0], scales, _X, target_s)
    solved_height = p.height + jnp.where(reached, state[_HEIGHT], 0.0) * scales[2]
    early_height = p.height + jnp.where(early, distance, 0.0) * jnp.tan(angle)
    height = jnp.where(reached, solved_height, jnp.where(early, early_height, -jnp.inf))
    return jnp.where(failed & solved, jnp.nan, height)


def height_at_forward(p, speed, angle, distance):
    """:func:`height_at` through a solve differentiated in forward mode (``jax.jvp``)."""
    return height_at(p, speed, angle, distance, adjoint=FORWARD)
