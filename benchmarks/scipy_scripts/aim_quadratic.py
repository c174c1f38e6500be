"""Aim a baseball (quadratic drag F = -c |v| v, from the ground, g 9.81) at a target on the
ground DISTANCE m away at SPEED m/s: the farthest reach at that speed (minimize_scalar, bounded,
of -range over the angle), and the least speed that reaches the target (brentq on the speed of
farthest reach - DISTANCE, bracketed by sqrt(g DISTANCE), the least speed without drag, and 4
times that). Each range: solve_ivp (DOP853, rtol = atol = 1e-12) to the ground event. Prints
the reach (m) and its angle, then the least speed and its angle.

    python aim_quadratic.py DISTANCE SPEED C MASS
"""
import sys

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, minimize_scalar

distance, speed, c, mass = map(float, sys.argv[1:5])
g = 9.81


def motion(t, s):
    drag = c / mass * np.hypot(s[2], s[3])
    return [s[2], s[3], -drag * s[2], -g - drag * s[3]]


def ground(t, s):
    return s[1]


ground.terminal, ground.direction = True, -1


def reach(v, angle):
    start = [0, 0, v * np.cos(angle), v * np.sin(angle)]
    sol = solve_ivp(motion, (0, 4 * v / g + 1), start, "DOP853", events=ground, rtol=1e-12, atol=1e-12)
    return sol.y_events[0][0][0]


def farthest(v):
    best = minimize_scalar(lambda a: -reach(v, a), bounds=(0.01, 1.56), method="bounded",
                           options={"xatol": 1e-9})
    return -best.fun, np.degrees(best.x)


far, angle = farthest(speed)
if far >= distance:
    print(f"reachable: the farthest at {speed:g} m/s is {far:.6g} m, at {angle:.6g}°")
else:
    print(f"unreachable: at this speed the farthest at the target's height is {far:.6g} m, at {angle:.6g}°")
slowest = np.sqrt(g * distance)  # without drag; drag only asks for more
least = brentq(lambda v: farthest(v)[0] - distance, slowest, 4 * slowest, xtol=1e-10)
print(f"least speed: {least:.6g} m/s at {farthest(least)[1]:.6g}°")
