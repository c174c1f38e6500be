"""The real drop measurements shipped with hybridlab (de Silva et al. 2020; see
``ball_drops/README.md`` and its MIT ``LICENSE``): balls dropped from a bridge, their heights
recorded at 15 Hz."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

from hybridlab.data.formats import read_tracks
from hybridlab.data.tracks import Tracks, split_time


@dataclass(frozen=True)
class Ball:
    """A ball's mass (kg) and diameter (m); NaN where the source does not give them.

    Attributes
    ----------
    mass : float
        The ball's mass in kg (NaN: not given).
    diameter : float
        The ball's diameter in m (NaN: not given).
    """

    mass: float
    diameter: float


def load_drops() -> tuple[Tracks, dict[str, Ball]]:
    """(the drops, {ball: Ball}): every shipped drop as a track named ``ball/drop`` (heights in
    m, the recorded velocities in m/s), and each ball's mass and diameter.

    Returns
    -------
    drops : Tracks
        ``"drop"`` tracks: times (s), heights (m), velocities (m/s).
    balls : dict of str to Ball
        Each ball's mass (kg) and diameter (m), NaN where not given.
    """
    folder = resources.files("hybridlab.data") / "ball_drops"
    with resources.as_file(folder / "ball_drops.csv") as path:
        drops = read_tracks(path)
    # An empty cell is a size the source does not give (the volleyball's).
    rows = csv.DictReader(io.StringIO((folder / "balls.csv").read_text(encoding="utf-8")))
    balls = {row["ball"]: Ball(float(row["mass_kg"] or "nan"), float(row["diameter_m"] or "nan")) for row in rows}
    return drops, balls


def benchmark_split(drops: Tracks, until: float = 2.0) -> dict[str, tuple[Tracks, Tracks | None]]:
    """The literature's benchmark: for each ball, drop 1 cut at t = ``until`` s into the part
    fitted (t ≤ until) and the part predicted (t > until).

    Parameters
    ----------
    drops : Tracks
        ``"drop"`` tracks named ``ball/drop``, as :func:`load_drops` gives them.
    until : float
        The cut time in s.

    Returns
    -------
    split : dict of str to tuple
        For each ball with a drop ``1``: (the part fitted, t ≤ ``until``; the part predicted, t > ``until``, or
        None if the drop ends by then), each a ``Tracks`` of times (s) and heights (m).
    """
    out = {}
    for name in drops.names:
        ball, drop = name.rsplit("/", 1)
        if drop != "1":
            continue
        out[ball] = split_time(drops.select([name]), until)
    return out


__all__ = ["Ball", "benchmark_split", "load_drops"]
