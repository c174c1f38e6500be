"""Predict distances (m) for shots (CSV speed m/s, angle degrees[, ...]) with the k saved by
fit_linear.py: the Lambert W closed form of the linear-drag range; writes the input with a
'predicted' column.

    python predict_linear.py MODEL.json SHOTS.csv OUT.csv
"""
import json
import sys

import numpy as np
from scipy.special import lambertw

with open(sys.argv[1]) as f:
    model = json.load(f)
shots = np.genfromtxt(sys.argv[2], delimiter=",", names=True)
speed, angle = shots["speed"], np.radians(shots["angle"])
b, g = model["k"] / model["mass"], 9.81
q = g / (b * speed * np.sin(angle) + g)
predicted = speed * np.cos(angle) / b * (1 + q * lambertw(-np.exp(-1 / q) / q).real)
header = ",".join(shots.dtype.names + ("predicted",))
np.savetxt(sys.argv[3], np.column_stack([shots[n] for n in shots.dtype.names] + [predicted]),
           delimiter=",", header=header, comments="", fmt="%.17g")
