"""Motion under any drag law, by a Diffrax ODE solve (quadratic drag has no closed form).

Equations of motion, m dv/dt = F_drag(v) − m g ŷ, dx/dt = v. They are solved in units of the
launch (speed scale V = max(v, √(g h)), time V/g, length V²/g) so that the tolerances are
relative; 8th-order Dormand–Prince, rtol = atol = 1e-12. Ground impact and the apex are
Diffrax events (y = 0 and v_y = 0 crossed downwards), located by Newton on the dense output;
the event time is differentiable (implicit function theorem). All functions take scalars; the
caller vectorises them with ``vmap``, which gives every shot its own event time.
"""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax.numpy as jnp
import optimistix as optx

_SOLVER = diffrax.Dopri8()
_CONTROLLER = diffrax.PIDController(rtol=1e-12, atol=1e-12)
_ROOT_FINDER = optx.Newton(rtol=1e-14, atol=1e-14)
_MAX_STEPS = 16_384
# Far beyond any landing (in units of V/g): the event ends the solve long before.
_T_MAX = 1e6


def _scales(p, speed):
    """(V, V/g, V²/g): speed (m/s), time (s) and length (m) scales of the launch."""
    v = jnp.maximum(speed, jnp.sqrt(p.g * p.height))
    v = jnp.where(v > 0, v, 1.0)
    return v, v / p.g, v**2 / p.g


def _vector_field(t, state, args):
    """d/dt̃ of the scaled state (x̃, ỹ, ṽx, ṽy): (ṽx, ṽy, F_x/(m g), F_y/(m g) − 1)."""
    p, v_scale = args
    x, y, vx, vy = state
    fx, fy = p.drag.force(vx * v_scale, vy * v_scale)
    weight = p.mass * p.g
    return jnp.stack([vx, vy, fx / weight, fy / weight - 1.0])


def _solve(p, speed, angle, event_component=None, t_end=_T_MAX):
    """Scaled state at ``t_end``, or where state[event_component] first falls through 0."""
    v_scale, time_scale, length_scale = _scales(p, speed)
    state0 = jnp.stack(
        [0.0, p.height / length_scale, speed * jnp.cos(angle) / v_scale, speed * jnp.sin(angle) / v_scale]
    )
    event = None
    if event_component is not None:
        event = diffrax.Event(
            lambda t, y, args, **kwargs: y[event_component],
            root_finder=_ROOT_FINDER,
            direction=False,
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
        stepsize_controller=_CONTROLLER,
        event=event,
        max_steps=_MAX_STEPS,
    )
    state = solution.ys[0]
    if event is not None:
        # A solve whose event never fires runs to t1 and returns garbage: refuse it.
        state = eqx.error_if(state, ~solution.event_mask, "the projectile never reached the event")
    return solution.ts[0], state, (v_scale, time_scale, length_scale)


def trajectory(p, speed, angle, t):
    """Position (x, y) in m at time t (s), by integrating to t (free flight, not stopped at y = 0)."""
    _, time_scale, length_scale = _scales(p, speed)
    # diffeqsolve needs t1 > t0; at t = 0 the answer is the launch point anyway.
    t_end = jnp.where(t > 0, t / time_scale, 1.0)
    _, state, _ = _solve(p, speed, angle, t_end=t_end)
    at_launch = jnp.stack([0.0, p.height / length_scale])
    x, y = jnp.where(t > 0, state[:2], at_launch) * length_scale
    return x, y


def landing(p, speed, angle):
    """(T, x, vx, vy) when the shot reaches y = 0: flight time (s), range (m), velocity (m/s).

    The state at the event is the solver's interpolant, a hair (~1e-13 V²/g) off the ground;
    one Newton step along the trajectory, dt = −y/v_y, puts it on the ground exactly.
    """
    grounded = (p.height == 0) & (speed * jnp.sin(angle) <= 0)
    # A shot from the ground that does not rise lands at once; its (unused) solve gets a
    # valid launch instead, so that its event fires.
    t, state, (v_scale, time_scale, length_scale) = _solve(
        p, jnp.where(grounded, 1.0, speed), jnp.where(grounded, jnp.pi / 4, angle), event_component=1
    )
    x, y, vx, vy = state
    vy_safe = jnp.where(grounded, -1.0, vy)
    dt = -y / vy_safe
    _, _, ax, ay = _vector_field(t, state, (p, v_scale))
    t, x, vx, vy = t + dt, x + vx * dt, vx + ax * dt, vy + ay * dt
    launch = (0.0, 0.0, speed * jnp.cos(angle), speed * jnp.sin(angle))
    landed = (t * time_scale, x * length_scale, vx * v_scale, vy * v_scale)
    return tuple(jnp.where(grounded, a, b) for a, b in zip(launch, landed))


def apex(p, speed, angle):
    """Highest point (x, y) in m, where v_y falls through 0; the launch point when v_y(0) ≤ 0."""
    rising = speed * jnp.sin(angle) > 0
    # A shot that does not rise has no apex event; its (unused) solve gets a rising launch.
    safe_angle = jnp.where(rising, angle, jnp.pi / 4)
    safe_speed = jnp.where(rising, speed, 1.0)
    _, state, (_, _, length_scale) = _solve(p, safe_speed, safe_angle, event_component=3)
    x, y = state[:2] * length_scale
    return jnp.where(rising, x, 0.0), jnp.where(rising, y, p.height)
