"""The UDE speed benchmark in PyTorch + torchdiffeq, the reference for ude_speed.py (JAX).

Setup (identical in both scripts): the data of ude_tracks_data.make_data(0) — 20 baseball
tracks × 30 points on one grid t = linspace(0, 1, 30) s, σ = 5 cm, true drag c v² with
c = 9e-4 kg/m, m = 0.145 kg. Model: dv/dt = −g ŷ + a(v), a(v) = −g·softplus(N(|v|/45))·v/|v|,
N a 1-32-32-1 softplus network whose last layer starts at weights 0 and bias log(expm1(0.05))
(so |a| = 0.05 g at every speed, as hybridlab.networks.drag.drag_network). The initial
states are known (not trained). Loss: mean squared position error over all tracks, points and
both coordinates. Solve: torchdiffeq odeint of the batch (20, 4) at once, dopri5, rtol = atol =
1e-6 (one step size for the batch). Full-batch Adam, lr 1e-2, constant. float64,
torch.manual_seed(0). Direct backpropagation through the solver, or --adjoint (odeint_adjoint).

The MSE of epoch k is the training loss evaluated in that epoch (before its update); epochs
to the floor: the first with MSE ≤ 1.1·floor, its seconds counted from the start of epoch 1
to the end of that epoch. Median, mean and max epoch times are over epochs 2..end; a mean far
above the median means the CPUs were shared (torch's 2 intra-op threads then slow down by up
to 20×). compile_s = first_epoch_s − median_epoch_s (torch compiles nothing). Prints one JSON
line.

Environment (a separate venv, the main one untouched):
    python3 -m venv /work/torchvenv
    /work/torchvenv/bin/pip install torch torchdiffeq numpy scipy \
        --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple
Usage:
    /work/torchvenv/bin/python benchmarks/ude_torchdiffeq.py --epochs 200
    /work/torchvenv/bin/python benchmarks/ude_torchdiffeq.py --adjoint --epochs 20
    (--threads 1 is steadier on CPUs shared with other work)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torchdiffeq import odeint, odeint_adjoint

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ude_tracks_data import RATIO_SPEEDS, first_at_floor, make_data, significant, true_force  # noqa: E402

START = 0.05  # |a| starts at START·g, as hybridlab's drag_network


class UDEField(torch.nn.Module):
    """ds/dt = (v, a(v) − g ŷ) for the batch of states s (20, 4)."""

    def __init__(self, g: float, speed_scale: float):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.Softplus(), torch.nn.Linear(32, 32),
                                       torch.nn.Softplus(), torch.nn.Linear(32, 1))
        with torch.no_grad():
            self.net[-1].weight.zero_()
            self.net[-1].bias.fill_(math.log(math.expm1(START)))
        self.g, self.speed_scale = g, speed_scale

    def magnitude(self, speed):
        """|a| (m/s²) at speeds (n, 1) m/s."""
        return self.g * torch.nn.functional.softplus(self.net(speed / self.speed_scale))

    def forward(self, t, s):
        v = s[:, 2:]
        speed = torch.linalg.vector_norm(v, dim=1, keepdim=True)
        a = -self.magnitude(speed) * v / speed
        gravity = torch.tensor([0.0, self.g], dtype=s.dtype)
        return torch.cat([v, a - gravity], dim=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--adjoint", action="store_true", help="odeint_adjoint instead of direct backprop")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    data = make_data(0)
    t = torch.tensor(data["t"])
    s0 = torch.tensor(data["s0"])
    target = torch.tensor(data["noisy"]).permute(1, 0, 2)  # (30, 20, 2), odeint's layout
    field = UDEField(data["G"], data["SPEED_SCALE"])
    solve = odeint_adjoint if args.adjoint else odeint
    optimiser = torch.optim.Adam(field.parameters(), lr=args.learning_rate)

    def loss_fn():
        states = solve(field, s0, t, method="dopri5", rtol=1e-6, atol=1e-6)  # (30, 20, 4)
        return torch.mean((states[..., :2] - target) ** 2)

    mse, ends, epoch_s = [], [], []
    clock = time.perf_counter()
    for _ in range(args.epochs):
        start = time.perf_counter()
        optimiser.zero_grad()
        loss = loss_fn()
        loss.backward()
        optimiser.step()
        mse.append(loss.item())
        now = time.perf_counter()
        epoch_s.append(now - start)
        ends.append(now - clock)
    total = time.perf_counter() - clock
    with torch.no_grad():
        final = loss_fn().item()
        speeds = torch.tensor(RATIO_SPEEDS)[:, None]
        force = (data["M"] * field.magnitude(speeds))[:, 0].numpy()
    epochs_to, seconds_to = first_at_floor(mse, data["floor"], ends)
    median = float(np.median(epoch_s[1:])) if len(epoch_s) > 1 else epoch_s[0]
    print(json.dumps({
        "engine": f"torchdiffeq {'odeint_adjoint' if args.adjoint else 'odeint (direct backprop)'}",
        "solver": "dopri5 rtol=atol=1e-6, batch (20, 4) in one solve",
        "versions": f"torch {torch.__version__}, threads {torch.get_num_threads()}",
        "epochs": args.epochs, "chunk": 1, "first_epoch_s": epoch_s[0], "median_epoch_s": median,
        "compile_s": epoch_s[0] - median,
        "mean_epoch_s": float(np.mean(epoch_s[1:] or epoch_s)), "max_epoch_s": max(epoch_s[1:] or epoch_s),
        "total_s": total, "floor": data["floor"], "mse": significant(mse),
        "epochs_to_floor": epochs_to, "seconds_to_floor": seconds_to,
        "force_ratio": {f"{v:g}": round(float(r), 4) for v, r in zip(RATIO_SPEEDS, force / true_force(RATIO_SPEEDS))},
        "final_mse": final}))


if __name__ == "__main__":
    main()
