"""Motion under linear (Stokes) drag F = −k v: closed-form trajectory, flight time by Newton.

With b = k/m (1/s), u = v sin θ and the functions
φ₁(z) = (1 − e^{−z})/z and φ₂(z) = (z − 1 + e^{−z})/z²  (φ₁(0) = 1, φ₂(0) = ½),
the trajectory is
x(t) = v cos θ · t φ₁(bt),   y(t) = h + u t φ₁(bt) − g t² φ₂(bt).
Written this way every term is well scaled for all b ≥ 0: at b = 0 it *is* the parabola, and
the usual form (u + g/b)(1 − e^{−bt})/b − g t/b, which cancels all its digits as b → 0, never
appears. The flight time T solves y(T) = 0; it has the Lambert-W form
bT = a + η + W₀(−a e^{−a−η}) (a = 1 + bu/g, η = h b²/g), which is ill-conditioned near the
branch point (small drag), so T is found by Halley's and Newton's methods on y(t) itself, from a
starting point where the iteration is monotone (see :func:`_newton_start`, :func:`_landing_time`).

In a constant horizontal wind w the drag acts on v − (w, 0): the vertical motion is unchanged
(so is T), and the horizontal velocity relaxes from v cos θ to w,
x(t) = w t + (v cos θ − w) t φ₁(bt),   v_x(t) = w + (v cos θ − w) e^{−bt}.
(A wind that varies in time is solved as an ODE; so is x = d under a wind, see
:func:`height_at`.)
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

# Below |z| = 0.1, z − 1 + e^{−z} cancels (relative error 2ε/z, 4e-15 at the threshold) and
# φ₂ is summed as its Taylor series Σ (−z)ⁿ/(n+2)!, which reaches machine precision there in 10
# terms. φ₁ = −expm1(−z)/z is exact for z > 0; the series only spares it 0/0 (and its
# derivative) at z = 0.
_SMALL = 0.1
_PHI1_SERIES = [(-1) ** n / math.factorial(n + 1) for n in range(10)]
_PHI2_SERIES = [(-1) ** n / math.factorial(n + 2) for n in range(10)]
_MAX_NEWTON_STEPS = 64
# Halley's steps from T̄ before the Newton step that checks them: with 3, every one of 10⁶ random
# shot-put shots (v ∈ [5, 85] m/s, θ ∈ [5°, 85°]) passed the check.
_HALLEY_STEPS = 3
# −ln(1 − z)/z = Σ zⁿ/(n+1), summed below |z| = 0.01 in 8 terms (remainder < 1e-17).
_LOG_SMALL = 0.01
_LOG_SERIES = [1 / (n + 1) for n in range(8)]


def _horner(coefficients, z):
    result = jnp.zeros_like(z)
    for c in reversed(coefficients):
        result = result * z + c
    return result


def phi1(z):
    """φ₁(z) = (1 − e^{−z})/z = ∫₀¹ e^{−zs} ds, accurate to machine precision for z ≥ 0."""
    small = jnp.abs(z) < _SMALL
    zs = jnp.where(small, 1.0, z)
    return jnp.where(small, _horner(_PHI1_SERIES, z), -jnp.expm1(-zs) / zs)


def phi2(z):
    """φ₂(z) = (z − 1 + e^{−z})/z², to a few ulps for z ≥ 0."""
    small = jnp.abs(z) < _SMALL
    zs = jnp.where(small, 1.0, z)
    # (1 − φ₁)/z, not (z − 1 + e^{−z})/z², whose z² overflows beyond z ≈ 1e154 (a terminal-speed
    # fall of 1e307 m); XLA would fuse two divisions by z into one by z². Both forms lose
    # the same ~20 ulps to cancellation at z = 0.1.
    return jnp.where(small, _horner(_PHI2_SERIES, z), (1 + jnp.expm1(-zs) / zs) / zs)


def _rate(p):
    """b = k/m in 1/s."""
    return p.drag.k / p.mass


def _wind(p):
    """The constant wind w (m/s), 0 in still air."""
    return 0.0 if p.wind is None else p.wind.samples[0]


def _x(t, p, vx0, reach):
    """x(t) = w t + (v cos θ − w) t φ₁(bt) in m, given reach = t φ₁(bt)."""
    w = _wind(p)
    return w * t + (vx0 - w) * reach


def trajectory(p, speed, angle, t):
    """Position (x, y) in m at time t (s)."""
    return _x(t, p, speed * jnp.cos(angle), t * phi1(_rate(p) * t)), _height(t, p, speed * jnp.sin(angle))


def _upper_bound(p, u):
    """A time T̄ ≥ T at which the shot is surely below ground.

    Two bounds, both from y(t) ≤ h + u⁺ t φ₁ − g t² φ₂: with φ₁ ≤ 1 and φ₂(z) ≥ 1/(2 + z)
    (the Padé bound e^{−z} ≥ (2 − z)/(2 + z)), y < 0 beyond the positive root of
    (g − b u⁺) t² − (2u⁺ + b h) t − 2h (sharp for weak drag); and since the vertical speed
    never exceeds u⁺ e^{−bt} − g t φ₁(bt), y < 0 beyond h b/g + u⁺/g + 1/b (sharp for strong drag).
    """
    b, g, h = _rate(p), p.g, p.height
    up = jnp.maximum(u, 0.0)
    a = g - b * up
    c1 = 2 * up + b * h
    valid = a > 0
    a_safe = jnp.where(valid, a, 1.0)
    # hypot, not √(c1² + …): c1² underflows for a shot launched at 1e-200 m/s.
    # and √8·√h·√a, not √(8 h a): h a overflows for a fall of 1e148 m under g = 1e188 m/s².
    weak = jnp.where(valid, (c1 + jnp.hypot(c1, jnp.sqrt(8.0) * jnp.sqrt(h) * jnp.sqrt(a_safe))) / (2 * a_safe),
                     jnp.inf)
    b_safe = jnp.where(b > 0, b, 1.0)
    strong = jnp.where(b > 0, h * b / g + up / g + 1 / b_safe, jnp.inf)
    return jnp.minimum(weak, strong)


def _newton_start(p, u):
    """Where Newton's iteration on y(t) = 0 converges monotonically to the landing time.

    y''(t) = −(b u + g) e^{−bt}. If b u + g > 0, y is concave and the root lies past the apex,
    so Newton from any point beyond the root (the upper bound) descends monotonically onto it,
    never onto the trivial root t = 0 of a ground launch. Otherwise (a downward throw faster
    than the terminal speed g/b) y is convex and decreasing, and Newton from t = 0 climbs
    monotonically onto the root.
    """
    concave = _rate(p) * u + p.g > 0
    return jnp.where(concave, 1.0, 0.0)


def _height(t, p, u):
    """y(t) in m, with t φ₁ ≤ min(t, 1/b) and t φ₂ ≤ min(t/2, 1/b) formed first: neither t² nor
    u t overflows where y itself does not."""
    b = _rate(p)
    return p.height + u * (t * phi1(b * t)) - p.g * t * (t * phi2(b * t))


def _climb_rate(t, p, u):
    """dy/dt = u e^{−bt} − g t φ₁(bt) in m/s."""
    b = _rate(p)
    return u * jnp.exp(-b * t) - p.g * (t * phi1(b * t))


def _phis(z):
    """(φ₁(z), φ₂(z)) from one expm1 (φ₁ = 1 − z φ₂ below the series' threshold), as
    :func:`phi1` and :func:`phi2` give them, for z ≥ 0."""
    small = z < _SMALL
    zs = jnp.where(small, 1.0, z)
    inverse = 1 / zs
    big1 = -jnp.expm1(-zs) * inverse
    series2 = _horner(_PHI2_SERIES, z)
    return (jnp.where(small, 1 - z * series2, big1),
            jnp.where(small, series2, (1 - big1) * inverse))


def _scaled_height(tau, bound, p, u):
    """F(τ) = y(τ T̄)/T̄ and its first two derivatives in τ: (F, F′, F″) with
    F′ = y′(t) = u e^{−z} − g t φ₁(z) and F″ = T̄ y″(t) = −(b u + g) T̄ e^{−z}, z = bt
    (e^{−z} = 1 − z φ₁(z)); written per unit T̄, without t², which underflows for the tiniest
    shots."""
    scaled_rate = _rate(p) * bound
    z = scaled_rate * tau
    f1, f2 = _phis(z)
    decay = 1 - z * f1
    g_bound = p.g * bound
    return (p.height / bound + tau * (u * f1 - g_bound * tau * f2), u * decay - g_bound * tau * f1,
            -(scaled_rate * u + g_bound) * decay)


def _newton_step(tau, bound, p, u):
    """Newton's step F(τ)/F′(τ) in τ = t/T̄ (:func:`_scaled_height`)."""
    f, slope, _ = _scaled_height(tau, bound, p, u)
    return f / slope


def _newton_loop(p, u, bound, tau, last_step):
    """Newton's iteration on F from τ until a step is below 1e-14 τ (when the error left is of
    order its square), or below 1e-12 τ and no smaller than the step before it (rounding's floor:
    in exact arithmetic a step of 1e-12 τ is followed by one of order 1e-24 τ; here F is
    evaluated with cancellation, and the steps left dither at about 1e-14 τ); NaN if that takes
    more than _MAX_NEWTON_STEPS steps."""
    def converged(tau, last_step, step_before):
        return ((last_step <= 1e-14 * jnp.maximum(tau, 1e-3))
                | ((last_step <= 1e-12 * jnp.maximum(tau, 1e-3)) & (last_step >= step_before)))

    def step(state):
        tau, last_step, _, count = state
        new = tau - _newton_step(tau, bound, p, u)
        return new, jnp.abs(new - tau), last_step, count + 1

    def going(state):
        *iterate, count = state
        return ~converged(*iterate) & (count < _MAX_NEWTON_STEPS)

    tau, last_step, step_before, _ = jax.lax.while_loop(going, step, (tau, last_step, jnp.inf, 0))
    # Not converged (a bound too loose by many orders of magnitude in float64's extremes): NaN,
    # which an eager call reports, rather than a wrong time.
    return jnp.where(converged(tau, last_step, step_before), tau * bound, jnp.nan)


def _halley_steps(p, u):
    """(T, final): _HALLEY_STEPS Halley steps and one Newton step on F(τ) from the monotone
    start; ``final`` where the error that Newton step leaves is below 1e-16 τ.

    In τ = t/T̄ (T̄ the upper bound). Halley's step F F′/(F′² − F F″/2) is Newton's on F/√|F′|,
    whose second derivative has the sign of F where 3F″² − 2F′F‴ > 0; for concave y,
    F‴ = −bT̄ F″ has the sign opposite to F′ past the apex, so that holds, and Halley's
    iteration from T̄ descends monotonically onto the root, as Newton's does, with cubic order
    (convex y, a fast downward throw, takes Newton's steps instead). The last, Newton step δ
    leaves an error |F″/(2F′)| δ².
    """
    bound = _upper_bound(p, u)
    concave = _rate(p) * u + p.g > 0
    tau = _newton_start(p, u)
    for _ in range(_HALLEY_STEPS):
        f, slope, curvature = _scaled_height(tau, bound, p, u)
        tau = tau - f * slope / (slope * slope - 0.5 * f * jnp.where(concave, curvature, 0.0))
    f, slope, curvature = _scaled_height(tau, bound, p, u)
    step = f / slope
    tau = tau - step
    return tau * bound, 0.5 * jnp.abs(curvature / slope) * step**2 <= 1e-16 * jnp.maximum(tau, 1e-3)


def _newton_from_start(p, u):
    """T by Newton's loop alone, from the monotone start."""
    return _newton_loop(p, u, _upper_bound(p, u), _newton_start(p, u), jnp.inf)


@jax.custom_batching.custom_vmap
def _solve(p, u):
    """T: the fixed steps of :func:`_halley_steps`, then Newton's loop where they are not final."""
    time, final = _halley_steps(p, u)
    return jax.lax.cond(final, lambda: time, lambda: _newton_from_start(p, u))


@_solve.def_vmap
def _solve_batch(axis_size, in_batched, p, u):
    """Over a batch, Newton's loop runs (over every shot) only if some shot needs it: a vmapped
    loop that takes no step still costs a pass over the batch's state (on 10⁶ shot-put shots,
    ~20 % of the time of the fixed steps, which fuse into one pass)."""
    p_batched, u_batched = in_batched
    axes = (jax.tree.map(lambda batched: 0 if batched else None, p_batched), 0 if u_batched else None)
    times, final = jax.vmap(_halley_steps, in_axes=axes, axis_size=axis_size)(p, u)
    redo = lambda: jnp.where(final, times, jax.vmap(_newton_from_start, in_axes=axes, axis_size=axis_size)(p, u))
    return jax.lax.cond(jnp.all(final), lambda: times, redo), True


@jax.custom_jvp
def _landing_time(p, u):
    """The positive root T of y(T) = 0 (:func:`_solve`), differentiated implicitly."""
    return _solve(p, u)


@_landing_time.defjvp
def _landing_time_jvp(primals, tangents):
    """Implicit-function theorem on y(T; p, u) = 0: dT = −(∂y/∂p dp + ∂y/∂u du) / y'(T).

    Written with differentiable functions, so higher derivatives (Hessians) are exact too.
    """
    p, u = primals
    time = _landing_time(p, u)
    _, dy = jax.jvp(lambda p, u: _height(time, p, u), primals, tangents)
    return time, -dy / _climb_rate(time, p, u)


def flight_time(p, speed, angle):
    """T (s) with y(T) = 0, T > 0; T = 0 for a shot from the ground that does not rise."""
    u = speed * jnp.sin(angle)
    grounded = (p.height == 0) & (u <= 0)
    # Such a shot's only root is the double root t = 0, where implicit differentiation
    # divides by y'(0) = 0; it solves a rising shot instead, discarded below.
    return jnp.where(grounded, 0.0, _landing_time(p, jnp.where(grounded, 1.0, u)))


def landing(p, speed, angle):
    """(T, x, vx, vy) when the shot reaches y = 0: flight time (s), range (m), velocity (m/s)."""
    time = flight_time(p, speed, angle)
    z = _rate(p) * time
    decay = jnp.exp(-z)
    vx0, u = speed * jnp.cos(angle), speed * jnp.sin(angle)
    # T φ₁(bT) = (1 − e^{−bT})/b ≤ 1/b: the range stays below v cos θ / b however long the flight.
    reach = time * phi1(z)
    w = _wind(p)
    return time, _x(time, p, vx0, reach), w + (vx0 - w) * decay, u * decay - p.g * reach


def apex(p, speed, angle):
    """Highest point (x, y) in m, reached at t = ln(1 + ε)/b = (u/g)·ln(1 + ε)/ε, ε = b u/g.

    The launch point when u ≤ 0.
    """
    u = jnp.maximum(speed * jnp.sin(angle), 0.0)
    eps = _rate(p) * u / p.g
    eps_safe = jnp.where(eps > 0, eps, 1.0)
    ratio = jnp.where(eps > 0, jnp.log1p(eps_safe) / eps_safe, 1.0)
    return trajectory(p, speed, angle, u / p.g * ratio)


def _log_ratio(z):
    """−ln(1 − z)/z for z < 1 (1 at z = 0), to a few ulps, with its derivative at z = 0."""
    small = jnp.abs(z) < _LOG_SMALL
    zs = jnp.where(small, 0.5, z)
    return jnp.where(small, _horner(_LOG_SERIES, z), -jnp.log1p(-zs) / zs)


def height_at(p, speed, angle, distance):
    """y (m) where x first reaches ``distance`` d ≥ 0 (m); −inf where it never does. In still
    air only (under a wind, x(t) = d has no such form: the Projectile solves it as an ODE).

    x(t) = v cos θ · t φ₁(bt) = v cos θ (1 − e^{−bt})/b rises to its asymptote v cos θ / b, so
    with s = d/(v cos θ) and z = b s, e^{−bt} = 1 − z: t = −ln(1 − z)/b = s · (−ln(1 − z)/z),
    exact as b → 0 (t = s, the parabola), and x reaches d only where z < 1. Then
    y = h + u t φ₁(bt) − g t² φ₂(bt) with t φ₁(bt) = s exactly. −inf for z ≥ 1 or (d > 0 and
    v cos θ = 0); h at d = 0.
    """
    vx = speed * jnp.cos(angle)
    moving = vx > 0
    s = jnp.where(moving, distance, 0.0) / jnp.where(moving, vx, 1.0)
    b = _rate(p)
    z = b * s
    reached = moving & (z < 1)
    # Double where: lanes that never reach d compute a harmless stand-in (finite gradients).
    s = jnp.where(reached, s, 0.0)
    t = s * _log_ratio(jnp.where(reached, z, 0.0))
    y = p.height + speed * jnp.sin(angle) * s - p.g * t * (t * phi2(b * t))
    return jnp.where(reached, y, jnp.where(distance == 0, p.height, -jnp.inf))
