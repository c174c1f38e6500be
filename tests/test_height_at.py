"""Projectile.height_at (the height where x first reaches a distance) against independent references:
the parabola and the linear-drag closed form in mpmath at 50 digits, SciPy's DOP853 with a terminal
event on x − d for quadratic drag; consistency with range and apex; gradients (reverse and forward
mode) against central differences; unreachable distances."""

import equinox as eqx
import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from hybridlab import LinearDrag, NoDrag, Projectile, QuadraticDrag

G = 9.81
SHOT_PUT = dict(mass=7.26)
BALL = dict(mass=0.145)
K, C = 1.8, 9e-4
RNG = np.random.default_rng(11)
N = 12  # every batch has this many shots: one compiled program per law and mode


def _mpf(x):
    return mp.mpf(float(x))


def _launches(height):
    speed = RNG.uniform(2.0, 60.0, N)
    angle = RNG.uniform(0.02, 1.5, N) if height == 0 else RNG.uniform(-1.2, 1.5, N)
    return speed, angle


def parabola_mpmath(speed, angle, distance, height):
    """(y, scale): y = h + d tan θ − g d²/(2 v² cos² θ) at 50 digits, and the size of its terms."""
    with mp.workdps(50):
        v, th, d, h = _mpf(speed), _mpf(angle), _mpf(distance), _mpf(height)
        drop = _mpf(G) * d**2 / (2 * v**2 * mp.cos(th) ** 2)
        rise = d * mp.tan(th)
        return h + rise - drop, abs(h) + abs(rise) + drop


def linear_mpmath(speed, angle, distance, height, k, mass):
    """(y, scale) under F = −k v at 50 digits: x(t) = v cos θ (1 − e^{−bt})/b = d by findroot,
    then y(t) = h + (u + g/b)(1 − e^{−bt})/b − g t/b (the textbook forms); None if unreachable."""
    with mp.workdps(50):
        v, th, d, h, g = _mpf(speed), _mpf(angle), _mpf(distance), _mpf(height), _mpf(G)
        b = _mpf(k) / _mpf(mass)
        vx, u = v * mp.cos(th), v * mp.sin(th)
        if d >= vx / b:
            return None
        t = mp.findroot(lambda t: vx * (1 - mp.exp(-b * t)) / b - d, d / vx)
        lift = (u + g / b) * (1 - mp.exp(-b * t)) / b
        return h + lift - g * t / b, abs(h) + abs(u * d / vx) + g * t**2 / 2


def quadratic_scipy(speed, angle, distance, height, c, mass):
    """y where x reaches d under F = −c|v|v: SciPy DOP853 at rtol 1e-13 with a terminal event."""

    def rhs(t, s):
        sp = np.hypot(s[2], s[3])
        return [s[2], s[3], -c / mass * sp * s[2], -G - c / mass * sp * s[3]]

    def reach(t, s):
        return s[0] - distance

    reach.terminal, reach.direction = True, 1
    state0 = [0.0, height, speed * np.cos(angle), speed * np.sin(angle)]
    solution = solve_ivp(rhs, (0, 1e4), state0, method="DOP853", rtol=1e-13, atol=1e-15, events=reach)
    return solution.y_events[0][0][1]


@pytest.mark.parametrize("height", [0.0, 1.5])
def test_no_drag_against_mpmath(height):
    p = Projectile(NoDrag(), height=height, **SHOT_PUT)
    speed, angle = _launches(height)
    distance = RNG.uniform(0.0, 1.3, N) * np.asarray(p.range(speed, angle))
    distance[0] = 0.0
    y = np.asarray(p.height_at(speed, angle, distance))
    for i in range(N):
        ref, scale = parabola_mpmath(speed[i], angle[i], distance[i], height)
        assert abs(y[i] - ref) <= 1e-12 * scale, (speed[i], angle[i], distance[i])


@pytest.mark.parametrize("height", [0.0, 1.5])
def test_linear_drag_against_mpmath(height):
    p = Projectile(LinearDrag(K), height=height, **SHOT_PUT)
    speed, angle = _launches(height)
    # Up to 0.98 of the asymptote m v cos θ / k: the long, steep fall of a nearly spent shot.
    asymptote = SHOT_PUT["mass"] * speed * np.cos(angle) / K
    distance = RNG.uniform(0.0, 0.98, N) * asymptote
    distance[:2] = 0.0, 1e-9 * asymptote[1]
    y = np.asarray(p.height_at(speed, angle, distance))
    for i in range(N):
        ref, scale = linear_mpmath(speed[i], angle[i], distance[i], height, K, SHOT_PUT["mass"])
        assert abs(y[i] - ref) <= 1e-12 * scale, (speed[i], angle[i], distance[i])


