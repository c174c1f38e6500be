"""Physical laws that must hold everywhere: drag never lengthens a shot from the ground, and
more drag shortens it."""

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hybridlab import LinearDrag, NoDrag, Projectile, QuadraticDrag

speeds = st.floats(0.0, 120.0)
angles = st.floats(0.0, np.pi / 2)
drag_rates = st.floats(0.0, 50.0)


@jax.jit
def linear_range(k, speed, angle):
    return Projectile(LinearDrag(k=k), mass=7.26).range(speed, angle)


@jax.jit
def quadratic_range(c, speed, angle):
    return Projectile(QuadraticDrag(c=c), mass=0.145).range(speed, angle)


@given(speeds, angles, drag_rates, drag_rates)
def test_linear_range_decreases_as_k_grows(speed, angle, k1, k2):
    lo, hi = sorted((k1, k2))
    vacuum = Projectile().range(speed, angle)
    r_lo, r_hi = linear_range(lo, speed, angle), linear_range(hi, speed, angle)
    slack = 1e-12 * (1.0 + float(vacuum))
    assert float(r_hi) <= float(r_lo) + slack <= float(vacuum) + 2 * slack
    assert float(r_hi) >= 0.0


@given(st.floats(1.0, 60.0), st.floats(0.05, 1.5), st.floats(0.0, 0.05), st.floats(0.0, 0.05))
def test_quadratic_range_decreases_as_c_grows(speed, angle, c1, c2):
    lo, hi = sorted((c1, c2))
    vacuum = float(Projectile().range(speed, angle))
    r_lo, r_hi = float(quadratic_range(lo, speed, angle)), float(quadratic_range(hi, speed, angle))
    assert r_hi <= r_lo * (1 + 1e-10) and r_lo <= vacuum * (1 + 1e-10)


# Hostile inputs (issue 9): every parameter log-uniform over 1e-300..1e300, from a fixed seed.
# Each case either raises a ValueError or gives finite, valid results. Scalar calls of one law
# reuse one compiled program, so a case costs a few milliseconds.
HOSTILE_CASES = 120
LAWS = {"none": lambda coefficient: NoDrag(), "linear": LinearDrag, "quadratic": QuadraticDrag}


def log_uniform(rng, size):
    return 10.0 ** rng.uniform(-300.0, 300.0, size)


def hostile_cases(law, seed):
    rng = np.random.default_rng(seed)
    speed, mass, g, height, coefficient = (log_uniform(rng, HOSTILE_CASES) for _ in range(5))
    from_height = rng.random(HOSTILE_CASES) < 0.5
    angle = np.where(from_height, rng.uniform(-np.pi / 2, np.pi / 2, HOSTILE_CASES),
                     rng.uniform(0.0, np.pi / 2, HOSTILE_CASES))
    height = np.where(from_height, height, 0.0)
    for i in range(HOSTILE_CASES):
        drag = LAWS[law](float(coefficient[i]))
        yield (Projectile(drag, mass=float(mass[i]), g=float(g[i]), height=float(height[i])),
               Projectile(g=float(g[i]), height=float(height[i])), float(speed[i]), float(angle[i]))


def refused_or(compute):
    """compute()'s value, or None for a one-line ValueError."""
    try:
        return compute()
    except ValueError as error:
        assert "\n" not in str(error).strip() and str(error).strip(), repr(str(error))
        return None


@pytest.mark.parametrize("law,seed", [("none", 1), ("linear", 2), ("quadratic", 3)])
def test_hostile_parameters_give_valid_results_or_a_clear_error(law, seed):
    answered = 0
    for p, vacuum, speed, angle in hostile_cases(law, seed):
        distance = refused_or(lambda: float(p.range(speed, angle)))
        time = refused_or(lambda: float(p.flight_time(speed, angle)))
        impact = refused_or(lambda: tuple(map(float, p.impact(speed, angle))))
        apex = refused_or(lambda: tuple(map(float, p.apex(speed, angle))))
        case = f"{p.label()}, v={speed:g}, θ={angle:g}"
        if distance is not None:
            answered += 1
            assert np.isfinite(distance) and distance >= 0.0, case
            limit = refused_or(lambda: float(vacuum.range(speed, angle)))
            # XLA flushes subnormal numbers to zero: compare where the vacuum's time is normal.
            if limit is not None and float(vacuum.flight_time(speed, angle)) > 1e-290:
                assert distance <= limit * (1 + 1e-9) + 1e-300, case
        if time is not None:
            assert np.isfinite(time) and time >= 0.0, case
        if impact is not None:
            assert np.isfinite(impact).all() and impact[0] >= 0 and 0.0 <= impact[1] <= np.pi / 2, case
        if apex is not None:
            assert np.isfinite(apex).all() and apex[1] >= float(p.height) * (1 - 1e-12), case
    assert answered >= HOSTILE_CASES // 3  # the limits refuse only what float64 cannot hold


