"""Fit the quadratic-drag coefficient c (kg/m) to measured shots (CSV speed m/s, angle degrees,
distance m; a baseball, mass 0.145 kg, g 9.81, from the ground): curve_fit (Levenberg-
Marquardt, p0 = 5e-4) on ranges from solve_ivp, one solve per shot (DOP853, rtol = atol =
1e-10, terminal ground event). Prints c ± its standard error.

    python fit_quadratic.py SHOTS.csv
"""
import sys

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import curve_fit

MASS, G = 0.145, 9.81


def ground(t, s, c):
    return s[1]


ground.terminal, ground.direction = True, -1


def motion(t, s, c):
    drag = c / MASS * np.hypot(s[2], s[3])
    return [s[2], s[3], -drag * s[2], -G - drag * s[3]]


def one_range(speed, angle, c):
    start = [0, 0, speed * np.cos(angle), speed * np.sin(angle)]
    sol = solve_ivp(motion, (0, 4 * speed / G + 1), start, "DOP853", events=ground, args=(c,),
                    rtol=1e-10, atol=1e-10)
    return sol.y_events[0][0][0]


def distance(shots, c):
    return np.array([one_range(v, np.radians(a), c) for v, a in shots])


shots = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
(c,), cov = curve_fit(distance, shots[:, :2], shots[:, 2], p0=[5e-4])
print(f"c = {c:.6g} ± {np.sqrt(cov[0, 0]):.2g}")
