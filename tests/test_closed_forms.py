"""No drag and linear drag against mpmath (60 digits) and the lecture's test vectors."""

import jax
import mpmath as mp
import numpy as np
import pytest

from hybridlab import LinearDrag, NoDrag, Projectile
from reference import linear_drag

G = 9.81
# Fixed shapes: one compilation per (drag law, method) for the whole module.
RNG = np.random.default_rng(20261125)
SPEED = RNG.uniform(0.5, 85.0, 24)
ANGLE_GROUND = RNG.uniform(0.0, np.pi / 2, 24)
ANGLE_HEIGHT = RNG.uniform(-np.pi / 2, np.pi / 2, 24)


def rel_err(value, reference):
    reference = mp.mpf(reference)
    if reference == 0:
        return abs(float(value))
    return float(abs((mp.mpf(float(value)) - reference) / reference))


def evaluate(p, speed, angle):
    apex, impact = p.apex(speed, angle), p.impact(speed, angle)
    return {
        "flight_time": np.asarray(p.flight_time(speed, angle)),
        "range": np.asarray(p.range(speed, angle)),
        "apex_x": np.asarray(apex[0]),
        "apex_y": np.asarray(apex[1]),
        "impact_speed": np.asarray(impact[0]),
        "impact_angle": np.asarray(impact[1]),
    }


def assert_matches_reference(p, k, speed, angle, height, tol):
    got = evaluate(p, speed, angle)
    for i in range(len(speed)):
        ref = linear_drag(speed[i], angle[i], k, float(p.mass), float(p.g), height)
        expected = {
            "flight_time": ref["flight_time"],
            "range": ref["range"],
            "apex_x": ref["apex"][0],
            "apex_y": ref["apex"][1],
            "impact_speed": ref["impact"][0],
            "impact_angle": ref["impact"][1],
        }
        for name, value in expected.items():
            err = rel_err(got[name][i], value)
            assert err <= tol, f"{name} at v={speed[i]}, θ={angle[i]}, k={k}, h={height}: rel err {err:.2e}"


def test_lecture_test_vector():
    p = Projectile(drag=LinearDrag(k=0.45), mass=7.26, g=G)
    assert float(p.range(15.0, np.deg2rad(60.0))) == pytest.approx(17.8800198525094, rel=1e-13)
    p = Projectile(drag=LinearDrag(k=1.8), mass=7.26, g=G)
    assert float(p.range(15.0, np.deg2rad(60.0))) == pytest.approx(13.6065731068121, rel=1e-13)


def test_no_drag_closed_forms_from_a_height():
    for height in (0.0, 1.7, 40.0):
        angle = ANGLE_GROUND if height == 0 else ANGLE_HEIGHT
        assert_matches_reference(Projectile(NoDrag(), height=height), 0.0, SPEED, angle, height, 1e-13)


def test_no_drag_textbook_values():
    p = Projectile()
    assert float(p.range(10.0, np.pi / 4)) == pytest.approx(100 / G, rel=1e-15)
    assert float(p.apex(10.0, np.pi / 2)[1]) == pytest.approx(100 / (2 * G), rel=1e-15)
    # Dropped from 20 m: t = √(2h/g), lands at √(2gh).
    dropped = Projectile(height=20.0)
    assert float(dropped.flight_time(0.0, 0.0)) == pytest.approx(np.sqrt(40 / G), rel=1e-15)
    assert float(dropped.impact(0.0, 0.0)[0]) == pytest.approx(np.sqrt(2 * G * 20), rel=1e-15)
    assert float(dropped.impact(0.0, 0.0)[1]) == pytest.approx(np.pi / 2, rel=1e-15)


@pytest.mark.parametrize("rate", [1e-12, 1e-9, 1e-6, 1e-3, 0.25, 3.0, 50.0, 1e3])
@pytest.mark.parametrize("height", [0.0, 2.0])
def test_linear_drag_against_mpmath(rate, height):
    # k/m from 1e-12 (naive formulas lose every digit) to 1e3 1/s (terminal speed 1 cm/s).
    mass = 7.26
    p = Projectile(LinearDrag(k=rate * mass), mass=mass, height=height)
    angle = ANGLE_GROUND if height == 0 else ANGLE_HEIGHT
    assert_matches_reference(p, float(p.drag.k), SPEED, angle, height, 1e-12)


