"""The figures of ``hybridlab learn-drag``, drawn from the files of its directory alone:
``result.json`` (the method, the law, the end of the fitted part), ``tracks.csv`` (the tracks
read), ``model.csv`` (the model's tracks, where its solves gave any) and, where a drag force was fitted or learned,
``force.csv`` (speed in m/s, then each force in N)."""

from __future__ import annotations

import json
import os

from hybridlab.data.formats import read_csv, read_tracks
from hybridlab.report.figures import plot_force, plot_tracks, write_figure


def draw_learned(directory: str) -> None:
    """``tracks.png`` (measured tracks, hollow where held out, and the model's lines) and, where
    ``force.csv`` is, ``force.png`` (each force against the speed) of a learn-drag directory."""
    with open(os.path.join(directory, "result.json"), encoding="utf-8") as handle:
        result = json.load(handle)
    tracks = read_tracks(os.path.join(directory, "tracks.csv"))
    lines = {}
    if os.path.exists(os.path.join(directory, "model.csv")):  # absent where no solve of the model gave a state
        model = read_tracks(os.path.join(directory, "model.csv"))
        lines = {name: (model.t[model.rows(name)], model.position[model.rows(name)]) for name in model.names}
    write_figure(plot_tracks(tracks, lines, result["train_until"], f"{result['method']}: {result['law']}"),
                 os.path.join(directory, "tracks.png"))
    if os.path.exists(os.path.join(directory, "force.csv")):
        forces = read_csv(os.path.join(directory, "force.csv"))
        speed = forces.pop("speed")
        write_figure(plot_force(speed, forces, title=f"drag force: {result['law']}"),
                     os.path.join(directory, "force.png"))