G = 9.81


def quadratic_scaled_reference(fast_speed, angle):
    """(T̃, D̃) for quadratic drag in terminal units (speed v_t, time v_t/g, length v_t²/g) from the
    ground, for a launch so fast that (T̃, D̃) − ln ṽ (sin θ, cos θ) has converged: solved by SciPy
    (DOP853, rtol 1e-13) at ṽ = 1e10, continued by the drag-only law to ``fast_speed`` (ṽ, ≥ 1e10)."""
    from reference import quadratic_scipy

    T, D = quadratic_scipy(1e10, angle, 1.0, 1.0, g=1.0)
    # The extra path ln(ṽ/1e10) is run in no time, and its height is fallen at the terminal speed.
    extra = np.log(fast_speed / 1e10)
    return T + extra * np.sin(angle), D + extra * np.cos(angle)


@pytest.mark.parametrize(
    "build,speed,expected",
    [
        # Terminal speed v_t = √(9.81/c): the whole motion lives at v_t²/g = 1/c m.
        (lambda: Projectile(QuadraticDrag(1e100)), 10.0, "scaled"),
        (lambda: Projectile(QuadraticDrag(1e300)), 10.0, "scaled"),
        (lambda: Projectile(QuadraticDrag(1e-3)), 1e308, "scaled"),
    ],
)
def test_probe_quadratic_drag_at_its_extremes(build, speed, expected):
    p = build()
    v_t = float(np.sqrt(G / float(p.drag.c)))
    T_ref, D_ref = quadratic_scaled_reference(speed / v_t, np.pi / 4)
    assert float(p.range(speed, np.pi / 4)) == pytest.approx(D_ref * v_t**2 / G, rel=1e-9)
    assert float(p.flight_time(speed, np.pi / 4)) == pytest.approx(T_ref * v_t / G, rel=1e-9)
    impact_speed, impact_angle = map(float, p.impact(speed, np.pi / 4))
    assert impact_speed == pytest.approx(v_t, rel=1e-9) and impact_angle == pytest.approx(np.pi / 2, abs=1e-6)


def test_probe_closed_forms_at_float64_extremes():
    # Linear drag from 1e308 m: the fall is at v_t = g m/k after the drift v cos θ · m/k.
    p = Projectile(LinearDrag(1.0), height=1e308)
    assert float(p.range(10.0, np.pi / 4)) == pytest.approx(10 * np.cos(np.pi / 4), rel=1e-13)
    assert float(p.flight_time(10.0, np.pi / 4)) == pytest.approx(1e308 / G, rel=1e-13)
    # No drag at 1e308 m/s: T = 2 v sin θ / g, impact at the launch speed and angle; range refused.
    p = Projectile()
    assert float(p.flight_time(1e308, np.pi / 4)) == pytest.approx(2 * (1e308 * np.sin(np.pi / 4) / G), rel=1e-14)
    assert np.allclose(list(map(float, p.impact(1e308, np.pi / 4))), [1e308, np.pi / 4], rtol=1e-14)
    with pytest.raises(ValueError, match=r"range overflows float64"):
        p.range(1e308, np.pi / 4)
    # Linear drag at 1e308 m/s: the range tends to v cos θ · m/k.
    assert float(Projectile(LinearDrag(1.0)).range(1e308, np.pi / 4)) == pytest.approx(1e308 * np.cos(np.pi / 4),
                                                                                          rel=1e-13)
    # Terminal speed 9.81e-300 m/s: the ball lands vertically at it.
    for p in (Projectile(LinearDrag(1e300)), Projectile(LinearDrag(1.0), mass=1e-300)):
        impact_speed, impact_angle = map(float, p.impact(10.0, np.pi / 4))
        assert impact_speed == pytest.approx(G * 1e-300, rel=1e-13) and impact_angle == pytest.approx(np.pi / 2)
