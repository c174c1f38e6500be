"""``hybridlab run --scenario forecast``: given the first part of a track, where will the ball be
next? Simulated baseball tracks (quadratic drag, noise) are observed up to a cut and forecast
after it by every rung, each shown the same data — the training tracks and the observed parts —
and scored against the measured rest: the constant-acceleration baseline, the echo state network
and the LSTM (data only), the neural ODE, the UDE and the grey box of the right law (the
equations of motion). Writes a run directory: metrics.json, tracks.csv (the measured tracks),
forecasts.csv (every rung's forecast and predictive standard deviation), errors.csv (the error
against the horizon), figures and report.html.
"""

from __future__ import annotations

import os
import time

import jax
import numpy as np
from scipy import stats

from hybridlab.data import Tracks, cut_tracks, join_tracks, renamed, simulate_tracks, write_table
from hybridlab.dynamics import UDE, NeuralODE, TrajectoryFit
from hybridlab.files import new_directory, run_directory, write_json
from hybridlab.forecasting import LSTM, EchoStateNetwork, constant_acceleration
from hybridlab.physics import Projectile, QuadraticDrag
from hybridlab.physics.constants import G
from hybridlab.report.forecast import build_forecast_report

#: The simulated shots: a baseball under quadratic drag, launched at 30–50 m/s and 0.3–1.0 rad,
#: observed every STEP s with Gaussian noise of NOISE m on x and y.
BASEBALL = Projectile(QuadraticDrag(c=1.2e-3), mass=0.145, g=G)
SPEEDS, ANGLES, STEP, NOISE = (30.0, 50.0), (0.3, 1.0), 0.1, 0.05
#: Training tracks and test tracks, full and quick.
SIZES = {False: (200, 30), True: (40, 10)}
#: The test tracks' name prefixes: launched like the training tracks, and faster than any of them.
SETS = {"family": "test/", "off": "off/"}
OFF_SPEEDS = (55.0, 70.0)
#: The share of each test track's points observed before the cut.
OBSERVED = 0.35
#: A forecast is inside the noise band while its RMS error is at most BAND·NOISE.
BAND = 2.0
#: The level of the predictive intervals scored.
LEVEL = 0.9


def run_forecast(out: str | None = None, seed: int = 0, quick: bool = False, echo=print) -> dict:
    """Fit and score every rung; write the run directory ``out`` (default ``runs/forecast-<time>``).
    ``quick``: fewer tracks and epochs. Returns the metrics."""
    out = run_directory(out, "forecast")
    train, observed, later = simulated(seed, quick)
    metrics = {"scenario": "forecast", "seed": seed, "quick": quick, "step": STEP, "noise": NOISE, "band": BAND,
               "level": LEVEL, "speeds": list(SPEEDS), "off_speeds": list(OFF_SPEEDS),
               "tracks": {"train": len(train), "test": int(np.sum(np.char.startswith(np.array(observed.names),
                                                                                     SETS["family"]))),
                          "off": int(np.sum(np.char.startswith(np.array(observed.names), SETS["off"])))},
               "rungs": {}}
    forecasts, errors = [], []
    sets = {label: np.char.startswith(np.array(later.names)[later.track], prefix) for label, prefix in SETS.items()}
    sets = {label: rows for label, rows in sets.items() if rows.any()}
    for name, rung in rungs(quick, seed).items():
        predicted, std, fit_s, forecast_s = rung(train, observed, later)
        scored = {label: score(later.where(rows), predicted[rows], std[rows]) for label, rows in sets.items()}
        scores = scored["family"][0]
        metrics["rungs"][name] = {**scores, "fit_s": fit_s, "forecast_s": forecast_s,
                                  **({"off": scored["off"][0]} if "off" in scored else {})}
        leaves = scores["leaves_band_s"]
        off = "" if "off" not in scored else (f"; off the training launches {_metres(scored['off'][0]['rmse_last'])} "
                                              f"{scored['off'][0]['last_s']:.3g} s ahead")
        echo(f"{name:>21}: RMS error {scores['rmse_first']:.3g} m {STEP:g} s ahead, {scores['rmse_last']:.3g} m "
             f"{scores['last_s']:.3g} s ahead; " + ("stays in the noise band" if leaves is None else
                                                     f"leaves the noise band {leaves:.3g} s ahead")
             + f"; {LEVEL:.0%} interval covers {scores['coverage']:.0%}{off}; fit {fit_s:.1f} s")
        forecasts.append(_forecast_columns(name, later, predicted, std))
        for label, (_, curve) in scored.items():
            errors.append({"rung": np.full(len(curve["rmse"]), name), "set": np.full(len(curve["rmse"]), label),
                           **curve})
    with new_directory(out) as work:
        write_table(os.path.join(work, "tracks.csv"), _track_columns(observed, later))
        write_table(os.path.join(work, "forecasts.csv"), _stacked(forecasts))
        write_table(os.path.join(work, "errors.csv"), _stacked(errors))
        write_json(os.path.join(work, "metrics.json"), metrics)
        build_forecast_report(work)
    metrics["directory"] = out
    return metrics


