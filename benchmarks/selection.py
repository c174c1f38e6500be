"""The selection benchmark (issue 30 §1): does the drag law chosen from tracks hold on problems
nobody tuned it on? ``learn-drag --method auto`` (nested F-tests), the UDE read back as a law
(``--method ude``, on every ``--ude-every``-th problem: each trains a network), and PySINDy
(the field's anchor: STLSQ on smoothed derivatives), on the same random problems.

The family, declared before any result was looked at (problem i from
``numpy.random.default_rng([2026, i])``; PySINDy's threshold tuned once on problems from
``default_rng([7, i])``, a separate draw):

- law: none, linear, quadratic or linear+quadratic (every law ``learn-drag`` names), uniform;
- a 2-D shot from the ground (launch speed v_ref log-uniform 5–50 m/s, each track's speed
  v_ref·U(0.8, 1.2), angle U(15°, 75°), observed from launch to landing) or a vertical drop
  from rest (observed for U(1.5, 4) s; v_ref = g times that), half each;
- mass log-uniform 0.05–10 kg; the terminal speed v_t log-uniform 0.3–30 × v_ref; linear
  k = m g/v_t, quadratic c = m g/v_t², linear+quadratic the weight at v_t shared,
  k v_t = f m g and c v_t² = (1 − f) m g, f ~ U(0.2, 0.8);
- 3–30 tracks of 8–60 points (uniform integers), evenly spaced in time;
- Gaussian noise on every coordinate, σ log-uniform 0.2–5 % of the largest extent of a track;
- g unknown in 30 % (the truth g = 9.80665·(1 + U(−0.03, 0.03)), and the methods are not
  told it: auto chooses whether to fit it, the UDE's refit keeps it where significant,
  PySINDy has a constant term); else g = 9.80665 is given (``--known-g``).

Identifiable (declared before the results): the truth's drag moves the noise-free tracks by
more than 5σ from the best fit of every strictly simpler law (each subset of the truth's
terms, down to none: ‖r‖/σ > 5 over all coordinates, g fitted there where it is unknown);
the truth "none" is identifiable. Scored: on identifiable problems the true law chosen; on
the rest, no term outside the truth's ("no extra terms"). The 95 % interval of a coefficient
(value ± 1.96 standard errors) is scored where the true law (with drag) was chosen on an
identifiable problem.

Usage: python benchmarks/selection.py [--problems 200] [--quick] [--ude-every 10]
       [--sindy THRESHOLD,ALPHA] [--start I --rows FILE]   (a share of the draw, as JSON lines)
       python benchmarks/selection.py --report FILE...     (the tables from those rows)
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections import Counter

import jax
import numpy as np

from hybridlab.data import Tracks
from hybridlab.dynamics.learning import LAWS, law_fit, learn_drag
from hybridlab.physics import Projectile

G = 9.80665
SINDY_GRID = [(threshold, 1e-5) for threshold in (0.1, 0.3, 0.5, 0.7, 0.9, 1.2, 1.6, 2.5)]


def draw(rng) -> dict:
    """One problem of the declared family: the truth and its noisy tracks."""
    law = str(rng.choice(list(LAWS)))
    kind = "shot" if rng.random() < 0.5 else "drop"
    mass = float(np.exp(rng.uniform(np.log(0.05), np.log(10.0))))
    g_unknown = bool(rng.random() < 0.3)
    g = G * (1 + rng.uniform(-0.03, 0.03)) if g_unknown else G
    n_tracks, points = int(rng.integers(3, 31)), int(rng.integers(8, 61))
    share = float(np.exp(rng.uniform(np.log(0.002), np.log(0.05))))
    ratio = float(np.exp(rng.uniform(np.log(0.3), np.log(30.0))))
    if kind == "shot":
        v_ref = float(np.exp(rng.uniform(np.log(5.0), np.log(50.0))))
        speeds = v_ref * rng.uniform(0.8, 1.2, n_tracks)
        angles = np.deg2rad(rng.uniform(15.0, 75.0, n_tracks))
    else:
        duration = float(rng.uniform(1.5, 4.0))
        v_ref = g * duration
    terminal = ratio * v_ref
    f = rng.uniform(0.2, 0.8)
    truth = {"none": {}, "linear": {"k": mass * g / terminal}, "quadratic": {"c": mass * g / terminal**2},
             "linear+quadratic": {"k": f * mass * g / terminal, "c": (1 - f) * mass * g / terminal**2}}[law]
    p = Projectile.from_spec({"drag": {"law": "polynomial", **truth}, "mass": mass, "g": g,
                              "height": 0.0 if kind == "shot" else 1e4})
    if kind == "shot":
        times = np.asarray(p.flight_time(speeds, angles))[:, None] * np.linspace(0, 1, points)
        clean = np.stack([np.asarray(p.positions(v, a, t)) for v, a, t in zip(speeds, angles, times)])
    else:
        times = np.tile(np.linspace(0.0, duration, points), (n_tracks, 1))
        y = np.asarray(p.positions(0.0, -np.pi / 2, times[0]))[:, 1]
        # Every drop the same fall, ending 1 m above the ground (the air does not vary with height).
        clean = np.tile((y - y[-1] + 1.0)[None, :, None], (n_tracks, 1, 1))
    size = float(np.max(np.ptp(clean, axis=1)))
    noise = share * size
    position = clean + noise * rng.standard_normal(clean.shape)
    dim = clean.shape[-1]
    names = tuple(str(i) for i in range(n_tracks))
    track = np.repeat(np.arange(n_tracks), points)

    def make(pos):
        return Tracks(kind, names, track, times.reshape(-1), pos.reshape(-1, dim))

    return {"law": law, "truth": truth, "kind": kind, "mass": mass, "g": g, "g_unknown": g_unknown,
            "tracks": make(position), "clean": make(clean), "noise": noise, "ratio": ratio,
            "n_tracks": n_tracks, "points": points}


def identifiable(problem) -> bool:
    """The declared rule: every strictly simpler law misses the noise-free tracks by > 5σ."""
    terms = LAWS[problem["law"]]
    simpler = [law for law, kept in LAWS.items() if set(kept) < set(terms)]
    clean = problem["clean"]
    for law in simpler:
        fit = law_fit(law, problem["mass"], problem["g"] if not problem["g_unknown"] else G, problem["g_unknown"],
                      clean).fit(clean)
        miss = np.sqrt(np.sum((fit.predict(clean) - clean.position) ** 2)) / problem["noise"]
        if miss <= 5:
            return False
    return True


def auto(problem) -> tuple[str, dict]:
    """(law, {coefficient: (value, stderr)}) chosen by ``learn-drag --method auto``."""
    fit_g = None if problem["g_unknown"] else False
    found = learn_drag(problem["tracks"], problem["mass"], method="auto", fit_g=fit_g, g=G)
    estimates = found.parameters()
    return found.law, {name: (estimates[name]["value"], estimates[name]["stderr"]) for name in LAWS[found.law]}


def ude(problem) -> tuple[str, dict]:
    """(law, coefficients) read back from a UDE (``learn-drag --method ude``, 1500 epochs)."""
    fit_g = None if problem["g_unknown"] else False
    found = learn_drag(problem["tracks"], problem["mass"], method="ude", fit_g=fit_g, g=G)
    words = {"linear": "k", "quadratic": "c"}
    terms = found.law.split("+") if found.law != "none" else []
    law = "+".join(t for t in ("linear", "quadratic") if t in terms) if set(terms) <= set(words) else found.law
    estimates = found.parameters()
    return law or "none", {words[t]: (estimates[words[t]]["value"], estimates[words[t]]["stderr"])
                           for t in terms if t in words}


def sindy(problem, threshold: float, alpha: float) -> str:
    """The law PySINDy's STLSQ reads from smoothed second derivatives of the positions:
    a = −(k/m) v − (c/m)|v| v − g ŷ, every coordinate of every point a row, the columns v and
    |v| v (and −ŷ where g is unknown; else g moves to the target), each scaled to unit RMS."""
    import pysindy as ps

    tracks = problem["tracks"]
    rows, targets = [], []
    for i in range(len(tracks.names)):
        t = tracks.t[tracks.track == i]
        x = tracks.position[tracks.track == i]
        window = min(11, len(t) - (1 - len(t) % 2))
        differentiate = ps.SmoothedFiniteDifference(smoother_kws={"window_length": window, "polyorder": 3})
        v = differentiate(x, t)
        a = differentiate(v, t)
        speed = np.linalg.norm(v, axis=1, keepdims=True)
        up = np.zeros_like(x)
        up[:, -1] = 1.0
        columns = [v.reshape(-1), (speed * v).reshape(-1)]
        if problem["g_unknown"]:
            columns.append(-up.reshape(-1))
            targets.append(a.reshape(-1))
        else:
            targets.append((a + G * up).reshape(-1))
        rows.append(np.stack(columns, axis=1))
    theta, target = np.concatenate(rows), np.concatenate(targets)
    # Every column and the target scaled to unit RMS: the threshold is then the least share of
    # the acceleration a kept term carries, whatever the problem's units.
    theta = theta / np.sqrt(np.mean(theta**2, axis=0))
    target = target / np.sqrt(np.mean(target**2))
    optimizer = ps.STLSQ(threshold=threshold, alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer.fit(theta, target[:, None])
    kept = np.asarray(optimizer.coef_).reshape(-1)[:2] != 0
    return "+".join(name for name, keep in zip(("linear", "quadratic"), kept) if keep) or "none"


def correct(truth: str, chosen: str, known: bool) -> bool:
    """The true law on an identifiable problem; on the rest, no term outside the truth's."""
    if chosen not in LAWS:
        return False
    return chosen == truth if known else set(LAWS[chosen]) <= set(LAWS[truth])


