"""Shared data of the UDE speed benchmark (ude_torchdiffeq.py, ude_speed.py): numpy + scipy only.

20 baseball tracks × 30 points on one time grid t = linspace(0, 1, 30) s, all launched from
(0, 0) with v ~ U[10, 45] m/s and θ ~ U[5°, 60°]; exact positions of m dv/dt = −m g ŷ − c|v|v
(m = 0.145 kg, c = 9e-4 kg/m, g = 9.80665 m/s²) by DOP853 at rtol = atol = 1e-12 (no ground:
the motion simply continues below y = 0), plus N(0, σ²) noise, σ = 5 cm, on x and y. One
``numpy.random.default_rng(seed)`` draws, in this order, the speeds, the angles and the noise.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

M = 0.145  # kg
C = 9e-4  # kg/m
G = 9.80665  # m/s²
SIGMA = 0.05  # m
SPEED_SCALE = 45.0  # m/s, the network's unit of speed
TRACKS, POINTS, DURATION = 20, 30, 1.0


def _rhs(t, s):
    v = s[2:]
    a = -C / M * np.hypot(v[0], v[1]) * v
    return np.array([v[0], v[1], a[0], a[1] - G])


def make_data(seed: int = 0) -> dict:
    """{t (30,), s0 (20, 4), clean (20, 30, 2), noisy (20, 30, 2), floor, M, C, G, SIGMA,
    SPEED_SCALE}; ``floor`` is the mean squared error of ``clean`` against ``noisy`` (m², per
    coordinate), the training MSE that a perfect model reaches."""
    rng = np.random.default_rng(seed)
    speed = rng.uniform(10.0, 45.0, TRACKS)
    angle = np.deg2rad(rng.uniform(5.0, 60.0, TRACKS))
    t = np.linspace(0.0, DURATION, POINTS)
    s0 = np.stack([np.zeros(TRACKS), np.zeros(TRACKS), speed * np.cos(angle), speed * np.sin(angle)], axis=1)
    clean = np.stack([
        solve_ivp(_rhs, (t[0], t[-1]), start, method="DOP853", t_eval=t, rtol=1e-12, atol=1e-12).y[:2].T
        for start in s0])
    noisy = clean + SIGMA * rng.standard_normal(clean.shape)
    return {"t": t, "s0": s0, "clean": clean, "noisy": noisy, "floor": float(np.mean((clean - noisy) ** 2)),
            "M": M, "C": C, "G": G, "SIGMA": SIGMA, "SPEED_SCALE": SPEED_SCALE}


def true_force(speed):
    """The true drag force c·v² (N) at ``speed`` (m/s)."""
    return C * np.asarray(speed, dtype=np.float64) ** 2


#: Speeds (m/s) at which both scripts report learned / true drag force.
RATIO_SPEEDS = (10.0, 20.0, 30.0, 40.0)


def first_at_floor(mse, floor, times):
    """(epochs, seconds) to the first epoch (1-based) whose training MSE ≤ 1.1·floor, with
    ``times[k]`` the wall time from the start of epoch 1 to the end of epoch k+1; (None, None)
    if never."""
    for k, value in enumerate(mse):
        if value <= 1.1 * floor:
            return k + 1, float(times[k])
    return None, None


def significant(values, digits: int = 5):
    """``values`` rounded to ``digits`` significant digits, as a list of floats."""
    return [float(f"{v:.{digits}g}") for v in values]
