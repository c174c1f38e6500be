"""Recover a horizontal wind w(t) from one tracked shot (CSV t,x,y[,wind]; linear drag F =
-k(v - (w, 0)), launched from the origin, g 9.81) by Tikhonov regularisation. Under linear
drag the track is linear in the wind and the launch velocity u:
    x(t) = u_x (1 - e^(-bt))/b + int_0^t (1 - e^(-b(t-s))) w(s) ds,   b = k/m,
    y(t) = u_y (1 - e^(-bt))/b - g (t - (1 - e^(-bt))/b)/b.
w is linear between 41 samples over the track; the integral is a trapezoid rule on 4001
points. (u_x, w) minimise |x - A w - C u_x|^2 + lam |first difference of w|^2, solved by
scipy.linalg.lstsq on the stacked system, lam chosen by generalised cross-validation over
10^-8 ... 10^2; u_y by least squares on y. Prints lam, the residual RMS over x and y, the
relative error against the wind column (if any) at the samples, and the launch.

    python recover_wind.py TRACK.csv MASS K
"""
import sys

import numpy as np
from scipy.linalg import lstsq

data = np.genfromtxt(sys.argv[1], delimiter=",", names=True)
mass, k = float(sys.argv[2]), float(sys.argv[3])
t, x, y, b, g, n = data["t"], data["x"], data["y"], k / mass, 9.81, 41
grid, s = np.linspace(0, t[-1], n), np.linspace(0, t[-1], 4001)
hats = np.array([np.interp(s, grid, e) for e in np.eye(n)])                 # (n, 4001)
kernel = np.clip(1 - np.exp(-b * (t[:, None] - s)), 0, None)                # 0 for s > t
weights = s[1] * np.r_[0.5, np.ones(s.size - 2), 0.5]                  # trapezoid
relax = (1 - np.exp(-b * t)) / b
X = np.column_stack([(kernel * weights) @ hats.T, relax])                  # columns: w, u_x
D = np.column_stack([np.diff(np.eye(n), axis=0), np.zeros(n - 1)])         # u_x not penalised


def solve(lam):
    z = lstsq(np.vstack([X, np.sqrt(lam) * D]), np.r_[x, np.zeros(n - 1)])[0]
    df = np.trace(X @ np.linalg.solve(X.T @ X + lam * D.T @ D, X.T))
    return z, np.sum((X @ z - x) ** 2) / (t.size - df) ** 2


lam = min(10.0 ** np.arange(-8, 2.01, 0.25), key=lambda lam: solve(lam)[1])
z = solve(lam)[0]
uy = lstsq(relax[:, None], y + g * (t - relax) / b)[0][0]
residual = np.r_[X @ z - x, uy * relax - g * (t - relax) / b - y]
error = ""
if "wind" in data.dtype.names:
    truth = np.interp(grid, t, data["wind"])
    error = f"; relative error {np.linalg.norm(z[:n] - truth) / np.linalg.norm(truth):.3g}"
print(f"tikhonov: λ = {lam:.3g}; residual RMS {np.sqrt(np.mean(residual ** 2)):.3g} m{error}")
print(f"launch: {np.hypot(z[n], uy):.5g} m/s at {np.degrees(np.arctan2(uy, z[n])):.4g}° (fitted)")
