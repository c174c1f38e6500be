"""Range throughput and accuracy: hybridlab against the lecture's loop, NumPy and SciPy.

    python benchmarks/range_throughput.py [--quick]

Linear drag (the lecture's shot put, m = 7.26 kg, k = 1.8 kg/s, from the ground), on the
lecture's 100 × 100 grid v, θ ∈ [5, 85] and on 10⁶ random shots:
  (a) the lecture's per-point loop: SciPy Newton on the closed-form y(x) from x0 = 20
      (run on every grid point and on 2000 of the 10⁶ shots; its rate is that of the fastest
      chunk of ~200 points, its wrong points are counted on every point it ran on);
  (b) SciPy's vectorised Lambert W in NumPy;
  (c) hybridlab, jitted, after warm-up.
(b) and (c) run on the full arrays, best of ≥ 5 repeats and ≥ 1 s.
Errors are against mpmath (Lambert W at 50 digits): on every grid point and on a random subset
of the 10⁶ shots. Quadratic drag (a baseball, m = 0.145 kg, c = 9e-4 kg/m): hybridlab against
scipy.integrate.solve_ivp (DOP853, rtol 1e-10, terminal event) per shot, both checked against
DOP853 at rtol 1e-13 on 200 shots. All ratios are from the same run. --quick: small sizes.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import jax
import mpmath as mp
import numpy as np
import scipy
from scipy.integrate import solve_ivp
from scipy.optimize import root_scalar
from scipy.special import lambertw

import hybridlab as hl
from hybridlab.experiments.jobs import select_device

M, K, G = 7.26, 1.8, 9.81
BALL_M, BALL_C = 0.145, 9e-4
WRONG = 1e-6


def best_time(f, repeats=5, min_total=1.0):
    """Best wall time of f() (which must block until its result is ready) over at least `repeats`
    calls and at least `min_total` seconds of calls."""
    times = []
    while len(times) < repeats or sum(times) < min_total:
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def best_rate(compute, indices, chunks):
    """compute(indices) over `chunks` slices of indices: (best points per second, all values).

    Per-point methods are timed chunk by chunk and the fastest chunk counts, as the vectorised
    methods count their fastest repeat (this damps bursts of other load on the machine)."""
    rates, values = [], []
    for part in np.array_split(np.asarray(indices), chunks):
        start = time.perf_counter()
        values.append(compute(part))
        rates.append(len(part) / (time.perf_counter() - start))
    return max(rates), np.concatenate(values)


def lecture_newton(v, theta):
    """The lecture's per-point range: Newton on y(x) = 0 from x0 = 20 (NaN when it fails)."""
    tau = M / K
    vt, vx = G * tau, v * np.cos(theta)
    slope = np.tan(theta) + vt / vx

    def y(x):
        return slope * x + vt * tau * np.log(1 - x / (vx * tau))

    def dy(x):
        return slope - vt * tau / (vx * tau - x)

    try:
        solution = root_scalar(y, x0=20.0, fprime=dy, method="newton")
    except (RuntimeError, ValueError, ZeroDivisionError, OverflowError):
        return np.nan
    return solution.root if solution.converged else np.nan


