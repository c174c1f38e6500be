"""Wind in the physics: drag on the air-relative velocity, against mpmath (linear drag, constant
wind: the closed form written independently) and SciPy's DOP853 (every other case, integrated
piece by piece between the wind's samples, where its slope jumps)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from hybridlab.physics import LinearDrag, NoDrag, Projectile, QuadraticDrag
from hybridlab.physics.wind import Wind

PROFILE = np.array([0.0, 6.0, -4.0, 9.0, 2.0, -1.0])  # m/s at t = 0, 0.5, …, 2.5 s
DURATION = 2.5


def _scipy(mass, k, c, g, height, speed, angle, wind, times=(), distance=None):
    """SciPy's solution (DOP853, rtol 1e-13) of m v' = −(k + c|v_r|) v_r − m g ŷ, v_r = v − (w(t), 0),
    restarted at every sample time of the wind: {"T", "range", "vx", "vy", "xy" at ``times``, "y at
    distance"}."""
    knots = np.linspace(0.0, DURATION, PROFILE.size) if np.ndim(wind) else np.zeros(1)
    w = (lambda t: np.interp(t, knots, wind)) if np.ndim(wind) else (lambda t: wind)

    def field(t, s):
        rx, ry = s[2] - w(t), s[3]
        drag = (k + c * np.hypot(rx, ry)) / mass
        return [s[2], s[3], -drag * rx, -drag * ry - g]

    def ground(t, s):
        return s[1]

    def across(t, s):
        return s[0] - (distance if distance is not None else np.inf)

    ground.terminal, ground.direction, across.direction = True, -1, 1
    state, start, out = [0.0, height, speed * np.cos(angle), speed * np.sin(angle)], 0.0, {"xy": {}}
    for end in [*knots[1:], 100.0]:
        solution = solve_ivp(field, (start, end), state, method="DOP853", rtol=1e-13, atol=1e-13,
                             events=[ground, across], dense_output=True)
        for t in times:
            if start <= t <= end and t not in out["xy"]:
                out["xy"][t] = solution.sol(t)[:2]
        if solution.t_events[1].size and "y at distance" not in out:
            out["y at distance"] = solution.y_events[1][0][1]
        if solution.t_events[0].size:
            landing = solution.y_events[0][0]
            out.update(T=solution.t_events[0][0], range=landing[0], vx=landing[2], vy=landing[3])
            return out
        state, start = solution.y[:, -1], end
    raise AssertionError("the reference never landed")


def _linear_mpmath(mass, k, g, height, speed, angle, wind):
    """(T, x(T)) in constant wind under linear drag: T from the Lambert-W form of y(T) = 0 (the
    wind does not enter the vertical motion), x(T) = w T + (v cos θ − w)(1 − e^{−bT})/b."""
    mp.mp.dps = 50
    b, g, h, w = mp.mpf(k) / mp.mpf(mass), mp.mpf(g), mp.mpf(height), mp.mpf(wind)
    u, vx = mp.mpf(speed) * mp.sin(mp.mpf(angle)), mp.mpf(speed) * mp.cos(mp.mpf(angle))
    vt = g / b
    a, eta = 1 + u / vt, h * b / vt
    T = mp.re(a + eta + mp.lambertw(-a * mp.exp(-a - eta), 0)) / b
    return float(T), float(w * T + (vx - w) * (1 - mp.exp(-b * T)) / b)


@pytest.mark.parametrize("wind", [-6.0, 0.0, 9.0])
def test_linear_drag_in_a_constant_wind_is_its_closed_form(wind):
    # The lecture's shot put from 2 m (k = 1.8 kg/s, m = 7.26 kg, 15 m/s at 60°).
    p = Projectile(LinearDrag(k=1.8), mass=7.26, g=9.81, height=2.0, wind=wind)
    T, x = _linear_mpmath(7.26, 1.8, 9.81, 2.0, 15.0, np.deg2rad(60.0), wind)
    assert float(p.flight_time(15.0, np.deg2rad(60.0))) == pytest.approx(T, rel=1e-14)
    assert float(p.range(15.0, np.deg2rad(60.0))) == pytest.approx(x, rel=1e-13)
    reference = _scipy(7.26, 1.8, 0.0, 9.81, 2.0, 15.0, np.deg2rad(60.0), wind, times=(0.4, 1.7))
    for t in (0.4, 1.7):
        np.testing.assert_allclose(np.array(p.trajectory(15.0, np.deg2rad(60.0), t)), reference["xy"][t], rtol=1e-12)
    speed, angle = p.impact(15.0, np.deg2rad(60.0))
    assert float(speed) == pytest.approx(np.hypot(reference["vx"], reference["vy"]), rel=1e-11)
    assert float(angle) == pytest.approx(np.arctan2(-reference["vy"], reference["vx"]), rel=1e-11)


def test_the_range_derivative_in_the_wind_is_the_closed_forms():
    # x(T) = w T + (v cos θ − w) T φ₁(bT), T independent of w: ∂x/∂w = T − (1 − e^{−bT})/b.
    def distance(wind):
        return Projectile(LinearDrag(k=1.8), mass=7.26, g=9.81, wind=Wind(wind)).range(15.0, jnp.deg2rad(60.0))

    T = float(Projectile(LinearDrag(k=1.8), mass=7.26, g=9.81).flight_time(15.0, np.deg2rad(60.0)))
    b = 1.8 / 7.26
    assert float(jax.grad(distance)(3.0)) == pytest.approx(T + np.expm1(-b * T) / b, rel=1e-13)


@pytest.mark.slow  # the flight time and height_at in the same profile are checked against SciPy below
def test_a_wind_profile_against_scipy():
    # A baseball at 40 m/s, 30°, through a gusty profile.
    p = Projectile(QuadraticDrag(c=9e-4), mass=0.145, g=9.81, wind=Wind(PROFILE, DURATION))
    times = (0.3, 1.1, 2.9)
    reference = _scipy(0.145, 0.0, 9e-4, 9.81, 0.0, 40.0, np.deg2rad(30.0), PROFILE, times=times)
    assert float(p.range(40.0, np.deg2rad(30.0))) == pytest.approx(reference["range"], rel=1e-12)
    x, y = p.trajectory(40.0, np.deg2rad(30.0), jnp.array(times))
    np.testing.assert_allclose(np.stack([x, y], axis=1), np.array([reference["xy"][t] for t in times]),
                               rtol=1e-11, atol=1e-11)


@pytest.mark.slow
@pytest.mark.parametrize("drag", [QuadraticDrag(c=9e-4), LinearDrag(k=0.02)])
def test_flight_time_and_height_at_in_a_wind_profile_against_scipy(drag):
    # Linear drag too: a varying wind has no closed form, so it takes the ODE solve.
    p = Projectile(drag, mass=0.145, g=9.81, wind=Wind(PROFILE, DURATION))
    k, c = float(getattr(drag, "k", 0.0)), float(getattr(drag, "c", 0.0))
    reference = _scipy(0.145, k, c, 9.81, 0.0, 40.0, np.deg2rad(30.0), PROFILE, distance=30.0)
    assert float(p.flight_time(40.0, np.deg2rad(30.0))) == pytest.approx(reference["T"], rel=1e-12)
    assert float(p.range(40.0, np.deg2rad(30.0))) == pytest.approx(reference["range"], rel=1e-12)
    assert float(p.height_at(40.0, np.deg2rad(30.0), 30.0)) == pytest.approx(reference["y at distance"], rel=1e-11)


@pytest.mark.slow
def test_the_range_gradient_with_respect_to_the_wind_samples():
    # Reverse and forward mode against central differences (step 0.01 m/s).
    p = Projectile(QuadraticDrag(c=9e-4), mass=0.145, g=9.81, wind=Wind(PROFILE, DURATION))

    def distance(samples, mode="reverse"):
        return eqx.tree_at(lambda q: q.wind.samples, p, samples).range(40.0, jnp.deg2rad(30.0), mode=mode)

    samples = jnp.asarray(PROFILE)
    reverse = np.asarray(jax.grad(distance)(samples))
    forward = np.asarray(jax.jacfwd(lambda s: distance(s, "forward"))(samples))
    step = 0.01 * np.eye(PROFILE.size)
    central = np.array([(float(distance(samples + e)) - float(distance(samples - e))) / 0.02 for e in step])
    np.testing.assert_allclose(reverse, central, rtol=1e-6)
    np.testing.assert_allclose(forward, reverse, rtol=1e-10)
    assert np.all(reverse > 0)  # a tailwind at any time carries the ball further


@pytest.mark.slow
def test_still_air_is_unchanged_and_a_wind_without_drag_does_nothing():
    still = Projectile(QuadraticDrag(c=9e-4), mass=0.145)
    calm = Projectile(QuadraticDrag(c=9e-4), mass=0.145, wind=0.0)
    assert float(calm.range(40.0, 0.5)) == pytest.approx(float(still.range(40.0, 0.5)), rel=1e-12)
    vacuum, windy = Projectile(NoDrag(), mass=0.145), Projectile(NoDrag(), mass=0.145, wind=Wind(PROFILE, DURATION))
    assert float(windy.range(40.0, 0.5)) == float(vacuum.range(40.0, 0.5))


def test_a_headwind_blows_a_light_ball_back():
    # A ping-pong-like ball (m = 2.7 g, k = 0.01 kg/s) lobbed at 5 m/s into a 20 m/s headwind.
    p = Projectile(LinearDrag(k=0.01), mass=0.0027, height=1.0, wind=-20.0)
    T, x = _linear_mpmath(0.0027, 0.01, 9.81, 1.0, 5.0, 0.8, -20.0)
    assert x < 0
    assert float(p.range(5.0, 0.8)) == pytest.approx(x, rel=1e-12)
    assert float(p.impact(5.0, 0.8)[1]) > np.pi / 2  # it lands moving backwards


@pytest.mark.slow
def test_a_distance_a_headwind_never_lets_the_ball_reach_is_minus_inf():
    p = Projectile(LinearDrag(k=0.01), mass=0.0027, height=1.0, wind=-20.0)
    assert float(p.height_at(5.0, 0.8, 0.5)) == -np.inf


def test_wind_interpolates_and_holds_and_round_trips():
    wind = Wind(PROFILE, DURATION)
    t = np.array([-1.0, 0.0, 0.25, 1.3, 2.5, 7.0])
    np.testing.assert_allclose(np.asarray(wind(t)), np.interp(t, np.linspace(0.0, DURATION, 6), PROFILE), rtol=1e-15)
    p = Projectile(QuadraticDrag(c=9e-4), mass=0.145, wind=wind)
    spec = p.to_spec()
    assert spec["wind"] == {"samples": PROFILE.tolist(), "duration": DURATION}
    assert Projectile.from_spec(spec).to_spec() == spec
    assert "wind" not in Projectile(QuadraticDrag(c=9e-4)).to_spec()
    assert Projectile.from_spec({"wind": -3.5}).wind.label() == "wind -3.5 m/s"


def test_aiming_refuses_a_wind_it_does_not_model():
    from hybridlab.inverse import aim, reach

    windy = Projectile(LinearDrag(k=1.8), mass=7.26, wind=3.0)
    with pytest.raises(ValueError, match="aiming assumes still air; this one has a wind 3 m/s"):
        aim(windy, 20.0)
    with pytest.raises(ValueError, match="aiming assumes still air; this one has a wind 3 m/s"):
        reach(windy, 20.0)


def test_positions_are_the_trajectory_on_a_grid_from_one_solve():
    t = np.linspace(0.0, 3.0, 40)
    for p in (Projectile(QuadraticDrag(c=9e-4), mass=0.145, wind=Wind(PROFILE, DURATION)),
              Projectile(LinearDrag(k=1.8), mass=7.26, height=2.0, wind=-3.0)):
        x, y = p.trajectory(40.0, 0.5, t)
        np.testing.assert_allclose(np.asarray(p.positions(40.0, 0.5, t)), np.stack([x, y], axis=1),
                                   rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="t must increase"):
        Projectile().positions(10.0, 0.5, [0.0, 1.0, 0.5])