@pytest.mark.parametrize("k, mass, height, speeds, degrees", [
    (1.8, 7.26, 0.0, (5, 85), (5, 85)),       # the lecture's shot put
    (1.8, 7.26, 2.0, (5, 85), (-60, 85)),
    (1e-6, 7.26, 1.0, (1, 100), (-80, 89)),   # next to the branch point of the Lambert-W form
    (0.02, 0.145, 1.0, (10, 50), (0, 60)),
    (500.0, 2.0, 3.0, (1, 1000), (-89, 89)),  # downward throws faster than terminal: convex y
])
def test_a_batch_of_linear_drag_shots_is_within_1e_14_of_mpmath(k, mass, height, speeds, degrees):
    # Each batch holds shots that the fixed Halley steps settle and, in the last, shots that need
    # the Newton loop after them: every lane must come out to 1e-14 either way.
    rng = np.random.default_rng(14)
    speed, angle = rng.uniform(*speeds, 60), np.deg2rad(rng.uniform(*degrees, 60))
    p = Projectile(LinearDrag(k=k), mass=mass, height=height)
    ranges, times = np.asarray(p.range(speed, angle)), np.asarray(p.flight_time(speed, angle))
    for i in range(60):
        reference = linear_drag(speed[i], angle[i], k, mass, G, height)
        assert rel_err(ranges[i], reference["range"]) < 1e-14
        assert rel_err(times[i], reference["flight_time"]) < 1e-14


def test_linear_drag_merges_continuously_into_no_drag():
    vacuum = evaluate(Projectile(height=3.0), SPEED, ANGLE_HEIGHT)
    for k in (1e-300, 1e-14, 0.0):
        weak = evaluate(Projectile(LinearDrag(k=k), mass=7.26, height=3.0), SPEED, ANGLE_HEIGHT)
        for name in vacuum:
            np.testing.assert_allclose(weak[name], vacuum[name], rtol=1e-13, atol=1e-14, err_msg=name)
    # First-order sensitivity: dD/dk at k = 0 equals the limit of the finite difference.
    p_of = lambda k: Projectile(LinearDrag(k=k), mass=7.26).range(30.0, 0.7)
    slope = float(jax.grad(p_of)(0.0))
    # Second-order one-sided difference of the 60-digit reference, step 1e-9 kg/s.
    d = [linear_drag(30.0, 0.7, n * 1e-9, 7.26)["range"] for n in (0, 1, 2)]
    ref = (4 * d[1] - d[2] - 3 * d[0]) / (2 * mp.mpf(1e-9))
    assert rel_err(slope, ref) < 1e-9


def test_trajectory_closed_form_and_edges():
    p = Projectile(LinearDrag(k=1.8), mass=7.26, height=1.5)
    t = np.linspace(0.0, 4.0, 24)
    x, y = p.trajectory(20.0, 0.6, t)
    b, vt = mp.mpf(1.8) / mp.mpf(7.26), mp.mpf(9.81) * mp.mpf(7.26) / mp.mpf(1.8)
    for ti, xi, yi in zip(t, np.asarray(x), np.asarray(y)):
        e = 1 - mp.exp(-b * mp.mpf(ti))
        assert rel_err(xi, 20 * mp.cos(0.6) * e / b) < 1e-13
        assert rel_err(yi, mp.mpf(1.5) + (20 * mp.sin(0.6) + vt) * e / b - vt * mp.mpf(ti)) < 1e-12
    landing = float(p.flight_time(20.0, 0.6))
    assert abs(float(p.trajectory(20.0, 0.6, landing)[1])) < 1e-12


def test_zero_speed_and_vertical_shots_give_zero_range():
    for p in (Projectile(), Projectile(LinearDrag(k=1.8), mass=7.26)):
        assert float(p.range(0.0, 0.7)) == 0.0
        assert float(p.flight_time(0.0, 0.7)) == 0.0
        assert abs(float(p.range(25.0, np.pi / 2))) < 1e-13
        assert float(p.range(25.0, 0.0)) == 0.0
        assert np.isfinite(np.asarray(jax.grad(p.range, argnums=(0, 1))(0.0, 0.7))).all()


def test_broadcasting_shapes():
    p = Projectile(LinearDrag(k=0.45), mass=7.26)
    speed = np.linspace(5, 85, 4)[:, None]
    angle = np.linspace(0.1, 1.4, 3)[None, :]
    grid = np.asarray(p.range(speed, angle))
    assert grid.shape == (4, 3)
    assert float(p.range(speed[2, 0], angle[0, 1])) == grid[2, 1]
    x, y = p.trajectory(20.0, 0.5, np.zeros((2, 5)))
    assert x.shape == y.shape == (2, 5)


@pytest.mark.parametrize(
    "height,rate,speed,angle",
    [(1.0, 1e3, 997.98, -1.5514), (1.0, 100.0, 100.8, -1.3957), (1e4, 1e4, 1000.0, -np.pi / 2)],
)
def test_fast_downward_throw_under_strong_drag(height, rate, speed, angle):
    # Faster than the terminal speed g/b, downwards: y is convex and Newton climbs from t = 0.
    p = Projectile(LinearDrag(k=rate * 2.0), mass=2.0, height=height)
    ref = linear_drag(speed, angle, float(p.drag.k), 2.0, 9.81, height)
    assert rel_err(p.flight_time(speed, angle), ref["flight_time"]) < 1e-12
    assert rel_err(p.range(speed, angle), ref["range"]) < 1e-12
