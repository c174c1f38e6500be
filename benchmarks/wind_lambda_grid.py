"""Does a finer λ grid, or another GCV-like rule, lift TV's and the learned regulariser's share
within 1.5× of the best λ (issue 30 §3)? The tuning draw of ``wind_lambda.py`` (the same gusts,
balls, noise and learned regulariser, seeds ``[8, i]``), its paths solved on 16 λ per decade
(Tikhonov with B = ∇ as well), rows saved; then, offline, each rule on the grid thinned to 4, 8
and 16 per decade, each against the best λ in hindsight of its own grid:

- modified GCV, ‖r‖² / (dof − c·df)², for several c;
- SURE, ‖r‖² + 2c σ̂² df (σ̂ estimated from the heights, as the library's);
- for TV, modified GCV on the pieces made monotone in λ and its log smoothed over w neighbours;
- the discrepancy matched to Tikhonov's: the largest λ whose residual is at most s times the
  residual of Tikhonov (B = ∇) at its modified-GCV λ.

Usage: python benchmarks/wind_lambda_grid.py --gusts 60 [--start I] --rows FILE
       python benchmarks/wind_lambda_grid.py --report FILE...
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

from hybridlab.experiments.gust import FINER, forward_maps, learned_for
from hybridlab.inverse.regularisation import least_squares, regularisation_path
from hybridlab.inverse.wind import wind_problem
from hybridlab.physics import LinearDrag, Projectile
from wind_lambda import NOISES, POINTS, SAMPLES, draw, gust, keep, read, rms

PER_DECADE = 16
METHODS = ("tv", "learned", "tikhonov")


def weights(method: str, pa: np.ndarray, sigma: float) -> np.ndarray:
    """The library's ranges of λ (``weights_of``), at ``PER_DECADE`` per decade."""
    step = -1.0 / PER_DECADE
    if method == "learned":
        return sigma**2 * 10.0 ** np.arange(3.0, -3.001, step)
    return np.linalg.norm(pa, 2) ** 2 * 10.0 ** np.arange(0.0, -6.001 if method == "tv" else -9.001, step)


def case(index: int) -> list[dict]:
    """Gust ``index`` of the tuning draw at its three noise levels: each method's errors, residuals and
    degrees of freedom along the fine path."""
    rng = np.random.default_rng([8, index])
    spec = draw(rng, index)
    ball = Projectile(LinearDrag(k=spec["k"]), mass=spec["mass"], g=9.81)
    flight, reach = float(ball.flight_time(spec["speed"], spec["angle"])), float(ball.range(spec["speed"], spec["angle"]))
    t = np.linspace(flight / POINTS, flight, POINTS)
    maps, fine = forward_maps(ball, t, SAMPLES)
    wind = gust(spec["kind"], np.linspace(0.0, t[-1], fine.shape[1]), rng)
    velocity = spec["speed"] * np.array([np.cos(spec["angle"]), np.sin(spec["angle"])])
    clean = fine @ wind + maps[1] @ velocity + maps[2]
    noise = rng.standard_normal((len(NOISES), clean.size))
    problems = [wind_problem(ball, t, (clean + share * reach * z).reshape(2, -1).T, SAMPLES, maps=maps)
                for share, z in zip(NOISES, noise)]
    learned = learned_for(problems[1], fine, index)
    rows = []
    for share, problem in zip(NOISES, problems):
        pa, pd = problem.projected()
        row = {"index": index, "kind": spec["kind"], "noise": share, "sigma": problem.sigma, "dof": problem.dof,
               "ls": float(rms(least_squares(pa, pd), wind[::FINER])[0]), "methods": {}}
        for method in METHODS:
            path = regularisation_path(pa, pd, method, weights(method, pa, problem.sigma), learned, problem.sigma)
            row["methods"][method] = {"errors": rms(path.winds, wind[::FINER]).tolist(),
                                      "residuals": path.residuals.tolist(), "df": path.dof_used.tolist()}
        rows.append(row)
    return rows


def _gcv(row, entry, c, every):
    residuals, df = np.asarray(entry["residuals"])[::every], np.asarray(entry["df"])[::every]
    return residuals**2 / np.maximum(row["dof"] - c * df, 1.0) ** 2


def rules() -> dict:
    """Name → (row, method, every) → index on the grid thinned by ``every``."""
    def modified(c):
        return lambda row, method, every: int(np.argmin(_gcv(row, row["methods"][method], c, every)))

    def sure(c):
        def pick(row, method, every):
            entry = row["methods"][method]
            residuals, df = np.asarray(entry["residuals"])[::every], np.asarray(entry["df"])[::every]
            return int(np.argmin(residuals**2 + 2 * c * row["sigma"] ** 2 * df))
        return pick

    def smoothed(c, width):
        def pick(row, method, every):
            entry = dict(row["methods"][method], df=np.maximum.accumulate(row["methods"][method]["df"]).tolist())
            score = np.log(_gcv(row, entry, c, every))
            return int(np.argmin(np.convolve(np.pad(score, width // 2, mode="edge"), np.ones(width) / width, "valid")))
        return pick

    def matched(slack):
        def pick(row, method, every):
            tikhonov = row["methods"]["tikhonov"]
            target = slack * tikhonov["residuals"][int(np.argmin(_gcv(row, tikhonov, 2.0, 1)))]
            within = np.flatnonzero(np.asarray(row["methods"][method]["residuals"])[::every] <= target)
            return int(within[0]) if within.size else len(row["methods"][method]["residuals"][::every]) - 1
        return pick

    table = {f"modified GCV c={c:g}": modified(c) for c in (1.0, 1.4, 2.0, 2.5, 3.0)}
    table |= {f"SURE c={c:g}": sure(c) for c in (1.0, 1.5, 2.0, 3.0)}
    table |= {f"smoothed GCV c={c:g} w={w}": smoothed(c, w) for c in (2.0, 2.5) for w in (3, 5)}
    table |= {f"Tikhonov's residual ×{s:g}": matched(s) for s in (1.0, 1.02, 1.05)}
    return table


def report(rows) -> None:
    print(f"{len(rows)} cases of the tuning draw; share within 1.5× of the best λ of the same grid "
          "(λ per decade: 4 / 8 / 16)")
    for method in ("tv", "learned"):
        print(f"\n{method}")
        for name, pick in rules().items():
            if name.startswith("smoothed") and method != "tv":
                continue
            shares = []
            for every in (4, 2, 1):
                ratios = [np.asarray(r["methods"][method]["errors"])[::every][pick(r, method, every)]
                          / min(r["methods"][method]["errors"][::every]) for r in rows]
                shares.append(np.mean(np.asarray(ratios) <= 1.5))
            print(f"  {name:30s} " + " / ".join(f"{s:6.1%}" for s in shares))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gusts", type=int, default=60)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--rows", default=None, help="append each case's row to this JSON-lines file")
    parser.add_argument("--report", nargs="*", default=None, help="only the table, from these rows")
    args = parser.parse_args()
    if args.report is not None:
        report(read(args.report))
        return
    jax.config.update("jax_enable_x64", True)
    rows = []
    for index in range(args.start, args.gusts):
        clock = time.perf_counter()
        found = case(index)
        rows += found
        keep(found, args.rows, index)
        print(f"gust {index} ({found[0]['kind']}) in {time.perf_counter() - clock:.0f} s", flush=True)
    report(rows)


if __name__ == "__main__":
    main()
