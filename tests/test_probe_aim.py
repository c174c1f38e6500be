"""Issue 28, round three of the reliability probe: aiming.

Every answer of ``aim`` is checked against closed forms — the vacuum's least speed
v² = g(z + √(z² + d²)), its arcs tan θ = (v² ± √(v⁴ − g(g d² + 2 z v²)))/(g d), its speed at an
angle v² = g d²/(2 cos²θ (d tan θ − z)) and its reach v√(v² − 2 g z)/g; linear drag's height at
a distance, y = h + d tan θ + (g/b²)(s + ln(1 − s)) with b = k/m and s = b d/(v cos θ), and the
apex of its vertical shot, h + v/b − (g/b²) ln(1 + b v/g) — or brute force on those closed forms
(SciPy's brentq and minimize_scalar, mpmath where float64 cannot tell). Every refusal is one line
that names a flag the user gave, exit status 2, nothing written."""

import json
import time

import mpmath
import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar

from test_reliability import assert_refused, run

from hybridlab.inverse import aim, reach
from hybridlab.physics import LinearDrag, Projectile

G = 9.81


def answer(capsys, *argv) -> dict:
    """The JSON answer of ``hybridlab aim`` (angles in degrees)."""
    status, out, err = run(capsys, "aim", *argv, "--json")
    assert status == 0, err
    return json.loads(out)


# --- linear drag in closed form --------------------------------------------------------------------


def linear_height(b, h, speed, angle, distance, g=G):
    """y(d) = h + d tan θ + (g/b²)(s + ln(1 − s)), s = b d/(v cos θ); −∞ where s ≥ 1 (x never gets there)."""
    s = b * distance / (speed * np.cos(angle))
    return h + distance * np.tan(angle) + g / b**2 * (s + np.log1p(-s)) if s < 1 else -np.inf


def linear_speed_at(b, h, angle, distance, level, g=G):
    """The speed that hits at ``angle``: with w = −ln(1 − s), w − (1 − e^(−w)) = (d tan θ − z) b²/g."""
    target = (distance * np.tan(angle) - (level - h)) * b**2 / g
    w = brentq(lambda w: w + np.expm1(-w) - target, 1e-300, target + 2, xtol=1e-300, rtol=1e-15)
    return b * distance / (-np.expm1(-w) * np.cos(angle))


def linear_least(b, h, distance, level, g=G):
    """(v_min, θ_min): the least over angles of :func:`linear_speed_at` (it is flat there, so the
    value is exact well before the angle is)."""
    sight = np.arctan2(level - h, distance)
    found = minimize_scalar(lambda a: linear_speed_at(b, h, a, distance, level, g), method="bounded",
                            bounds=(sight + 1e-9, np.pi / 2 - 1e-9), options={"xatol": 1e-12})
    return found.fun, found.x


def assert_arc_hits(b, h, speed, angle, distance, level):
    """The path at ``angle`` passes within 1e-9 of the target's distance from the launch point,
    or (strong drag: near the steepest angle that gets to d at all, cos θ = b d/v, the height
    falls to −∞ within rounding) the height crosses the target's within 1e-13 of the angle."""
    if abs(linear_height(b, h, speed, angle, distance) - level) <= 1e-9 * np.hypot(distance, level - h):
        return
    assert angle == pytest.approx(np.arccos(b * distance / speed), rel=1e-9)
    assert linear_height(b, h, speed, angle * (1 - 1e-13), distance) > level
    assert linear_height(b, h, speed, angle * (1 + 1e-13), distance) < level


def linear_apex(b, h, speed, g=G):
    """The vertical shot's apex: h + v/b − (g/b²) ln(1 + b v/g)."""
    return h + speed / b - g / b**2 * np.log1p(b * speed / g)