@pytest.mark.parametrize("height", [0.0, 1.5])
def test_quadratic_drag_against_scipy(height):
    p = Projectile(QuadraticDrag(C), height=height, **BALL)
    speed, angle = _launches(height)
    distance = RNG.uniform(0.01, 1.3, N) * np.asarray(p.range(speed, angle))
    y = np.asarray(p.height_at(speed, angle, distance))
    for i in range(N):
        ref = quadratic_scipy(speed[i], angle[i], distance[i], height, C, BALL["mass"])
        # SciPy's own error at rtol 1e-13 is ~1e-12; the target is 1e-9 of the distance travelled.
        assert abs(y[i] - ref) <= 1e-9 * max(distance[i], abs(ref)), (speed[i], angle[i], distance[i])


LAWS = [(NoDrag(), SHOT_PUT, 1e-12), (LinearDrag(K), SHOT_PUT, 1e-12), (QuadraticDrag(C), BALL, 1e-9)]


@pytest.mark.parametrize("drag,body,tolerance", LAWS, ids=["none", "linear", "quadratic"])
def test_ground_and_apex_consistency(drag, body, tolerance):
    p = Projectile(drag, height=1.5, **body)
    speed, angle = RNG.uniform(2.0, 60.0, N), RNG.uniform(0.05, 1.5, N)
    distance = np.asarray(p.range(speed, angle))
    apex_x, apex_y = (np.asarray(a) for a in p.apex(speed, angle))
    y = np.asarray(p.height_at(speed, angle, distance))
    np.testing.assert_array_less(np.abs(y), tolerance * distance)
    y = np.asarray(p.height_at(speed, angle, apex_x))
    np.testing.assert_array_less(np.abs(y - apex_y), tolerance * apex_y)


# Gradients ---------------------------------------------------------------------------------------
# Module-level compiled helpers over batches of N shots, shared by the tests below: lanes are
# independent shots, so the gradient of a sum over lanes is every lane's own derivative.
def _finite_sum(p, speed, angle, distance):
    y = p.height_at(speed, angle, distance)
    return jnp.sum(jnp.where(jnp.isfinite(y), y, 0.0))


def _tangent(p, speed, angle, distance, tangents):
    """Forward mode: the derivative of every lane along ``tangents`` (for p, speed, angle, distance)."""
    return jax.jvp(lambda *a: a[0].height_at(*a[1:], mode="forward"), (p, speed, angle, distance), tangents)[1]


_finite_gradient = eqx.filter_jit(jax.grad(_finite_sum, argnums=(0, 1, 2, 3)))
_forward = eqx.filter_jit(_tangent)

# law, its coefficient's name and value, body, relative FD step: the ODE's ~1e-12 error takes a larger step.
# The quadratic case is slow (make test-all): it differentiates the ODE path that
# test_gradients.py checks too.
GRADIENT_LAWS = [(NoDrag(), None, SHOT_PUT, 1e-6), (LinearDrag(K), "k", SHOT_PUT, 1e-6),
                 pytest.param(QuadraticDrag(C), "c", BALL, 1e-4, marks=pytest.mark.slow)]


