"""Our echo state network against reservoirpy (the reference ESN library), same data, same
reservoir hyperparameters, in one process: the forecast error against the horizon on the test
tracks of ``run --scenario forecast`` and the fit time, cold (the first fit in the process,
compiling included) and warm (the median of three more); ours also without the interval's
calibration (``readout_only``: the reservoir run and the ridge solve, the work reservoirpy's
fit does). ``warm_ratio``: reservoirpy's warm fit time over ours (> 1: ours is faster).

Both read the same scaled inputs u_k = ((x_k − μ)/σ, Δx_k/σ_Δ) and learn the same targets (the
next scaled step) from the same fitted tracks (hybridlab's split of the training tracks), with
the same reservoir size, spectral radius, leak rate, input scaling, connectivity, ridge and
washout. What differs is each library's own draw of the random matrices (reservoirpy: W normal,
W_in ±1 Bernoulli times the input scaling, no bias; hybridlab: W normal, W_in uniform in ±the
input scaling over a bias and the inputs). Each forecasts by warming up on the observed part and
feeding its own predicted step back (reservoirpy one step at a time through its nodes).

Usage: python benchmarks/forecast.py [--quick] [--size 300] [--seed 0]
(reservoirpy installed in the same environment: pip install reservoirpy)
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from hybridlab.experiments.forecast import SETS, STEP, score, simulated, steps_ahead
    from hybridlab.forecasting import EchoStateNetwork
    from hybridlab.forecasting.base import padded_positions

    train, observed, later = simulated(args.seed, args.quick)
    # The test tracks launched like the training ones (the faster ones, which the ESN refuses, aside).
    family = [name for name in observed.names if name.startswith(SETS["family"])]
    observed, later = observed.select(family), later.select(family)
    settings = {"size": args.size, "spectral_radius": 0.9, "leak": 0.3, "input_scaling": 0.5, "connectivity": 0.1,
                "ridge": 1e-6, "washout": 5, "seed": args.seed}
    ours, times = _fit_timed(lambda: EchoStateNetwork(**settings).fit(train))
    horizon = min(int(np.max(np.bincount(later.track))), ours.horizon_)
    predicted = _on_rows(later, ours.predict(observed, horizon))
    ours_scores, ours_curve = score(later, predicted, np.ones_like(predicted))
    # The same fitted tracks, inputs and targets for reservoirpy.
    positions, counts = padded_positions(train)
    fit, _ = ours._split(len(counts))
    inputs, targets, mask = (np.asarray(a) for a in ours._examples(positions[fit], counts[fit]))
    sequences = [(inputs[i, :n], targets[i, :n]) for i, n in enumerate(mask.sum(axis=1))]
    theirs, their_times = _fit_timed(lambda: _reservoirpy(settings, sequences))
    # The same work as reservoirpy's fit: the reservoir run and the read-out, no interval.
    _, readout_times = _fit_timed(lambda: ours._train(positions[fit], counts[fit], None))
    predicted = _on_rows(later, _reservoirpy_forecast(theirs, ours, observed, horizon))
    their_scores, their_curve = score(later, predicted, np.ones_like(predicted))
    k = steps_ahead(later)
    shown = [h for h in (1, 2, 5, 10, 20, 40) if h <= horizon]
    print(json.dumps({
        "tracks": {"train": len(train), "test": len(observed)}, "settings": settings, "step_s": STEP,
        "fit_s": {"hybridlab": times, "hybridlab_readout_only": readout_times, "reservoirpy": their_times,
                  "warm_ratio": statistics.median(their_times["warm"]) / statistics.median(times["warm"]),
                  "warm_ratio_readout_only": (statistics.median(their_times["warm"])
                                              / statistics.median(readout_times["warm"]))},
        "rmse_by_horizon_s": {f"{h * STEP:g}": {"hybridlab": float(ours_curve["rmse"][h - 1]),
                                                "reservoirpy": float(their_curve["rmse"][h - 1]),
                                                "forecasts": int(np.sum(k == h))} for h in shown},
        "rmse_last_common": {"hybridlab": ours_scores["rmse_last"], "reservoirpy": their_scores["rmse_last"],
                             "seconds_ahead": ours_scores["last_s"]}}, indent=1))


def _fit_timed(fit):
    start = time.perf_counter()
    model = fit()
    cold = time.perf_counter() - start
    warm = []
    for _ in range(3):
        start = time.perf_counter()
        fit()
        warm.append(time.perf_counter() - start)
    return model, {"cold": cold, "warm": warm}


def _on_rows(later, forecast):
    """A forecast (m, H, dim) on the rows of ``later`` (NaN past H)."""
    from hybridlab.experiments.forecast import _rows

    _, _, mask = later.padded()
    padded = np.full(mask.shape + (forecast.shape[-1],), np.nan)
    padded[:, :forecast.shape[1]] = forecast[:, :mask.shape[1]]
    return _rows(later, padded, mask)


def _reservoirpy(settings, sequences):
    from reservoirpy.nodes import Reservoir, Ridge

    reservoir = Reservoir(units=settings["size"], lr=settings["leak"], sr=settings["spectral_radius"],
                          input_scaling=settings["input_scaling"], rc_connectivity=settings["connectivity"],
                          input_connectivity=1.0, seed=settings["seed"])
    esn = reservoir >> Ridge(ridge=settings["ridge"])
    esn.fit([x for x, _ in sequences], [y for _, y in sequences], warmup=settings["washout"])
    return reservoir, esn.nodes[-1]


def _reservoirpy_forecast(model, ours, observed, horizon):
    """Warm up on each observed track's inputs, then feed each predicted step back."""
    from hybridlab.forecasting.base import padded_positions

    reservoir, readout = model
    mean, scale, step_scale = (np.asarray(v) for v in (ours.mean_, ours.scale_, ours.step_scale_))
    positions, counts = padded_positions(observed)
    out = np.empty((len(counts), horizon, positions.shape[-1]))
    for i, n in enumerate(counts):
        x = positions[i, :n]
        inputs = np.column_stack([(x[1:] - mean) / scale, np.diff(x, axis=0) / step_scale])
        reservoir.reset()
        state = reservoir.run(inputs)[-1]
        last = x[-1]
        for h in range(horizon):
            step = np.asarray(readout(state)).reshape(-1) * step_scale
            last = last + step
            out[i, h] = last
            state = np.asarray(reservoir(np.concatenate([(last - mean) / scale, step / step_scale]))).reshape(-1)
    return out


if __name__ == "__main__":
    main()