def mp_least(b, distance, g=G):
    """(v_min, θ_min) to a target on the launch height under linear drag in mpmath (60 digits),
    where float64 cannot resolve the angle: max over θ of s(θ) cos θ, s from w − (1 − e^(−w)) =
    d tan θ b²/g."""
    mpmath.mp.dps = 60
    b, distance, g = mpmath.mpf(b), mpmath.mpf(distance), mpmath.mpf(g)

    def reach_ratio(theta):
        target, low, high = distance * mpmath.tan(theta) * b**2 / g, mpmath.mpf(0), None
        high = target + 2
        for _ in range(300):
            middle = (low + high) / 2
            low, high = (middle, high) if middle + mpmath.expm1(-middle) < target else (low, middle)
        return -mpmath.expm1(-(low + high) / 2) * mpmath.cos(theta)

    low, high, ratio = mpmath.mpf("1e-40"), mpmath.pi / 2, (mpmath.sqrt(5) - 1) / 2
    for _ in range(200):  # golden section on the unimodal s(θ) cos θ
        a, c = high - ratio * (high - low), low + ratio * (high - low)
        low, high = (low, c) if reach_ratio(a) > reach_ratio(c) else (a, high)
    theta = (low + high) / 2
    return float(b * distance / reach_ratio(theta)), float(theta)


# --- straight overhead ------------------------------------------------------------------------------


def test_straight_overhead_without_drag_is_the_vertical_shot():
    p = Projectile()
    least = aim(p, 0.0, target_height=5.0, curve_points=0)
    assert float(least.speed) == pytest.approx(np.sqrt(2 * G * 5.0), rel=1e-12)  # √(2 g h) = 9.90 m/s
    assert float(least.angle) == np.pi / 2
    # 20 m/s straight up passes 5 m (its apex is 400/2g = 20.4 m): one solution, the vertical one.
    hits = aim(p, 0.0, target_height=5.0, speed=20.0)
    assert int(hits.count) == 1 and float(hits.high) == np.pi / 2 and np.isnan(hits.low)
    assert float(hits.clearance) == pytest.approx(400 / (2 * G) - 5.0, rel=1e-12)
    # 5 m/s does not: its highest point, straight up, is the closest approach.
    short = aim(p, 0.0, target_height=5.0, speed=5.0)
    assert int(short.count) == 0 and float(short.best) == np.pi / 2
    assert float(short.clearance) == pytest.approx(25 / (2 * G) - 5.0, rel=1e-12)
    distance, angle = reach(p, 5.0, target_height=5.0)
    assert np.isnan(distance) and float(angle) == np.pi / 2
    # No angle below 90° reaches a point straight above.
    assert np.isnan(float(aim(p, 0.0, target_height=5.0, angle=1.2)))


def test_straight_overhead_under_linear_drag_is_the_vertical_closed_form():
    b = 0.8  # k/m in 1/s
    p = Projectile(LinearDrag(0.8), mass=1.0)
    expected = brentq(lambda v: linear_apex(b, 0.0, v) - 5.0, 1.0, 100.0, xtol=1e-14, rtol=1e-15)
    assert float(aim(p, 0.0, target_height=5.0, curve_points=0).speed) == pytest.approx(expected, rel=1e-12)
    hits = aim(p, 0.0, target_height=np.array([5.0, 50.0]), speed=20.0)
    assert hits.count.tolist() == [1, 0]
    np.testing.assert_allclose(hits.clearance, linear_apex(b, 0.0, 20.0) - np.array([5.0, 50.0]), rtol=1e-12)
    # From a height, a point straight below: straight down, and straight up falling back past it.
    below = aim(Projectile(LinearDrag(0.8), height=3.0), 0.0, target_height=-2.0, speed=4.0)
    assert int(below.count) == 2 and float(below.low) == -np.pi / 2 and float(below.high) == np.pi / 2


def test_straight_overhead_at_the_command_line(capsys):
    status, out, err = run(capsys, "aim", "--distance", "0", "--target-height", "5")
    assert status == 0, err
    assert "min-speed 9.90454 m/s at 90°" in out and "nan" not in out
    shot = answer(capsys, "--distance", "0", "--target-height", "5", "--speed", "20")
    assert shot["reachable"] and shot["closest"] is None
    assert shot["solutions"] == [{"speed": 20.0, "angle": 90.0, "arc": "high", "flight_time": None}]
    high = answer(capsys, "--distance", "0", "--target-height", "50", "--speed", "20")
    assert not high["reachable"] and high["solutions"] == []
    assert high["closest"] == {"distance": 0.0, "height": pytest.approx(400 / (2 * G), rel=1e-12), "angle": 90.0}


# --- strong drag and targets above every path --------------------------------------------------------