def lecture_loop(v, theta, indices):
    """The lecture's loop over the given points (warnings from log of negatives silenced once)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return np.array([lecture_newton(v[i], theta[i]) for i in indices])


def numpy_lambertw(v, theta):
    """Range by the Lambert-W closed form, vectorised in NumPy."""
    b = K / M
    vt = G / b
    a = 1 + v * np.sin(theta) / vt
    T = (a + lambertw(-a * np.exp(-a), 0).real) / b
    return v * np.cos(theta) * -np.expm1(-b * T) / b


def mpmath_range(v, theta):
    """Range at 50 digits: T = (a + W₀(−a e^{−a}))/b, D = v cos θ (1 − e^{−bT})/b."""
    with mp.workdps(50):
        v, theta = mp.mpf(float(v)), mp.mpf(float(theta))
        b = mp.mpf(K) / mp.mpf(M)
        a = 1 + v * mp.sin(theta) * b / mp.mpf(G)
        T = mp.re(a + mp.lambertw(-a * mp.exp(-a), 0)) / b
        return float(v * mp.cos(theta) * (1 - mp.exp(-b * T)) / b)


def print_table(rows):
    """rows: (method, points timed, points/s, ratio vs loop, ratio vs NumPy, max rel err, wrong)."""
    print(f"{'method':<34}{'points':>11}{'points/s':>14}{'vs loop':>11}{'vs NumPy':>10}{'max rel err':>13}"
          f"{'wrong (>1e-6)':>16}")
    for name, points, rate, vs_loop, vs_numpy, err, wrong in rows:
        print(f"{name:<34}{points:>11,}{rate:>14,.0f}{vs_loop:>10,.0f}×{vs_numpy:>9.3g}×{err:>13.1e}{wrong:>16}")


def errors(values, reference):
    """(largest relative error, number of points off by more than 1e-6; NaN counts as wrong)."""
    rel = np.abs(values / reference - 1)
    rel = np.where(np.isfinite(rel), rel, np.inf)
    return float(rel.max()), int((rel > WRONG).sum())


def linear_case(label, v, theta, loop_subset, reference_subset, rng):
    """Time and check (a), (b), (c) on one set of shots; returns (vs loop, vs NumPy, wrong) for (c)."""
    n = v.size
    ref_idx = np.arange(n) if reference_subset >= n else rng.choice(n, size=reference_subset, replace=False)
    reference = np.array([mpmath_range(v[i], theta[i]) for i in ref_idx])
    m = len(ref_idx)

    # The loop is timed on every reference point when that is affordable (the grid: its wrong
    # points are counted there anyway), shuffled so that every chunk is a fair sample of the
    # grid, else on a random subset checked against its own reference.
    if m <= 10_000:
        order = rng.permutation(m)
        loop_idx, loop_reference = ref_idx[order], reference[order]
    else:
        loop_idx = rng.choice(n, size=min(loop_subset, n), replace=False)
        loop_reference = np.array([mpmath_range(v[i], theta[i]) for i in loop_idx])
    chunks = max(5, len(loop_idx) // 200)
    loop_rate, loop_values = best_rate(lambda part: lecture_loop(v, theta, part), loop_idx, chunks)
    loop_err, loop_wrong = errors(loop_values, loop_reference)
    loop_trivial = int(np.sum(np.abs(loop_values) < 1e-9))
    loop_failed = int(np.sum(np.isnan(loop_values)))

    numpy_rate = n / best_time(lambda: numpy_lambertw(v, theta))
    numpy_err, numpy_wrong = errors(numpy_lambertw(v, theta)[ref_idx], reference)

    p = hl.Projectile(drag=hl.LinearDrag(k=K), mass=M, g=G)
    ranged = jax.jit(lambda s, a: p.range(s, a))
    ranged(v, theta).block_until_ready()
    hl_rate = n / best_time(lambda: ranged(v, theta).block_until_ready())
    hl_values = np.asarray(ranged(v, theta))
    hl_err, hl_wrong = errors(hl_values[ref_idx], reference)
    hl_nonfinite = int(np.sum(~np.isfinite(hl_values)))

    print(f"\nLinear drag, {label}: {n:,} shots; errors vs mpmath (50 digits) on {m:,} of them"
          f"{'' if m == n else ' (random subset)'}")
    print_table([
        ("(a) lecture's per-point Newton", len(loop_idx), loop_rate, 1, loop_rate / numpy_rate,
         loop_err, f"{loop_wrong:,}/{len(loop_values):,}"),
        ("(b) SciPy lambertw, NumPy", n, numpy_rate, numpy_rate / loop_rate, 1, numpy_err, f"{numpy_wrong:,}/{m:,}"),
        ("(c) hybridlab, jit", n, hl_rate, hl_rate / loop_rate, hl_rate / numpy_rate, hl_err, f"{hl_wrong:,}/{m:,}"),
    ])
    print(f"  (a) run on {len(loop_idx):,}{' random' if len(loop_idx) < n else ''} points, rate from the fastest of"
          f" {chunks} chunks; of its wrong points {loop_trivial:,} are the trivial root x = 0 and"
          f" {loop_failed:,} did not converge (NaN: error inf)."
          f"\n  (c) non-finite values among all {n:,}: {hl_nonfinite}.")
    # Wrong points for the target: wrong reference points, plus non-finite values off the reference set.
    unchecked_nonfinite = hl_nonfinite - int(np.sum(~np.isfinite(hl_values[ref_idx])))
    return hl_rate / loop_rate, hl_rate / numpy_rate, hl_wrong + unchecked_nonfinite


def ivp_range(v, theta, rtol, atol):
    """Range under quadratic drag by solve_ivp (DOP853) with a terminal ground event."""
    k = BALL_C / BALL_M

    def rhs(t, s):
        speed = np.hypot(s[2], s[3])
        return [s[2], s[3], -k * speed * s[2], -G - k * speed * s[3]]

    def ground(t, s):
        return s[1]

    ground.terminal, ground.direction = True, -1
    state = [0.0, 0.0, v * np.cos(theta), v * np.sin(theta)]
    solution = solve_ivp(rhs, (0, 100), state, method="DOP853", rtol=rtol, atol=atol, events=ground)
    landed = solution.y_events[0]
    return landed[0][0] if len(landed) else np.nan


def quadratic_case(n, n_ivp, rng):
    """hybridlab (jit, all n shots) against solve_ivp per shot (first n_ivp); returns the ratio."""
    v = rng.uniform(10, 45, n)
    theta = np.deg2rad(rng.uniform(5, 60, n))
    p = hl.Projectile(drag=hl.QuadraticDrag(c=BALL_C), mass=BALL_M, g=G)
    ranged = jax.jit(lambda s, a: p.range(s, a))
    ranged(v, theta).block_until_ready()
    hl_rate = n / best_time(lambda: ranged(v, theta).block_until_ready())
    hl_all = np.asarray(ranged(v, theta))

    chunks = max(5, n_ivp // 20)
    ivp_rate, ivp_values = best_rate(
        lambda part: np.array([ivp_range(v[i], theta[i], 1e-10, 1e-12) for i in part]), np.arange(n_ivp), chunks)
    reference = np.array([ivp_range(v[i], theta[i], 1e-13, 1e-14) for i in range(n_ivp)])

    print(f"\nQuadratic drag (baseball, c = {BALL_C} kg/m, m = {BALL_M} kg, v in [10, 45] m/s, θ in [5°, 60°]):"
          f" errors vs DOP853 at rtol 1e-13, atol 1e-14 on the first {n_ivp} shots")
    print(f"{'method':<34}{'shots':>11}{'shots/s':>14}{'vs ivp':>11}{'max rel err':>13}")
    for name, shots, rate, values in [
        ("(d) solve_ivp DOP853 rtol 1e-10", n_ivp, ivp_rate, ivp_values),
        ("(e) hybridlab, jit", n, hl_rate, hl_all[:n_ivp]),
    ]:
        print(f"{name:<34}{shots:>11,}{rate:>14,.0f}{rate / ivp_rate:>10,.0f}×{errors(values, reference)[0]:>13.1e}")
    print(f"  (d) rate from the fastest of {chunks} chunks; (e) non-finite values among all {n:,}:"
          f" {int(np.sum(~np.isfinite(hl_all)))}.")
    return hl_rate / ivp_rate


def verdict(ok):
    return "PASS" if ok else "MISS"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--device", choices=("cpu", "gpu"), default=None, help="where JAX computes (default: JAX's choice)")
    args = parser.parse_args()
    quick, device = args.quick, select_device(args.device)
    rng = np.random.default_rng(0)
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()};"
          f" jax {jax.__version__} on {device}, scipy {scipy.__version__}, numpy {np.__version__},"
          f" mpmath {mp.__version__}{' (--quick: reduced sizes)' if quick else ''}")

    axis = np.linspace(5, 85, 30 if quick else 100)
    grid_v, grid_a = (a.ravel() for a in np.meshgrid(axis, np.deg2rad(axis), indexing="ij"))
    grid = linear_case("the lecture's grid", grid_v, grid_a, 200 if quick else 500, grid_v.size, rng)

    n = 10_000 if quick else 1_000_000
    rand_v, rand_a = rng.uniform(5, 85, n), np.deg2rad(rng.uniform(5, 85, n))
    rand = linear_case("random shots", rand_v, rand_a, 200 if quick else 2000, 1000 if quick else 20_000, rng)

    quad = quadratic_case(1000 if quick else 10_000, 20 if quick else 200, rng)

    print("\nTargets (all ratios from this run)")
    for label, (vs_loop, vs_numpy, wrong) in (("grid", grid), ("random", rand)):
        label = f"linear, {label}:"
        print(f"  {label:<16}{vs_loop:>9,.1f}× the per-point loop (≥ 5000×)  {verdict(vs_loop >= 5000)}")
        print(f"  {label:<16}{vs_numpy:>9.2f}× vectorised NumPy (≥ 1×)        {verdict(vs_numpy >= 1)}")
        print(f"  {label:<16}{wrong:>9,} wrong points (0)                 {verdict(wrong == 0)}")
    print(f"  {'quadratic:':<16}{quad:>9,.1f}× solve_ivp per shot (≥ 100×)  {verdict(quad >= 100)}")


if __name__ == "__main__":
    main()
