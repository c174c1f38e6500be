"""Fit the linear-drag coefficient k (kg/s) to measured shots (CSV speed m/s, angle degrees,
distance m; mass 7.26 kg, g 9.81, from the ground): curve_fit (Levenberg-Marquardt, p0 = 1)
on the Lambert W closed form of the range. Prints k ± its standard error and saves them as
JSON (the "model" that predict_linear.py reads).

    python fit_linear.py SHOTS.csv MODEL.json
"""
import json
import sys

import numpy as np
from scipy.optimize import curve_fit
from scipy.special import lambertw

MASS, G = 7.26, 9.81


def distance(shots, k):
    speed, angle = shots[:, 0], np.radians(shots[:, 1])
    b = k / MASS
    q = G / (b * speed * np.sin(angle) + G)
    return speed * np.cos(angle) / b * (1 + q * lambertw(-np.exp(-1 / q) / q).real)


shots = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
(k,), cov = curve_fit(distance, shots[:, :2], shots[:, 2], p0=[1.0])
print(f"k = {k:.6g} ± {np.sqrt(cov[0, 0]):.2g}")
with open(sys.argv[2], "w") as f:
    json.dump({"k": k, "mass": MASS}, f)
