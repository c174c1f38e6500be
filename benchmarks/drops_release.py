"""The real drops with a fitted release time (issue 11 §4, an experiment beside `hybridlab drops`).

The recordings start before the ball is let go: it is held, at rest, for the first few frames.
`hybridlab drops` starts every fit at the first recorded point with a free velocity, which
absorbs the hold as an upward start. Here the model is the physical one instead: the ball rests
at h₀ until a release time t_r, then falls from rest,

    h(t) = h₀ (t ≤ t_r);   ḧ = −g − (k/m) ḣ + (c/m) ḣ²  from (h₀, 0) at t_r,

with h₀, t_r and the law's parameters (and g, or g = 9.80665 m/s² fixed) fitted per ball on
t ≤ 2 s by SciPy (`least_squares`, trust-region reflective; `solve_ivp` DOP853 at 1e-10), then
the height predicted for t > 2 s. Every drag coefficient is per kilogram (k/m, c/m): the motion
depends on nothing else. The laws and the selection rule are those `auto` had when this was
written (hybridlab.dynamics.learning now chooses by nested F-tests): four laws × g fixed or
fitted, time-series CV on folds at 50, 62.5 and 75 % of t ≤ 2 s, the geometric mean of the
forecast MSEs, the fewest parameters within 5 % of the best.
Independent of hybridlab's solver (SciPy only; hybridlab only loads the shipped data).

Usage: python benchmarks/drops_release.py
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import least_squares

from hybridlab.data import benchmark_split, load_drops

G = 9.80665
#: Law → (fitted coefficients, number of parameters beyond h₀ and t_r).
LAWS = {"none": (), "linear": ("k",), "quadratic": ("c",), "linear+quadratic": ("k", "c")}
FOLDS = (0.5, 0.625, 0.75)
PARSIMONY = 0.05


def heights(p, t, law, fit_g):
    """Heights (m) at times ``t`` of the release model with parameters p = (h₀, t_r[, g], coefficients)."""
    h0, release, rest = p[0], p[1], list(p[2:])
    g = rest.pop(0) if fit_g else G
    coefficient = dict(zip(LAWS[law], rest))
    k, c = coefficient.get("k", 0.0), coefficient.get("c", 0.0)
    tau = np.maximum(t - release, 0.0)
    solution = solve_ivp(lambda s, y: [y[1], -g - k * y[1] + c * y[1] ** 2], (0.0, tau.max() + 1e-9), [h0, 0.0],
                         method="DOP853", t_eval=np.unique(tau), rtol=1e-10, atol=1e-10)
    return np.interp(tau, solution.t, solution.y[0])


def fit(t, h, law, fit_g):
    """Least-squares parameters of the release model on (t, h); coefficients and g ≥ 0."""
    start = [h[:5].max(), 0.1] + [G] * fit_g + [{"k": 0.1, "c": 0.005}[n] for n in LAWS[law]]
    lower = [-np.inf, -1.0] + [0.0] * (len(start) - 2)
    return least_squares(lambda p: heights(p, t, law, fit_g) - h, start, bounds=(lower, np.inf), x_scale="jac").x


def mse(p, t, h, law, fit_g):
    return float(np.mean((heights(p, t, law, fit_g) - h) ** 2))


def cv_score(t, h, law, fit_g):
    """Geometric mean of the forecast MSEs over the folds (fit up to a fraction of the span, score after)."""
    scores = []
    for fraction in FOLDS:
        early = t <= t[0] + fraction * (t[-1] - t[0])
        scores.append(mse(fit(t[early], h[early], law, fit_g), t[~early], h[~early], law, fit_g))
    return float(np.exp(np.mean(np.log(scores))))


def main() -> None:
    drops, _ = load_drops()
    candidates = [(law, fit_g) for law in LAWS for fit_g in (False, True)]
    table, chosen = {}, []
    for ball, (train, test) in benchmark_split(drops).items():
        t, h, t_test, h_test = train.t, train.position[:, 0], test.t, test.position[:, 0]
        fits = {c: fit(t, h, *c) for c in candidates}
        table[ball] = {c: mse(fits[c], t_test, h_test, *c) for c in candidates}
        scores = {c: cv_score(t, h, *c) for c in candidates}
        near = [c for c in candidates if scores[c] <= (1 + PARSIMONY) * min(scores.values())]
        pick = min(near, key=lambda c: (len(LAWS[c[0]]) + c[1], scores[c]))
        chosen.append(table[ball][pick])
        release = fits[pick][1]
        print(f"{ball:20s} auto: {pick[0]}{', g fitted' if pick[1] else ''}; release t_r = {release:.3f} s; "
              f"test MSE {table[ball][pick]:.3g} m²")
    print("\nmedian test MSE (m²) over the nine balls, per candidate:")
    for c in candidates:
        print(f"  {c[0]:17s} g {'fitted' if c[1] else 'fixed '}  {np.median([row[c] for row in table.values()]):.3f}")
    print(f"  auto (CV on t <= 2 s)      {np.median(chosen):.3f}")


if __name__ == "__main__":
    main()
