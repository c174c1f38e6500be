"""Learn the quadratic drag law F = -c |v| v from one measured track (CSV shot,t,x,y; mass
0.145 kg): curve_fit (Levenberg-Marquardt) of c, g and the launch state x0, y0, vx0, vy0
through solve_ivp (DOP853, rtol = atol = 1e-10) at the track's times, started from c = 1e-3,
g = 9.80665 and the track's first two points. Prints each parameter ± its standard error.

    python learn_drag.py TRACK.csv
"""
import sys

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import curve_fit

MASS = 0.145


def motion(t, s, c, g):
    drag = c / MASS * np.hypot(s[2], s[3])
    return [s[2], s[3], -drag * s[2], -g - drag * s[3]]


def path(t, c, g, *start):
    sol = solve_ivp(motion, (0, t[-1]), start, "DOP853", t_eval=t, args=(c, g), rtol=1e-10, atol=1e-10)
    return sol.y[:2].ravel()


_, t, x, y = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1).T
p0 = [1e-3, 9.80665, x[0], y[0], (x[1] - x[0]) / (t[1] - t[0]), (y[1] - y[0]) / (t[1] - t[0])]
p, cov = curve_fit(path, t, np.r_[x, y], p0=p0)
for name, value, err in zip(["c", "g", "x0", "y0", "vx0", "vy0"], p, np.sqrt(np.diag(cov))):
    print(f"{name} = {value:.6g} ± {err:.2g}")