def test_strong_linear_drag_has_a_least_speed_and_hits_with_it(capsys):
    # k/m = 100/s: no angle gets to 100 m below 10⁴ m/s, and the least speed is within 4e-9 of that.
    drag = ["--drag", "linear", "--k", "100"]
    expected, expected_angle = mp_least(100.0, 100.0)
    fast = answer(capsys, "--distance", "100", *drag, "--speed", "1e6")
    least = fast["min_speed"]
    assert least["speed"] == pytest.approx(expected, rel=1e-12) and least["speed"] <= 1e6
    assert np.deg2rad(least["angle"]) == pytest.approx(expected_angle, rel=1e-6)
    assert abs(linear_height(100.0, 0.0, least["speed"], np.deg2rad(least["angle"]), 100.0)) <= 1e-9 * 100
    low, high = fast["solutions"]
    assert (low["arc"], high["arc"]) == ("low", "high")
    assert abs(linear_height(100.0, 0.0, 1e6, np.deg2rad(low["angle"]), 100.0)) <= 1e-9 * 100
    # The high arc falls through the ground within rounding of the steepest angle that gets to
    # 100 m at all, v cos θ / b = d.
    assert_arc_hits(100.0, 0.0, 1e6, np.deg2rad(high["angle"]), 100.0, 0.0)
    assert low["flight_time"] == pytest.approx(-np.log1p(-100 * 100 / (1e6 * np.cos(np.deg2rad(low["angle"])))) / 100,
                                               rel=1e-9)


@pytest.mark.parametrize("drag, apex", [
    ([], 50.0**2 / (2 * G)),
    (["--drag", "linear", "--k", "100"], linear_apex(100.0, 0.0, 50.0) - 0.0),
])
def test_a_target_above_every_path_has_the_highest_point_as_closest_approach(capsys, drag, apex):
    shot = answer(capsys, "--distance", "100", "--target-height", "1000", "--speed", "50", *drag)
    assert not shot["reachable"] and shot["solutions"] == []
    assert shot["closest"] == {"distance": 0.0, "height": pytest.approx(apex, rel=1e-10), "angle": 90.0}
    status, out, _ = run(capsys, "aim", "--distance", "100", "--target-height", "1000", "--speed", "50", *drag)
    assert status == 0 and f"the highest the shot gets is {apex:.6g} m above the launch point, straight up" in out


# --- a random family against closed forms and brute force ------------------------------------------


def test_a_random_family_without_drag_matches_the_closed_forms():
    rng = np.random.default_rng(28)
    for g, h in [(9.81, 0.0), (1.6, 4.0), (1e-4, 0.0), (3e5, 2.0)]:
        p = Projectile(g=g, height=h)
        d = 10 ** rng.uniform(-3, 5, 24)
        z = np.where(rng.random(24) < 0.25, 0.0, np.clip(d * rng.uniform(-2, 3, 24), -h, None))
        r = np.hypot(d, z)
        least = aim(p, d, target_height=z, curve_points=0)
        np.testing.assert_allclose(least.speed, np.sqrt(g * (z + r)), rtol=1e-11)
        np.testing.assert_allclose(least.angle, np.arctan2(z + r, d), rtol=1e-9)
        v = np.sqrt(g * (z + r)) * rng.uniform(1.01, 3, 24)
        disc = np.sqrt(v**4 - g * (g * d**2 + 2 * z * v**2))
        hits = aim(p, d, target_height=z, speed=v)
        np.testing.assert_allclose(np.tan(hits.high), (v**2 + disc) / (g * d), rtol=1e-9)
        np.testing.assert_allclose(np.tan(hits.low), (v**2 - disc) / (g * d), rtol=1e-9)
        angle = np.arctan2(z, d) + rng.uniform(0.05, 0.95, 24) * (np.pi / 2 - np.arctan2(z, d))
        expected = np.sqrt(g * d**2 / (2 * np.cos(angle) ** 2 * (d * np.tan(angle) - z)))
        np.testing.assert_allclose(aim(p, d, target_height=z, angle=angle), expected, rtol=1e-10)
        # Short of the target: the farthest at its height, at tan θ = v/√(v² − 2 g z).
        slow = np.sqrt(np.maximum(2 * g * z, 0) + rng.uniform(0.1, 0.9, 24) * (g * (z + r) - np.maximum(2 * g * z, 0)))
        far, best = reach(p, slow, target_height=z)
        root = np.sqrt(slow**2 - 2 * g * z)
        np.testing.assert_allclose(far, slow * root / g, rtol=1e-10)
        np.testing.assert_allclose(np.tan(best), slow / root, rtol=1e-6)


