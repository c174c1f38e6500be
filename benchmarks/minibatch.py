"""Training cost against data size (issue 14 §2): time per epoch and peak memory of the MLP
and the Hybrid on 10⁴, 10⁵ and 10⁶ shot-put shots (``--family shots``), of the DeepONet and
the FNO on 10³, 10⁴ and 10⁵ input functions (``--family operators``: Gaussian wind profiles on
64 samples ↦ (∫w, w), a smooth operator as cheap to make as any: the cost of training does not
depend on the target), or of the UDE and the neural ODE on 10³, 10⁴ and 10⁵ baseball tracks of
30 points, σ = 5 cm (``--family tracks``; ``tracks-frozen``: the same with the fields held at
their start, so that every epoch asks the same solver work of a track). Above
``training.BATCH_ROWS`` rows (32 768), ``operators.base.BATCH_FUNCTIONS`` functions (4 096) or
``dynamics.learned.BATCH_TRACKS`` tracks (1 024), an epoch is a pass of mini-batches of that size;
below, one full-batch step.

Each size runs in its own process (peak memory is the process's maximum resident size).
The MLP, the Hybrid and scikit-learn's MLPRegressor set up as the MLP (``sklearn-mlp``: what a
user would otherwise write) are fitted for E and 2E epochs of Adam (E = max(20, 2·10⁷/n); no
early stopping, no polish), each once cold (compiling) and once warm; the time per epoch is
(warm 2E − warm E)/E, which cancels the fit's fixed costs (data scaling, the Hessian's
diagnostics on at most 1 024 rows, the interval's calibration). The operators (E = max(2,
2·10⁵/n)) and the UDE and the neural ODE (E = max(1, 10⁴/n)) are fitted for E epochs, once
cold and once warm; their time per epoch is the warm fit's clock of its training loop over E
(the dynamics' own ``seconds_``; an operator's Adam loop, ``training.first_order``, timed
here): their fixed costs, the interval's calibration above all, are too large at 10⁵–10⁶
to repeat. ``--cold-only``: the cold fit alone, its clock including the loop's compile.

Usage: python benchmarks/minibatch.py [--family shots|operators|tracks|tracks-frozen] [--sizes N,N,...]
       [--models NAME,...] [--epochs E] [--cold-only] [--device cpu|gpu]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import equinox as eqx
import jax
import numpy as np

import hybridlab as hl
from hybridlab.data import simulate_shots, simulate_tracks
from hybridlab.dynamics import UDE, NeuralODE
from hybridlab.experiments.jobs import select_device
from hybridlab.models import MLP, Hybrid
from hybridlab.networks import training
from hybridlab.networks.training import BATCH_ROWS
from hybridlab.operators import FNO, DeepONet, gaussian_profiles

SHOT_PUT = hl.Projectile(hl.LinearDrag(k=1.8), mass=7.26)
BASEBALL = hl.Projectile(hl.QuadraticDrag(c=1.2e-3), mass=0.145)


FAMILIES = {
    "shots": {"sizes": "10000,100000,1000000", "epochs": lambda n: max(20, 20_000_000 // n), "unit": "m",
              "models": (("mlp", lambda e: MLP(epochs=e, validation=0.0, patience=None, polish=0)),
                         ("hybrid", lambda e: Hybrid(hl.Projectile(hl.NoDrag(), mass=7.26),
                                                     network=MLP(epochs=e, validation=0.0, patience=None, polish=0))),
                         ("sklearn-mlp", lambda e: sklearn_mlp(e)))},
    "operators": {"sizes": "1000,10000,100000", "epochs": lambda n: max(2, 200_000 // n), "unit": "(m, m/s)",
                  "models": (("deeponet", lambda e: DeepONet(epochs=e)), ("fno", lambda e: FNO(epochs=e)))},
    "tracks": {"sizes": "1000,10000,100000", "epochs": lambda n: max(1, 10_000 // n), "unit": "m",
               "models": (("ude", lambda e: UDE({"mass": 0.145}, epochs=e)),
                          ("neural-ode", lambda e: NeuralODE({"mass": 0.145}, epochs=e)))},
    # The same steps with the fields held where they start (learning rate 1e-12): the adaptive
    # solver then does the same work for a track at every size and stage of training.
    "tracks-frozen": {"sizes": "1000,10000,100000", "epochs": lambda n: max(1, 10_000 // n), "unit": "m",
                      "models": (("ude", lambda e: UDE({"mass": 0.145}, epochs=e, learning_rate=1e-12)),
                                 ("neural-ode", lambda e: NeuralODE({"mass": 0.145}, epochs=e, learning_rate=1e-12)))},
}


def sklearn_mlp(epochs: int):
    """What a user would otherwise write: scikit-learn's MLPRegressor as the MLP is by default
    (2 × 32 tanh units, Adam at 3e-3, standardised inputs and target, float64), for ``epochs``
    epochs of shuffled mini-batches of ``training.BATCH_ROWS`` rows (one batch below that), no early
    stopping, no weight penalty (``make bench`` installs scikit-learn)."""
    import warnings

    from sklearn.compose import TransformedTargetRegressor
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # max_iter reached is the plan
    network = MLPRegressor(hidden_layer_sizes=(32, 32), activation="tanh", solver="adam", batch_size=BATCH_ROWS,
                           learning_rate_init=3e-3, max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1, alpha=0.0,
                           shuffle=True, random_state=0)
    return make_pipeline(StandardScaler(), TransformedTargetRegressor(network, transformer=StandardScaler()))


def data(family: str, n: int) -> tuple:
    if family.startswith("tracks"):
        return (simulate_tracks(BASEBALL, n, 30, (30.0, 50.0), (0.3, 1.0), 0.05, jax.random.key(0)),)
    if family == "shots":
        shots = simulate_shots(SHOT_PUT, n, (5.0, 85.0), (np.deg2rad(5), np.deg2rad(85)), 0.1, jax.random.key(0))
        return np.column_stack([shots["speed"], shots["angle"]]), shots["distance"]
    W = gaussian_profiles(n, 64, 2.5, 5.0, 0.5, jax.random.key(0))
    return W, np.stack([np.cumsum(W, axis=1) * (2.5 / 64), W], axis=-1)


def rmse(model, arrays: tuple) -> float:
    """The fitted model's root-mean-square training error (its target's unit)."""
    if len(arrays) == 1:  # tracks: positions
        return float(np.sqrt(model.mse(arrays[0])))
    X, y = arrays
    return float(np.sqrt(np.mean((model.predict(X) - y) ** 2)))


_ADAM_LOOP = training.first_order


def _clocked_loop(*args, **kwargs):
    """``training.first_order``, waited for and timed into ``_clocked_loop.seconds``: an
    operator's Adam loop, clocked as the dynamics models clock theirs (``seconds_``)."""
    start = time.perf_counter()
    params, done = _ADAM_LOOP(*args, **kwargs)
    jax.block_until_ready(eqx.filter(params, eqx.is_array))
    _clocked_loop.seconds = time.perf_counter() - start
    return params, done