def simulated(seed: int, quick: bool) -> tuple[Tracks, Tracks, Tracks]:
    """(training tracks, the test tracks' observed parts, their later parts), every STEP s: as
    many test tracks launched like the training ones (names ``test/…``) as launched faster than
    any of them, at OFF_SPEEDS (``off/…``)."""
    n_train, n_test = SIZES[quick]
    train_key, test_key, off_key = jax.random.split(jax.random.key(seed), 3)
    train = simulate_tracks(BASEBALL, n_train, 2, SPEEDS, ANGLES, NOISE, train_key, step=STEP)
    test = join_tracks(
        renamed(simulate_tracks(BASEBALL, n_test, 2, SPEEDS, ANGLES, NOISE, test_key, step=STEP), SETS["family"]),
        renamed(simulate_tracks(BASEBALL, n_test, 2, OFF_SPEEDS, ANGLES, NOISE, off_key, step=STEP), SETS["off"]))
    counts = np.bincount(test.track)
    observed, later = cut_tracks(test, np.maximum(np.round(OBSERVED * counts).astype(int), 8))
    return train, observed, later


def rungs(quick: bool, seed: int) -> dict:
    """Each rung by name: (train, observed, later) ↦ (forecast (n, dim) and its predictive std
    at the rows of ``later``, NaN past what the rung forecasts; fit seconds; forecast seconds)."""
    epochs = 600 if quick else 2000
    physics = {"mass": float(BASEBALL.mass), "g": G}
    grey = {**physics, "drag": {"law": QuadraticDrag.name}}
    # Adam at 3e-2 then L-BFGS: at the defaults (500 epochs at 1e-2, no polish) the UDE's training
    # error on these tracks stays 30× the noise's (benchmarks/RESULTS.md, "Forecasting").
    networks = {"epochs": epochs, "polish": epochs // 2, "learning_rate": 3e-2, "seed": seed}
    return {"constant acceleration": _kinematics,
            "echo state network": _forecaster(lambda: EchoStateNetwork(size=300, seed=seed)),
            "LSTM": _forecaster(lambda: LSTM(epochs=epochs // 2, free_epochs=epochs // 4, seed=seed)),
            "neural ODE": _dynamics(lambda: NeuralODE(physics, **networks)),
            "UDE": _dynamics(lambda: UDE(physics, **networks)),
            "grey box (quadratic)": _dynamics(lambda: TrajectoryFit(grey))}


def _kinematics(train, observed, later):
    del train  # the baseline fits each observed part alone
    start = time.perf_counter()
    t, _, mask = later.padded()
    predicted, std = constant_acceleration(observed, t)
    seconds = time.perf_counter() - start
    return _rows(later, predicted, mask), _rows(later, std, mask), 0.0, seconds


def _forecaster(make):
    def rung(train, observed, later):
        start = time.perf_counter()
        model = make().fit(train)
        fitted = time.perf_counter()
        _, _, mask = later.padded()
        horizon = min(mask.shape[1], model.horizon_)
        seen = model.seen(observed)  # the others it refuses: never seen, not forecast (NaN)
        predicted, std = (np.full(mask.shape + (observed.dim,), np.nan) for _ in range(2))
        if seen.any():
            asked = observed.select([name for name, ok in zip(observed.names, seen) if ok])
            predicted[seen, :horizon], std[seen, :horizon] = model.predict(asked, horizon, return_std=True)
        done = time.perf_counter()
        return _rows(later, predicted, mask), _rows(later, std, mask), fitted - start, done - fitted

    return rung


def _dynamics(make):
    def rung(train, observed, later):
        start = time.perf_counter()
        model = make().fit(join_tracks(train, observed))
        fitted = time.perf_counter()
        predicted, std = model.predict(later, return_std=True)
        return predicted, std, fitted - start, time.perf_counter() - fitted

    return rung


def _rows(tracks: Tracks, padded: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Values (n, dim) at the rows of ``tracks`` from values (m, P, dim) padded as ``tracks.padded()``."""
    out = np.empty((len(tracks.t), padded.shape[-1]))
    out[np.argsort(tracks.track, kind="stable")] = padded[mask]
    return out


def steps_ahead(later: Tracks) -> np.ndarray:
    """(n,): how many steps after its cut each row of ``later`` is (1 for the first)."""
    return later.point_index() + 1


def score(later: Tracks, predicted: np.ndarray, std: np.ndarray) -> tuple[dict, dict]:
    """(scores, curve): the RMS position error (m, over coordinates) at each horizon k·STEP —
    the curve, with the number of forecasts at each — at the first step and at the last one
    forecast by every test track, the horizon at which it leaves the noise band (BAND·NOISE;
    None if it never does where it forecasts: ``forecast_share`` says how much that is), and
    the share of measurements inside the LEVEL interval ŷ ± z·s."""
    k = steps_ahead(later)
    square = np.mean((predicted - later.position) ** 2, axis=1)
    horizons = np.arange(1, k.max() + 1)
    counts = np.array([np.sum((k == h) & np.isfinite(square)) for h in horizons])
    rmse = np.array([np.sqrt(np.mean(square[(k == h) & np.isfinite(square)])) if c else np.nan
                     for h, c in zip(horizons, counts)])
    common = int(np.min(np.bincount(later.track)))
    outside = np.flatnonzero(rmse > BAND * NOISE)  # NaN, nothing forecast there (refused), is not outside
    z = stats.norm.ppf(0.5 + LEVEL / 2)
    inside = np.abs(predicted - later.position) <= z * std
    finite = np.isfinite(predicted) & np.isfinite(std)
    scores = {"rmse_first": float(rmse[0]), "rmse_last": float(rmse[common - 1]), "last_s": common * STEP,
              "leaves_band_s": float(horizons[outside[0]] * STEP) if outside.size else None, "coverage": float(np.mean(inside[finite])) if finite.any() else None,
              "forecast_share": float(np.mean(np.isfinite(square)))}
    return scores, {"horizon_s": horizons * STEP, "rmse": rmse, "count": counts}


def _metres(value: float) -> str:
    return "not forecast" if not np.isfinite(value) else f"{value:.3g} m"


def _forecast_columns(name: str, later: Tracks, predicted, std) -> dict:
    return {"rung": np.full(len(later.t), name), "track": np.array(later.names)[later.track], "t": later.t,
            "x": predicted[:, 0], "y": predicted[:, 1], "std_x": std[:, 0], "std_y": std[:, 1]}


def _track_columns(observed: Tracks, later: Tracks) -> dict:
    parts = [("observed", observed), ("later", later)]
    return {"part": np.concatenate([np.full(len(p.t), label) for label, p in parts]),
            "track": np.concatenate([np.array(p.names)[p.track] for _, p in parts]),
            "t": np.concatenate([p.t for _, p in parts]),
            "x": np.concatenate([p.position[:, 0] for _, p in parts]),
            "y": np.concatenate([p.position[:, 1] for _, p in parts])}


def _stacked(tables: list[dict]) -> dict:
    return {key: np.concatenate([table[key] for table in tables]) for key in tables[0]}
