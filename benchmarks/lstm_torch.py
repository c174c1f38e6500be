"""Our LSTM's teacher-forcing epoch against an equivalent PyTorch ``nn.LSTM`` loop on the same
windows (issue 32 §3), in two steps, one per environment:

1. ``python benchmarks/lstm_torch.py ours --out W.npz`` (hybridlab's environment) builds the
   windows that ``run --scenario forecast`` trains the LSTM on (the training tracks of
   ``simulated(seed, quick)``, hybridlab's split and scaling), times our teacher-forcing epochs
   (``training.first_order`` on the ``teacher`` loss, Adam cosine-decayed from the default
   3e-3, mini-batches of 64 windows, compiled in chunks of 100 epochs) cold (the first run in
   the process, compiling included) and warm (the same epochs again, from the same start), and
   writes the windows' inputs, targets and loss mask with the settings to ``W.npz``;
2. ``/work/torchvenv/bin/python benchmarks/lstm_torch.py torch W.npz`` runs the same loop in
   PyTorch: ``nn.LSTM(4, hidden, batch_first=True)`` and ``nn.Linear(hidden, 2)`` in float64, the
   same inputs u_k = ((x_k − μ)/σ, Δx_k/σ_Δ), targets (the next scaled step) and mask (after the
   warm-up, before a window's padded end), the same masked mean squared error, the same batches
   per epoch (⌊B/64⌋ of a fresh shuffle, the rest left out), Adam with the same cosine decay to
   1e-3 of the rate (``LambdaLR``), for the same epochs.

Each prints one JSON line: seconds per epoch (warm for ours; the median epoch for torch, and its
first epoch), the loss after the epochs (teacher forcing, the same definition; the two start from
different random weights: PyTorch's and Equinox's initialisations). ``--threads`` sets torch's
intra-op threads (default: torch's own choice); XLA uses its own.

Environment for step 2 (a separate venv, the main one untouched):
    python3 -m venv /work/torchvenv
    /work/torchvenv/bin/pip install torch numpy --index-url https://download.pytorch.org/whl/cpu \
        --extra-index-url https://pypi.org/simple
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import numpy as np


def ours(args) -> None:
    import jax
    import jax.numpy as jnp

    from hybridlab.experiments.forecast import simulated
    from hybridlab.forecasting import LSTM
    from hybridlab.forecasting.base import padded_positions
    from hybridlab.forecasting.lstm import _window_inputs, losses
    from hybridlab.networks import training

    train, _, _ = simulated(args.seed, args.quick)
    model = LSTM(epochs=1, free_epochs=0, seed=args.seed).fit(train)  # its scaling and split
    positions, counts = padded_positions(train)
    fit, _ = model._split(len(counts))
    data = model._windows(positions[fit], counts[fit])
    teacher, _ = losses(model.warmup)
    start = model._untrained()
    steps = args.epochs * training.batches_per_epoch(len(data[1]), model.batch_size)
    adam = training.optimiser("adam", model.learning_rate, "cosine", steps)
    times = []
    for _ in range(2):  # cold (compiling), then warm from the same start
        clock = time.perf_counter()
        trained, _ = training.first_order(start, teacher, data, None, adam, args.epochs, None,
                                          batch=model.batch_size, seed=args.seed)
        jax.block_until_ready(trained)
        times.append(time.perf_counter() - clock)
    loss = float(training.evaluate(teacher, trained, data))
    window_positions, window_counts, scales = (np.asarray(a) for a in data)
    inputs = np.asarray(_window_inputs(jnp.asarray(window_positions), tuple(jnp.asarray(scales[0]))))
    targets = np.diff(window_positions, axis=1)[:, 1:] / scales[0, 2]
    j = np.arange(targets.shape[1])
    mask = (j < window_counts[:, None] - 2) & (j >= model.warmup - 1)
    np.savez(args.out, inputs=inputs, targets=targets, mask=mask, hidden=model.hidden, batch=model.batch_size,
             rate=model.learning_rate, epochs=args.epochs, seed=args.seed)
    print(json.dumps({"library": "hybridlab (JAX, Equinox, Optax)", "windows": int(len(inputs)),
                      "window": int(inputs.shape[1]), "hidden": model.hidden, "batch": model.batch_size,
                      "epochs": args.epochs, "cold_s": round(times[0], 3), "warm_s": round(times[1], 3),
                      "epoch_s": times[1] / args.epochs, "loss": loss}), flush=True)


def pytorch(args) -> None:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    saved = np.load(args.windows)
    inputs, targets = (torch.from_numpy(saved[name]) for name in ("inputs", "targets"))
    mask = torch.from_numpy(saved["mask"])
    hidden, batch, rate, epochs, seed = (int(saved["hidden"]), int(saved["batch"]), float(saved["rate"]),
                                         int(saved["epochs"]), int(saved["seed"]))
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(inputs.shape[-1], hidden, batch_first=True, dtype=torch.float64)
    head = torch.nn.Linear(hidden, targets.shape[-1], dtype=torch.float64)
    parameters = [*lstm.parameters(), *head.parameters()]
    per_epoch = max(1, len(inputs) // batch) if len(inputs) > batch else 1
    steps = epochs * per_epoch
    optimiser = torch.optim.Adam(parameters, lr=rate)
    # optax.cosine_decay_schedule(rate, steps, alpha=1e-3): rate·((1 − α)·½(1 + cos(π t/T)) + α)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda t: (1 - 1e-3) * 0.5 * (1 + math.cos(math.pi * min(t, steps) / steps)) + 1e-3)
    shuffles = np.random.default_rng(seed)

    def loss_of(rows):
        states, _ = lstm(inputs[rows])
        predicted = head(states[:, :-1])
        squares = ((predicted - targets[rows]) ** 2).sum(-1)
        kept = mask[rows]
        return (squares * kept).sum() / kept.sum().clamp(min=1)

    seconds = []
    for _ in range(epochs):
        clock = time.perf_counter()
        order = shuffles.permutation(len(inputs))[: per_epoch * batch] if per_epoch > 1 else np.arange(len(inputs))
        for rows in np.split(order, per_epoch):
            optimiser.zero_grad()
            loss = loss_of(torch.from_numpy(rows))
            loss.backward()
            optimiser.step()
            schedule.step()
        seconds.append(time.perf_counter() - clock)
    with torch.no_grad():
        final = float(loss_of(torch.arange(len(inputs))))
    print(json.dumps({"library": f"PyTorch {torch.__version__} nn.LSTM", "threads": torch.get_num_threads(),
                      "windows": int(len(inputs)), "epochs": epochs, "first_epoch_s": round(seconds[0], 4),
                      "epoch_s": statistics.median(seconds[1:]), "total_s": round(sum(seconds), 3),
                      "loss": final}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="side", required=True)
    first = sub.add_parser("ours")
    first.add_argument("--out", required=True)
    first.add_argument("--epochs", type=int, default=300)
    first.add_argument("--seed", type=int, default=0)
    first.add_argument("--quick", action="store_true", help="the quick scenario's tracks")
    second = sub.add_parser("torch")
    second.add_argument("windows")
    second.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    ours(args) if args.side == "ours" else pytorch(args)


if __name__ == "__main__":
    main()