def one(family: str, n: int, epochs: int, names=None, cold_only: bool = False) -> dict:
    arrays = data(family, n)
    out = {"n": n, "epochs": epochs}
    # The dynamics models and the operators clock their training loop (``seconds_``): one warm
    # fit gives the epochs' cost without the fit's fixed costs (the interval's calibration
    # above all, a forward-mode solve per fitted parameter and track for the dynamics, too
    # large at 10⁵–10⁶ tracks to repeat). ``cold_only``: the cold fit alone, its clock
    # including the training loop's compile.
    clocked = family != "shots"
    training.first_order = _clocked_loop if family == "operators" else _ADAM_LOOP
    for name, make in FAMILIES[family]["models"]:
        if names and name not in names:
            continue
        seconds = {}
        for run in ("cold",) if cold_only else ("cold", "warm"):
            for e in (epochs,) if clocked else (epochs, 2 * epochs):
                start = time.perf_counter()
                model = make(e).fit(*arrays)
                seconds[run, e] = time.perf_counter() - start
        if family == "operators":
            model.seconds_ = _clocked_loop.seconds
        per_epoch = model.seconds_ / epochs if clocked else (seconds["warm", 2 * epochs] - seconds["warm", epochs]) / epochs
        out[name] = {"cold_s": seconds["cold", epochs], "warm_s": seconds.get(("warm", epochs), float("nan")),
                     "per_epoch_ms": 1e3 * per_epoch, "train_rmse": rmse(model, arrays)}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=tuple(FAMILIES), default="shots")
    parser.add_argument("--sizes", default=None, help="default: 10⁴,10⁵,10⁶ shots, 10³,10⁴,10⁵ functions or 10³,10⁴,10⁵ tracks")
    parser.add_argument("--epochs", type=int, default=None, help="E (default: see above)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default=None)
    parser.add_argument("--models", default=None, help="the family's models to run, comma-separated (default: all)")
    parser.add_argument("--cold-only", action="store_true",
                        help="one cold fit per model (tracks, operators): its own clock, compile included")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = select_device(args.device)
    family = FAMILIES[args.family]
    if args.one:
        print(json.dumps(one(args.family, args.one, args.epochs or family["epochs"](args.one),
                             args.models and args.models.split(","), args.cold_only)))
        return
    how = ("warm fits of E and 2E epochs" if args.family == "shots" else
           f"the {'cold' if args.cold_only else 'warm'} fit's clock of its E epochs")
    print(f"device: {device}; {os.cpu_count()} CPUs; per epoch from {how}")
    for n in (int(s) for s in (args.sizes or family["sizes"]).split(",")):
        command = [sys.executable, os.path.abspath(__file__), "--family", args.family, "--one", str(n)]
        command += ["--epochs", str(args.epochs)] if args.epochs else []
        command += ["--device", args.device] if args.device else []
        command += ["--models", args.models] if args.models else []
        command += ["--cold-only"] if args.cold_only else []
        # Only stdout is read: a size whose process fails says why on stderr.
        row = json.loads(subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True).stdout.splitlines()[-1])
        print(f"n = {n:>8} (E = {row['epochs']}): peak {row['peak_rss_mb']:7.0f} MB; " + "; ".join(
            f"{name} {row[name]['per_epoch_ms']:8.2f} ms/epoch (cold fit {row[name]['cold_s']:.1f} s, "
            f"RMSE {row[name]['train_rmse']:.3g} {family['unit']})" for name, _ in family["models"] if name in row),
            flush=True)


if __name__ == "__main__":
    main()
