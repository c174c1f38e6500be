"""Independent high-precision references: mpmath at 60 digits, in the textbook formulas.

These use the forms the library deliberately avoids (Lambert W for the linear-drag flight
time, (u + g/b)(1 − e^{−bt})/b − g t/b for the height), which are exact in exact arithmetic
and, at 60 digits, accurate to far below float64 for every case the tests use.
"""

import mpmath as mp
import numpy as np
from scipy.integrate import solve_ivp

mp.mp.dps = 60


def _f(x):
    return mp.mpf(float(x))


def linear_drag(speed, angle, k, mass, g=9.81, height=0.0):
    """Dict of T, range, apex (x, y), impact (speed, angle) under F = −k v; k = 0 is vacuum."""
    v, th, g, h = _f(speed), _f(angle), _f(g), _f(height)
    b = _f(k) / _f(mass)
    u, vx0 = v * mp.sin(th), v * mp.cos(th)
    if b == 0:
        r = mp.sqrt(u**2 + 2 * g * h)
        T = (u + r) / g
        x = lambda t: vx0 * t
        y = lambda t: h + u * t - g * t**2 / 2
        vel = lambda t: (vx0, u - g * t)
        ta = max(u, 0) / g
    else:
        vt = g / b
        a, eta = 1 + u / vt, h * b / vt
        T = mp.re(a + eta + mp.lambertw(-a * mp.exp(-a - eta), 0)) / b
        x = lambda t: vx0 * (1 - mp.exp(-b * t)) / b
        y = lambda t: h + (u + vt) * (1 - mp.exp(-b * t)) / b - vt * t
        vel = lambda t: (vx0 * mp.exp(-b * t), (u + vt) * mp.exp(-b * t) - vt)
        ta = mp.log(1 + u / vt) / b if u > 0 else mp.mpf(0)
    if h == 0 and u <= 0:
        T = mp.mpf(0)
    vxT, vyT = vel(T)
    return {
        "flight_time": T,
        "range": x(T),
        "apex": (x(ta), y(ta)),
        "impact": (mp.sqrt(vxT**2 + vyT**2), mp.atan2(-vyT, vxT)),
    }


def vertical_quadratic(speed, c, mass, g=9.81, height=0.0):
    """Straight up under F = −c|v|v, closed forms: flight time, apex height, impact speed.

    With terminal speed w = √(m g / c): rise time (w/g) atan(v/w) to height
    H = h + (w²/2g) ln(1 + v²/w²); fall time (w/g) acosh(exp(g H / w²));
    impact speed w √(1 − exp(−2 g H / w²)).
    """
    v, g, h = _f(speed), _f(g), _f(height)
    w = mp.sqrt(_f(mass) * g / _f(c))
    H = h + w**2 / (2 * g) * mp.log(1 + v**2 / w**2)
    T = w / g * mp.atan(v / w) + w / g * mp.acosh(mp.exp(g * H / w**2))
    return {"flight_time": T, "apex_height": H, "impact_speed": w * mp.sqrt(1 - mp.exp(-2 * g * H / w**2))}


def quadratic_mpmath(speed, angle, c, mass, g=9.81, height=0.0, dps=30):
    """(T, range) under F = −c|v|v by mpmath's Taylor-series ODE solver at ``dps`` digits."""
    with mp.workdps(dps):
        k, g = _f(c) / _f(mass), _f(g)
        v, th = _f(speed), _f(angle)

        def rhs(t, s):
            sp = mp.sqrt(s[2] ** 2 + s[3] ** 2)
            return [s[2], s[3], -k * sp * s[2], -g - k * sp * s[3]]

        solution = mp.odefun(rhs, 0, [mp.mpf(0), _f(height), v * mp.cos(th), v * mp.sin(th)])
        guess = (v * mp.sin(th) + mp.sqrt((v * mp.sin(th)) ** 2 + 2 * g * _f(height))) / g
        T = mp.findroot(lambda t: solution(t)[1], guess * 0.9)
        return T, solution(T)[0]


def quadratic_scipy(speed, angle, c, mass, g=9.81, height=0.0):
    """(T, range) under F = −c|v|v by SciPy's DOP853 at rtol 1e-13 with a terminal event."""

    def rhs(t, s):
        sp = np.hypot(s[2], s[3])
        return [s[2], s[3], -c / mass * sp * s[2], -g - c / mass * sp * s[3]]

    def ground(t, s):
        return s[1]

    ground.terminal, ground.direction = True, -1
    state0 = [0.0, height, speed * np.cos(angle), speed * np.sin(angle)]
    solution = solve_ivp(rhs, (0, 1e4), state0, method="DOP853", rtol=1e-13, atol=1e-14, events=ground)
    return solution.t_events[0][0], solution.y_events[0][0][0]