def test_a_random_family_under_linear_drag_matches_brute_force():
    rng = np.random.default_rng(280)
    for _ in range(3):
        k, mass, h = 10 ** rng.uniform(-2, 1), 10 ** rng.uniform(-1, 1), rng.choice([0.0, 2.5])
        b, p = k / mass, Projectile(LinearDrag(k), mass=mass, height=h)
        d = rng.uniform(1, 60, 3)
        z = np.where(rng.random(3) < 0.5, 0.0, rng.uniform(-h, 10, 3))
        least = aim(p, d, target_height=z, curve_points=0)
        expected = [linear_least(b, h, di, h + zi) for di, zi in zip(d, z)]
        np.testing.assert_allclose(least.speed, [v for v, _ in expected], rtol=1e-9)
        for v, a, di, zi in zip(np.asarray(least.speed), np.asarray(least.angle), d, z):
            assert abs(linear_height(b, h, v, a, di) - (h + zi)) <= 1e-9 * np.hypot(di, zi)
        angle = np.array([a for _, a in expected]) + 0.2
        np.testing.assert_allclose(aim(p, d, target_height=z, angle=angle),
                                   [linear_speed_at(b, h, a, di, h + zi) for a, di, zi in zip(angle, d, z)], rtol=1e-10)
        hits = aim(p, d, target_height=z, speed=1.3 * np.asarray(least.speed))
        assert (np.asarray(hits.count) >= 1).all() and np.isfinite(hits.high).all()
        for arc in (hits.low, hits.high):
            for v, a, di, zi in zip(1.3 * np.asarray(least.speed), np.asarray(arc), d, z):
                if np.isfinite(a):
                    assert_arc_hits(b, h, v, a, di, h + zi)


def test_the_farthest_reach_under_linear_drag_matches_brute_force():
    b, h, speed, z = 0.5, 1.0, 20.0, 2.0
    p = Projectile(LinearDrag(0.5), mass=1.0, height=h)

    def highest(distance):
        edge = np.arccos(min(b * distance / speed, 1.0))
        found = minimize_scalar(lambda a: -linear_height(b, h, speed, a, distance), method="bounded",
                                bounds=(-np.pi / 2 + 1e-9, edge - 1e-12), options={"xatol": 1e-12})
        return -found.fun

    with np.errstate(invalid="ignore"):  # the brute force meets −∞ beyond the steepest angle that gets there
        expected = brentq(lambda dist: highest(dist) - (h + z), 1e-3, speed / b * (1 - 1e-12), xtol=1e-13, rtol=1e-15)
    far, _ = reach(p, speed, target_height=z)
    assert float(far) == pytest.approx(expected, rel=1e-9)


def test_the_least_speed_under_linear_drag_is_differentiable():
    import jax

    def least(x):
        return aim(Projectile(LinearDrag(x[1]), mass=2.0), x[0], curve_points=0).speed

    def brute(x):  # (distance m, k kg/s), mass 2 kg
        return linear_least(x[1] / 2.0, 0.0, x[0], 0.0)[0]

    x = np.array([40.0, 1.5])
    gradient = np.asarray(jax.jacfwd(least)(x))
    step = np.array([1e-3, 1e-4])
    fd = [(brute(x + step[i] * np.eye(2)[i]) - brute(x - step[i] * np.eye(2)[i])) / (2 * step[i]) for i in range(2)]
    np.testing.assert_allclose(gradient, fd, rtol=1e-6)


# --- extremes: right or refused -------------------------------------------------------------------


@pytest.mark.parametrize("argv, speed, angle", [
    (["--distance", "100", "--g", "1e-300"], 1e-149, 45.0),   # √(g d)
    (["--distance", "100", "--g", "1e300"], 1e151, 45.0),
    (["--distance", "100", "--drag", "linear", "--k", "1", "--mass", "1e300"], np.sqrt(G * 100), 45.0),
])
def test_extreme_physics_give_the_closed_form(capsys, argv, speed, angle):
    least = answer(capsys, *argv)["min_speed"]
    assert least["speed"] == pytest.approx(speed, rel=1e-9) and least["angle"] == pytest.approx(angle, rel=1e-7)


