"""The path of one shot under linear drag F = -k v (from the ground, g 9.81): solve_ivp
(DOP853, rtol = atol = 1e-12, dense output) to the ground event, then t, x, y at 200 equally
spaced times over the flight, written as CSV (the answer of `hybridlab solve`, exact or pinn).

    python solve_exact.py SPEED ANGLE_DEG K MASS OUT.csv
"""
import sys

import numpy as np
from scipy.integrate import solve_ivp

speed, angle, k, mass = map(float, sys.argv[1:5])
g = 9.81


def motion(t, s):
    return [s[2], s[3], -k / mass * s[2], -g - k / mass * s[3]]


def ground(t, s):
    return s[1]


ground.terminal, ground.direction = True, -1
start = [0, 0, speed * np.cos(np.radians(angle)), speed * np.sin(np.radians(angle))]
sol = solve_ivp(motion, (0, 2 * speed / g + 1), start, "DOP853", events=ground, dense_output=True,
                rtol=1e-12, atol=1e-12)
t = np.linspace(0, sol.t_events[0][0], 200)
np.savetxt(sys.argv[5], np.column_stack([t, sol.sol(t)[:2].T]), delimiter=",", header="t,x,y", comments="",
           fmt="%.17g")
