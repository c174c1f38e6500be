"""Range (m) of one shot under quadratic drag F = -c |v| v, launched from the ground:
solve_ivp (DOP853, rtol 1e-12, atol 1e-12) stopped by a ground event.

    python range_quadratic.py SPEED ANGLE_DEG C MASS
"""
import sys

import numpy as np
from scipy.integrate import solve_ivp

speed, angle, c, mass = map(float, sys.argv[1:5])
g = 9.81


def motion(t, s):
    drag = c / mass * np.hypot(s[2], s[3])
    return [s[2], s[3], -drag * s[2], -g - drag * s[3]]


def ground(t, s):
    return s[1]


ground.terminal, ground.direction = True, -1
start = [0, 0, speed * np.cos(np.radians(angle)), speed * np.sin(np.radians(angle))]
sol = solve_ivp(motion, (0, 4 * speed / g + 1), start, "DOP853", events=ground, rtol=1e-12, atol=1e-12)
print(float(sol.y_events[0][0][0]))
