"""Issue 30 §1: ``auto`` chooses the drag law by nested F-tests. Checked against an independent
reference: every candidate law fitted by SciPy (``least_squares`` through ``solve_ivp``, its
own Jacobian by finite differences), its F-test against the fullest candidate computed here."""

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import scipy.stats

from hybridlab.data import Tracks
from hybridlab.dynamics.learning import LAWS, LEVEL, choose_law, nested_tests

G = 9.80665
MASS = 0.5


def _fall(h0, v0, k, c, t):
    """Heights (m) at times t of a vertical fall under m dv/dt = −m g − k v − c |v| v."""
    solution = scipy.integrate.solve_ivp(lambda _, s: [s[1], -G - (k * s[1] + c * abs(s[1]) * s[1]) / MASS],
                                         (t[0], t[-1]), [h0, v0], t_eval=t, rtol=1e-11, atol=1e-11, method="DOP853")
    return solution.y[0]


def _drops(k, c, noise, seed=0, points=25):
    """Three drops of 2.5 s from rest, heights 40, 50 and 60 m, Gaussian noise ``noise`` m."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 2.5, points)
    heights = np.concatenate([_fall(h, 0.0, k, c, t) for h in (40.0, 50.0, 60.0)])
    return Tracks("drop", ("a", "b", "c"), np.repeat(np.arange(3), points), np.tile(t, 3),
                  (heights + noise * rng.standard_normal(heights.size))[:, None])


def _scipy_rss(tracks, law):
    """The least residual sum of squares of ``law`` (g known) with every drop's h₀ and v₀ free."""
    names = LAWS[law]

    def residuals(x):
        coefficients = dict(zip(names, np.abs(x[:len(names)])))
        out = []
        for i in range(len(tracks.names)):
            rows = tracks.track == i
            h0, v0 = x[len(names) + 2 * i: len(names) + 2 * i + 2]
            out.append(_fall(h0, v0, coefficients.get("k", 0.0), coefficients.get("c", 0.0), tracks.t[rows])
                       - tracks.position[rows, 0])
        return np.concatenate(out)

    starts = [x for i in range(3) for x in (tracks.position[tracks.track == i][0, 0], 0.0)]
    best = np.inf
    for guess in ({"k": 0.05, "c": 0.005}, {"k": 1e-4, "c": 0.005}, {"k": 0.05, "c": 1e-5}):
        found = scipy.optimize.least_squares(residuals, [guess[n] for n in names] + starts, method="lm",
                                             xtol=1e-12, ftol=1e-12)
        best = min(best, float(np.sum(found.fun**2)))
    return best


@pytest.mark.parametrize("k, c, truth", [(0.0, 0.0, "none"), (0.0, 0.004, "quadratic"), (0.08, 0.0, "linear"),
                                         (0.06, 0.004, "linear+quadratic")])
def test_auto_chooses_the_law_scipys_nested_f_tests_choose(k, c, truth):
    tracks = _drops(k, c, noise=0.01)
    tests = nested_tests(tracks, MASS, G, [(law, False) for law in LAWS])
    rss = {law: _scipy_rss(tracks, law) for law in LAWS}
    n, q_full = tracks.t.size, 2 + 6
    variance = min(rss.values()) / (n - q_full)
    expected = {law: 1.0 if law == "linear+quadratic" else
                scipy.stats.f.sf((rss[law] - min(rss.values())) / ((2 - len(LAWS[law])) * variance),
                                 2 - len(LAWS[law]), n - q_full) for law in LAWS}
    for law in LAWS:  # p-values far below the level are compared on a log scale
        assert tests[law, False] == pytest.approx(expected[law], rel=1e-3, abs=1e-12), law
    adequate = [law for law in LAWS if expected[law] >= LEVEL]
    reference = min(adequate, key=lambda law: (len(LAWS[law]), -expected[law]))
    (law, fit_g), rules, _ = choose_law(tracks, MASS, G, fit_g=False)
    assert (law, fit_g) == (reference, False) == (truth, False)
    assert rules == {"law": rules["law"], "g": "given"} and "F-test" in rules["law"]