def confusion(rows, key) -> str:
    """A confusion matrix, true law (rows) by chosen law (columns), as Markdown."""
    chosen_names = list(LAWS) + sorted({r[key] for r in rows} - set(LAWS))
    lines = ["| true \\ chosen | " + " | ".join(chosen_names) + " |", "|---" * (len(chosen_names) + 1) + "|"]
    for truth in LAWS:
        counts = Counter(r[key] for r in rows if r["law"] == truth)
        lines.append(f"| {truth} | " + " | ".join(str(counts.get(c, 0)) for c in chosen_names) + " |")
    return "\n".join(lines)


def tune_sindy(n: int) -> tuple[float, float]:
    """The (threshold, alpha) of :data:`SINDY_GRID` with the fewest wrong laws on n tuning problems."""
    problems = [draw(np.random.default_rng([7, i])) for i in range(n)]
    known = [identifiable(p) for p in problems]
    wrong = {}
    for threshold, alpha in SINDY_GRID:
        wrong[threshold, alpha] = sum(not correct(p["law"], sindy(p, threshold, alpha), k)
                                      for p, k in zip(problems, known))
    best = min(wrong, key=wrong.get)
    print(f"PySINDy tuned on {n} problems of a separate draw: wrong laws by (threshold, alpha): "
          + ", ".join(f"{k}: {v}" for k, v in wrong.items()) + f"; kept {best}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="40 problems, the same family")
    parser.add_argument("--ude-every", type=int, default=10, help="the UDE on every n-th problem (0: none)")
    parser.add_argument("--tune", type=int, default=40, help="problems of the separate draw that tune PySINDy")
    parser.add_argument("--sindy", default=None, help="PySINDy's threshold,alpha as tuned before (skips the tuning)")
    parser.add_argument("--start", type=int, default=0, help="the first problem (a share of the draw, with --rows)")
    parser.add_argument("--rows", default=None, help="append each problem's row to this JSON-lines file")
    parser.add_argument("--report", nargs="*", default=None, help="only the tables, from these JSON-lines files")
    args = parser.parse_args()
    if args.report is not None:
        rows = [json.loads(line) for path in args.report for line in open(path)]
        report(sorted(rows, key=lambda r: r["problem"]))
        return
    n = 40 if args.quick else args.problems
    jax.config.update("jax_enable_x64", True)
    threshold, alpha = [float(x) for x in args.sindy.split(",")] if args.sindy else tune_sindy(args.tune)
    rows = []
    for i in range(args.start, n):
        if i % 10 == 0:  # every problem's shapes compile programs of their own: 100 of them filled the memory
            jax.clear_caches()
        row = solve(i, threshold, alpha, args.ude_every)
        rows.append(row)
        if args.rows:
            with open(args.rows, "a") as file:
                file.write(json.dumps(row) + "\n")
    report(rows)


def solve(i: int, threshold: float, alpha: float, ude_every: int) -> dict:
    """Problem i's row: the truth, each method's law, and auto's intervals against the truth."""
    problem = draw(np.random.default_rng([2026, i]))
    known = identifiable(problem)
    clock = time.perf_counter()
    try:
        law, estimates = auto(problem)
    except ValueError as error:
        law, estimates = "failed", {}
        print(f"     auto failed: {str(error).splitlines()[0]}")
    seconds = time.perf_counter() - clock
    row = {"problem": i, "law": problem["law"], "auto": law, "sindy": sindy(problem, threshold, alpha),
           "known": known, "seconds": seconds, "ude": None, "covered": 0, "coefficients": 0}
    if ude_every and i % ude_every == 0:
        clock = time.perf_counter()
        try:
            row["ude"], _ = ude(problem)
        except ValueError as error:  # scored as a wrong law, and said
            row["ude"] = "failed"
            print(f"     ude failed: {str(error).splitlines()[0]}")
        row["ude_seconds"] = time.perf_counter() - clock
    if known and law == problem["law"]:
        for name, truth in problem["truth"].items():
            value, stderr = estimates[name]
            row["coefficients"] += 1
            row["covered"] += int(abs(value - truth) <= 1.96 * stderr)
    print(f"{i:4d} {problem['kind']:5s} {problem['law']:17s} g {'unknown' if problem['g_unknown'] else 'given  '} "
          f"{problem['n_tracks']:2d}x{problem['points']:2d} noise {problem['noise']:.3g} m v_t/v_ref "
          f"{problem['ratio']:6.3g} {'identifiable    ' if known else 'not identifiable'} auto {law:17s} "
          f"sindy {row['sindy']:17s} ude {row['ude'] or '-':17s} {seconds:5.1f} s", flush=True)
    return row


def report(rows) -> None:
    """The tables: confusion matrices, the rates against the targets, coverage, time."""
    known = [r for r in rows if r["known"]]
    rest = [r for r in rows if not r["known"]]
    for key in ("auto", "sindy", "ude"):
        scored = [r for r in rows if r[key] is not None]
        if not scored:
            continue
        right_known = sum(correct(r["law"], r[key], True) for r in scored if r["known"])
        right_rest = sum(correct(r["law"], r[key], False) for r in scored if not r["known"])
        n_known, n_rest = sum(r["known"] for r in scored), sum(not r["known"] for r in scored)
        wrong = len(scored) - right_known - right_rest
        print(f"\n{key}: {len(scored)} problems; true law on {right_known}/{n_known} identifiable "
              f"({right_known / max(n_known, 1):.1%}); no extra terms on {right_rest}/{n_rest} of the rest "
              f"({right_rest / max(n_rest, 1):.1%}); wrong laws {wrong}")
        print(confusion(scored, key))
    covered, coefficients = sum(r["covered"] for r in rows), sum(r["coefficients"] for r in rows)
    print(f"\nidentifiable {len(known)}, not {len(rest)}; auto's 95 % intervals cover the truth for "
          f"{covered}/{coefficients} coefficients ({covered / max(coefficients, 1):.1%})")
    seconds = np.array([r["seconds"] for r in rows])
    print(f"auto: {seconds.mean():.2f} s per problem (median {np.median(seconds):.2f} s, max {seconds.max():.1f} s)")
    ude_seconds = [r["ude_seconds"] for r in rows if "ude_seconds" in r]
    if ude_seconds:
        print(f"ude: {np.mean(ude_seconds):.1f} s per problem over {len(ude_seconds)}")


if __name__ == "__main__":
    main()
