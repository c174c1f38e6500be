"""Range (m) of one shot under linear drag F = -k v, launched from the ground, in closed form
by the Lambert W function: D = (v_x/b)(1 + q W0(-e^(-1/q)/q)), b = k/m, q = g/(b v_y + g).

    python range_linear.py SPEED ANGLE_DEG K MASS
"""
import sys

import numpy as np
from scipy.special import lambertw

speed, angle, k, mass = map(float, sys.argv[1:5])
g, b = 9.81, k / mass
vx, vy = speed * np.cos(np.radians(angle)), speed * np.sin(np.radians(angle))
q = g / (b * vy + g)
print(float(vx / b * (1 + q * lambertw(-np.exp(-1 / q) / q).real)))