@pytest.mark.parametrize("k, g", [(1e8, G), (1.0, 1e-300)])
def test_drag_far_stronger_than_gravity_needs_b_d(capsys, k, g):
    # b d: below it no angle gets to d (x < v cos θ / b); the least speed is that to float64
    # (g = 1e-300: 1e151 times the least speed without drag).
    shot = answer(capsys, "--distance", "100", "--drag", "linear", "--k", str(k), "--g", str(g))
    (solution,) = shot["solutions"]
    assert solution["speed"] == pytest.approx(k * 100, rel=1e-12) and solution["flight_time"] > 0
    assert 0 < solution["angle"] < 1e-3
    assert abs(linear_height(k, 0.0, solution["speed"], np.deg2rad(solution["angle"]), 100.0, g)) <= 1e-6 * 100


def test_a_target_beyond_every_speed_says_so(capsys):
    # m = 1e-300 kg: b d = 1e302 m/s, above the searched 1e300 m/s.
    status, out, err = run(capsys, "aim", "--distance", "100", "--drag", "linear", "--k", "1", "--mass", "1e-300")
    assert status == 0, err
    assert "unreachable at any speed up to 1e+300 m/s" in out and "least speed: none up to 1e+300 m/s" in out
    assert answer(capsys, "--distance", "100", "--drag", "linear", "--k", "1", "--mass", "1e-300")["min_speed"] == \
        {"speed": None, "angle": None, "searched_up_to": 1e300}


@pytest.mark.parametrize("argv, says", [
    (["--distance", "1e300"], "--distance 1e+300: a target 1e+300 m from the launch point is too far"),
    (["--distance", "1e-300"], "--distance 1e-300: a target 1e-300 m from the launch point is too near"),
    (["--distance", "0.001", "--height", "1e7"], "--height 1e+07: a launch this high rounds heights to 1.86e-09 m"),
    (["--distance", "100", "--height", "1e300"], "--height 1e+300: a launch this high rounds heights"),
    (["--distance", "10", "--speed", "1e200"], "--speed 1e+200: too fast to aim with in float64"),
    (["--distance", "10", "--speed", "1e-200"], "--speed 1e-200: too slow to aim with in float64"),
    (["--distance", "1e150", "--drag", "linear", "--k", "1e100"], "--distance 1e+150: the flight time"),
])
def test_beyond_float64_is_refused_naming_the_flag_given(tmp_path, capsys, argv, says):
    assert_refused(capsys, tmp_path, "aim", *argv, "--curve", tmp_path / "c.csv", says=says)


# --- files -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--curve", "--plot"])
def test_an_empty_file_name_is_refused(tmp_path, monkeypatch, capsys, flag):
    monkeypatch.chdir(tmp_path)
    assert_refused(capsys, tmp_path, "aim", "--distance", "30", flag, "", says=f"{flag} '': not a file name")


def test_a_failure_after_the_curve_leaves_no_curve(tmp_path, monkeypatch, capsys):
    def broken(figure, path):
        raise ValueError(f"cannot write {path}: disk on fire")

    monkeypatch.setattr("hybridlab.report.figures.write_figure", broken)
    # Linear drag and one target, as the test below: the same compiled curve (2 s of compiling).
    assert_refused(capsys, tmp_path, "aim", "--distance", "30", "--drag", "linear", "--k", "1", "--curve",
                   tmp_path / "c.csv", "--plot", tmp_path / "p.png", says="p.png: disk on fire")


def test_the_curve_of_a_target_out_of_reach_has_no_rows(tmp_path, capsys):
    curve = tmp_path / "c.csv"
    status, _, err = run(capsys, "aim", "--distance", "100", "--drag", "linear", "--k", "1", "--mass", "1e-300",
                         "--curve", curve)
    assert status == 0, err
    assert curve.read_text() == "angle,speed\n"


@pytest.mark.slow  # ~30 s, most of it compiling the ODE law's searches
def test_a_quadratic_drag_of_1e300_is_answered_in_seconds(capsys):
    start = time.perf_counter()
    status, out, err = run(capsys, "aim", "--distance", "100", "--drag", "quadratic", "--c", "1e300")
    assert status == 0, err
    assert "unreachable at any speed up to 1e+300 m/s" in out
    assert time.perf_counter() - start < 120
