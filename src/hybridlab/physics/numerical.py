"""Motion under any drag law, by a Diffrax ODE solve (quadratic drag has no closed form).

Equations of motion, m dv/dt = F_drag(v) − m g ŷ, dx/dt = v. They are solved in units of the
launch (speed scale V = max(v, √(g h)), time V/g, length V²/g) so that tolerances are relative,
with 8th-order Dormand–Prince.

Ground impact (y = 0) and the apex (v_y = 0) are found in three moves:
1. a cheap solve (rtol 1e-8) with a Diffrax event locates the crossing time t_e roughly — the
   event is located on the solver's dense interpolant, which is far less accurate than the
   steps themselves (errors up to ~1e-9 relative at rtol 1e-12 were measured);
2. an accurate solve (rtol = atol = 1e-12) steps exactly to t_e;
3. one Newton step along the trajectory, dt = −y/v_y (or −v_y/a_y), puts the state on the
   crossing; the residual is O(dt²), below machine precision.
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

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx

_SOLVER = diffrax.Dopri8()
_ROUGH = diffrax.PIDController(rtol=1e-8, atol=1e-8)
_ACCURATE = diffrax.PIDController(rtol=1e-12, atol=1e-12)
_ROOT_FINDER = optx.Newton(rtol=1e-12, atol=1e-12)
_MAX_STEPS = 16_384
# Far beyond any crossing (in units of V/g): the event ends the rough solve long before.
_T_MAX = 1e6
_HEIGHT, _VY = 1, 3  # components of the state (x, y, v_x, v_y)
#: Reverse mode through the solve (Diffrax's default): jax.grad, jax.vjp.
REVERSE = diffrax.RecursiveCheckpointAdjoint()
#: Forward mode through the solve: jax.jvp, jax.jacfwd.
FORWARD = diffrax.ForwardMode()


def _scales(p, speed):
    """(V, V/g, V²/g): speed (m/s), time (s) and length (m) scales of the launch."""
    v = jnp.maximum(speed, jnp.sqrt(p.g * p.height))
    v = jnp.where(v > 0, v, 1.0)
    return v, v / p.g, v**2 / p.g


def _vector_field(t, state, args):
    """d/dt̃ of the scaled state (x̃, ỹ, ṽx, ṽy): (ṽx, ṽy, F_x/(m g), F_y/(m g) − 1)."""
    p, v_scale = args
    _, _, vx, vy = state
    fx, fy = p.drag.force(vx * v_scale, vy * v_scale)
    weight = p.mass * p.g
    return jnp.stack([vx, vy, fx / weight, fy / weight - 1.0])


def _solve(p, speed, angle, t_end, controller=_ACCURATE, event=None, adjoint=REVERSE):
    """(t, scaled state at t, scales): the solve to ``t_end`` (scaled time) or to the event."""
    scales = v_scale, _, length_scale = _scales(p, speed)
    state0 = jnp.stack(
        [
            0.0,
            p.height / length_scale,
            speed * jnp.cos(angle) / v_scale,
            speed * jnp.sin(angle) / v_scale,
        ]
    )
    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(_vector_field),
        _SOLVER,
        t0=0.0,
        t1=t_end,
        dt0=None,
        y0=state0,
        args=(p, v_scale),
        saveat=diffrax.SaveAt(t1=True),
        stepsize_controller=controller,
        event=event,
        max_steps=_MAX_STEPS,
        adjoint=adjoint,
    )
    state = solution.ys[0]
    if event is not None:
        # A solve whose event never fires runs to t1 and returns garbage: refuse it.
        state = eqx.error_if(state, ~solution.event_mask, "the projectile never reached the event")
    return solution.ts[0], state, scales


def _constant(tree):
    """``tree`` with its arrays cut from differentiation (its other leaves as they are)."""
    return jax.tree.map(lambda x: jax.lax.stop_gradient(x) if eqx.is_array_like(x) else x, tree)


def _height(t, y, args, **kwargs):
    return y[_HEIGHT]


def _vertical_speed(t, y, args, **kwargs):
    return y[_VY]


# Event conditions by state component; module-level so that compiled solves are reused.
_CONDITIONS = {_HEIGHT: _height, _VY: _vertical_speed}


def _crossing(p, speed, angle, component, adjoint=REVERSE):
    """Accurate (t, scaled state, scales) where state[component] falls through 0."""
    event = diffrax.Event(_CONDITIONS[component], root_finder=_ROOT_FINDER, direction=False)
    # Only the rough time is used, and not differentiated: cut the solve's inputs from the graph
    # too, so that neither mode of differentiation goes through it.
    rough_time, _, _ = _solve(*_constant((p, speed, angle)), _T_MAX, controller=_ROUGH, event=event)
    t, state, scales = _solve(p, speed, angle, jax.lax.stop_gradient(rough_time), adjoint=adjoint)
    rate = _vector_field(t, state, (p, scales[0]))
    dt = -state[component] / rate[component]
    # Second order in dt for the position, whose first derivative vanishes at the apex.
    state = state + rate * dt + 0.5 * jnp.zeros_like(state).at[:2].set(rate[2:]) * dt**2
    return t + dt, state, scales


def trajectory(p, speed, angle, t, adjoint=REVERSE):
    """Position (x, y) in m at time t (s), by integrating to t (free flight, not stopped at y = 0)."""
    _, time_scale, length_scale = _scales(p, speed)
    # diffeqsolve needs t1 > t0; at t = 0 the answer is the launch point anyway.
    _, state, _ = _solve(p, speed, angle, jnp.where(t > 0, t / time_scale, 1.0), adjoint=adjoint)
    x, y = jnp.where(t > 0, state[:2], jnp.stack([0.0, p.height / length_scale])) * length_scale
    return x, y


def landing(p, speed, angle, adjoint=REVERSE):
    """(T, x, vx, vy) when the shot reaches y = 0: flight time (s), range (m), velocity (m/s)."""
    grounded = (p.height == 0) & (speed * jnp.sin(angle) <= 0)
    # A shot from the ground that does not rise lands at once; its (unused) solve gets a
    # valid launch instead, so that its event fires.
    t, state, (v_scale, time_scale, length_scale) = _crossing(
        p, jnp.where(grounded, 1.0, speed), jnp.where(grounded, jnp.pi / 4, angle), _HEIGHT, adjoint
    )
    x, _, vx, vy = state
    launch = (0.0, 0.0, speed * jnp.cos(angle), speed * jnp.sin(angle))
    landed = (t * time_scale, x * length_scale, vx * v_scale, vy * v_scale)
    return tuple(jnp.where(grounded, a, b) for a, b in zip(launch, landed))


def apex(p, speed, angle, adjoint=REVERSE):
    """Highest point (x, y) in m, where v_y falls through 0; the launch point when v_y(0) ≤ 0."""
    rising = speed * jnp.sin(angle) > 0
    # A shot that does not rise has no apex event; its (unused) solve gets a rising launch.
    _, state, (_, _, length_scale) = _crossing(
        p, jnp.where(rising, speed, 1.0), jnp.where(rising, angle, jnp.pi / 4), _VY, adjoint
    )
    x, y = state[:2] * length_scale
    return jnp.where(rising, x, 0.0), jnp.where(rising, y, p.height)


def landing_forward(p, speed, angle):
    """:func:`landing` through a solve differentiated in forward mode (``jax.jvp``,
    ``jax.jacfwd``), not reverse: for the Jacobian of many shots with respect to a few
    parameters, 1.4-2.3x faster than per-shot gradients and half the compile
    (benchmarks/physics_fit_jacobian.py)."""
    return landing(p, speed, angle, adjoint=FORWARD)