@pytest.mark.parametrize("drag,name,body,step", GRADIENT_LAWS, ids=["none", "linear", "quadratic"])
def test_gradients_match_central_differences(drag, name, body, step):
    p = Projectile(drag, height=1.5, **body)
    # Its own draws: with the module's generator they depended on which tests ran before it.
    rng = np.random.default_rng(2)
    speed, angle = rng.uniform(10.0, 50.0, N), rng.uniform(-0.3, 1.2, N)
    distance = rng.uniform(0.2, 1.2, N) * np.asarray(p.range(speed, angle))
    shots = [speed, angle, distance]
    # Central differences, a whole batch at a time (the eager value's compiled program).
    fd = []
    for i, x in enumerate(shots):
        h = step * np.abs(x)
        up, down = list(shots), list(shots)
        up[i], down[i] = x + h, x - h
        fd.append((np.asarray(p.height_at(*up)) - np.asarray(p.height_at(*down))) / (2 * h))
    zero = jax.tree.map(jnp.zeros_like, p)
    if name is not None:
        value = float(p.value(name))
        h = step * value
        shifted = [np.asarray(p.replace([name], [jnp.asarray(value + sign * h, dtype=jnp.float64)]).height_at(*shots)) for sign in (1, -1)]
        fd.append((shifted[0] - shifted[1]) / (2 * h))
    reverse = _finite_gradient(p, *shots)
    gradients = {"reverse": [np.asarray(g) for g in reverse[1:]],
                 "forward": [np.asarray(_forward(p, *shots, (zero, *[np.eye(3)[i, j] * np.ones(N) for j in range(3)])))
                             for i in range(3)]}
    if name is not None:
        gradients["reverse"].append(np.asarray(reverse[0].value(name)))
        one = zero.replace([name], [jnp.asarray(1.0, dtype=jnp.float64)])  # a float64 leaf like p.c: no recompile
        gradients["forward"].append(np.asarray(_forward(p, *shots, (one, *[np.zeros(N)] * 3))))
    # Lane by lane, relative to the size of that lane's gradient; the coefficient's gradients summed.
    scale = np.max(np.abs(fd[:3]), axis=0)
    for mode, gradient in gradients.items():
        for j, (got, want) in enumerate(zip(gradient, fd)):
            if j == 3:
                got, want = got.sum(), want.sum()
            error = np.abs(got - want) - 1e-6 * np.abs(want) - 1e-7 * (scale.max() if j == 3 else scale)
            assert np.all(error <= 0), (mode, ["speed", "angle", "distance", name][j], got, want)


# Unreachable distances ---------------------------------------------------------------------------
# The quadratic case (an ODE solve's compile, 16 s) runs in make test-all.
@pytest.mark.parametrize("drag,body", [pytest.param(d, b, marks=[pytest.mark.slow] if i == 2 else [])
                                       for i, (d, b, _) in enumerate(LAWS)], ids=["none", "linear", "quadratic"])
def test_unreachable_is_minus_inf_with_finite_gradients(drag, body):
    p = Projectile(drag, height=1.5, **body)
    speed = np.full(N, 20.0)
    angle = np.full(N, 0.5)
    distance = np.full(N, 15.0)
    speed[0], distance[0] = 0.0, 5.0          # at rest: x never leaves 0
    speed[1], distance[1] = 0.0, 0.0          # at rest, d = 0: the launch height
    angle[2], distance[2] = -np.pi / 2, 0.0   # straight down, d = 0
    distance[3] = 0.0                         # d = 0
    if isinstance(drag, LinearDrag):          # beyond the asymptote m v cos θ / k
        distance[4] = body["mass"] * 20.0 * np.cos(0.5) / K * 1.0001
    y = np.asarray(p.height_at(speed, angle, distance))
    unreachable = np.zeros(N, bool)
    unreachable[[0, 4] if isinstance(drag, LinearDrag) else [0]] = True
    assert np.all(y[unreachable] == -np.inf)
    assert np.all(np.isfinite(y[~unreachable]))
    np.testing.assert_array_equal(y[1:4], 1.5)
    gradients = _finite_gradient(p, speed, angle, distance)
    for gradient in jax.tree.leaves(gradients):
        assert np.all(np.isfinite(np.asarray(gradient)))
    d_speed, _, d_distance = (np.asarray(g) for g in gradients[1:])
    assert np.all(d_speed[unreachable] == 0) and np.all(d_speed[5:] > 0)
    # dy/dd at d = 0 is the launch slope tan θ.
    assert d_distance[3] == pytest.approx(np.tan(0.5), rel=1e-9)


def test_arguments_are_checked():
    p = Projectile(LinearDrag(K), **SHOT_PUT)
    with pytest.raises(ValueError, match=r"^distance = -1\.0: must be finite and >= 0"):
        p.height_at(20.0, 0.5, -1.0)
    with pytest.raises(ValueError, match=r"^distance = nan"):
        p.height_at(20.0, 0.5, np.nan)
    with pytest.raises(ValueError, match="speed, angle and distance must broadcast"):
        p.height_at(np.ones(2), 0.5, np.ones(3))
    with pytest.raises(ValueError, match="mode"):
        p.height_at(20.0, 0.5, 1.0, mode="sideways")
