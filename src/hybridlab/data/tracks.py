"""Trajectories: the positions of shots or drops over time, simulated or measured.

Two kinds, as files hold them:
- ``shot``: 2-D shots, columns ``shot,t,x,y`` (an id, time in s, downrange x and height y in m);
- ``drop``: vertical drops, columns ``ball,drop,t,height[,velocity]`` (time in s, height in m,
  velocity in m/s, negative downwards).
Inside the library a track is named by its id (a shot's ``shot``, a drop's ``ball/drop``) and
its rows are together, in increasing time.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.data.shots import uniform_design
from hybridlab.physics import Projectile
from hybridlab.physics.compiling import by_motion

#: Tracks simulated at once (the last block padded): memory stays bounded by a block however
#: many tracks are asked for, and one compiled solve serves every block.
SIMULATE_BLOCK = 4096

#: The columns of each kind's file, required first, then optional.
KINDS = {"shot": (("shot", "t", "x", "y"), ()), "drop": (("ball", "drop", "t", "height"), ("velocity",))}


@dataclass(frozen=True, eq=False)
class Tracks:
    """Trajectories, row by row: ``track`` (n,) the index into ``names`` of each row's track,
    ``t`` (n,) the time in s, ``position`` (n, dim) in m — (x, y) for ``kind`` "shot" (dim 2),
    the height for "drop" (dim 1) — and ``velocity`` (n, dim) in m/s where it was recorded.
    Rows of a track are together, times increasing (checked here).

    Parameters
    ----------
    kind : str
        ``"shot"`` (2-D) or ``"drop"`` (vertical).
    names : tuple of str
        The m tracks' names.
    track : numpy.ndarray
        Shape (n,): each row's index into ``names``.
    t : numpy.ndarray
        Shape (n,): times in s, finite, increasing within a track.
    position : numpy.ndarray
        Shape (n, dim): positions in m, finite.
    velocity : numpy.ndarray, optional
        Shape (n, dim): recorded velocities in m/s.

    Raises
    ------
    ValueError
        If ``kind`` is unknown, the shapes do not match, a time or position is not finite, times do not
        increase within a track, or a track's rows are not together.
    """

    kind: str
    names: tuple[str, ...]
    track: np.ndarray
    t: np.ndarray
    position: np.ndarray
    velocity: np.ndarray | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind = {self.kind!r}: must be one of {tuple(KINDS)}")
        n = len(self.t)
        if self.position.shape != (n, self.dim) or self.track.shape != (n,):
            raise ValueError(f"a {self.kind} track needs track (n,), t (n,) and position (n, {self.dim}); "
                             f"got {self.track.shape}, {self.t.shape}, {self.position.shape}")
        if self.velocity is not None and self.velocity.shape != self.position.shape:
            raise ValueError(f"velocity has shape {self.velocity.shape}, position {self.position.shape}")
        if not (np.all(np.isfinite(self.t)) and np.all(np.isfinite(self.position))):
            raise ValueError("times and positions must be finite")
        same = self.track[1:] == self.track[:-1]
        if np.any(same & (np.diff(self.t) <= 0)):
            row = int(np.flatnonzero(same & (np.diff(self.t) <= 0))[0]) + 1
            raise ValueError(f"track {self.names[self.track[row]]!r}: times must increase (row {row + 1})")
        starts = self.track[np.r_[True, ~same]] if n else self.track  # an empty selection has none
        if len(np.unique(starts)) != len(starts):
            raise ValueError("the rows of each track must be together")

    @property
    def dim(self) -> int:
        """Position components: 2 for shots (x, y), 1 for drops (height).

        Returns
        -------
        dim : int
            2 or 1.
        """
        return 2 if self.kind == "shot" else 1

    def __len__(self) -> int:
        return len(self.names)

    def rows(self, name: str) -> np.ndarray:
        """The row indices of the track ``name``.

        Parameters
        ----------
        name : str
            One of ``names``.

        Returns
        -------
        rows : numpy.ndarray
            The indices, increasing.

        Raises
        ------
        ValueError
            If no track is called ``name``.
        """
        return np.flatnonzero(self.track == self.names.index(name))

    def where(self, mask) -> Tracks:
        """The rows where ``mask`` is True; tracks left without rows are dropped.

        Parameters
        ----------
        mask : array_like
            Boolean, shape (n,).

        Returns
        -------
        tracks : Tracks
            The rows kept, their tracks renumbered.
        """
        mask = np.asarray(mask, bool)
        kept = np.unique(self.track[mask])
        index = np.full(len(self.names), -1)
        index[kept] = np.arange(len(kept))
        velocity = None if self.velocity is None else self.velocity[mask]
        return Tracks(self.kind, tuple(self.names[i] for i in kept), index[self.track[mask]], self.t[mask],
                      self.position[mask], velocity)

    def select(self, names) -> Tracks:
        """The tracks named, in this object's order.

        Parameters
        ----------
        names : sequence of str
            Names of tracks.

        Returns
        -------
        tracks : Tracks
            Those tracks' rows.

        Raises
        ------
        ValueError
            If a name is not a track's.
        """
        unknown = [name for name in names if name not in self.names]
        if unknown:
            raise ValueError(f"no track named {unknown[0]!r}; the tracks are {', '.join(self.names)}")
        index = {name: i for i, name in enumerate(self.names)}
        return self.where(np.isin(self.track, [index[name] for name in names]))

    def padded(self, width: int | None = None):
        """(t (m, P), position (m, P, dim), mask (m, P)): the m tracks as rows of P = ``width``
        points (default and least: the most points of any track); a short track repeats its last
        point, masked out.

        Parameters
        ----------
        width : int, optional
            P, raised to the most points of any track.

        Returns
        -------
        t : numpy.ndarray
            Shape (m, P), in s.
        position : numpy.ndarray
            Shape (m, P, dim), in m.
        mask : numpy.ndarray
            Shape (m, P): True at a track's own points.
        """
        counts = np.bincount(self.track, minlength=len(self))
        width = max(int(counts.max()), width or 0)
        order = np.argsort(self.track, kind="stable")  # the rows track by track, each in file order
        first = np.cumsum(counts) - counts  # where each track's rows begin in `order`
        point = np.arange(width)
        fill = order[first[:, None] + np.minimum(point, counts[:, None] - 1)]  # (m, width), in O(n + m·width)
        return self.t[fill], self.position[fill], point < counts[:, None]

    def point_index(self) -> np.ndarray:
        """(n,): each row's place in its track, 0 for the first (the rows kept in file order).

        Returns
        -------
        index : numpy.ndarray
            Integers, shape (n,).
        """
        counts = np.bincount(self.track, minlength=len(self))
        order = np.argsort(self.track, kind="stable")
        index = np.empty(len(order), int)
        index[order] = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
        return index

    def first_times(self) -> np.ndarray:
        """(m,): each track's first time (s).

        Returns
        -------
        times : numpy.ndarray
            Shape (m,), in s.
        """
        first = np.full(len(self), np.inf)
        np.minimum.at(first, self.track, self.t)
        return first

    def last_times(self) -> np.ndarray:
        """(m,): each track's last time (s).

        Returns
        -------
        times : numpy.ndarray
            Shape (m,), in s.
        """
        last = np.full(len(self), -np.inf)
        np.maximum.at(last, self.track, self.t)
        return last

    def columns(self) -> dict[str, np.ndarray]:
        """The file's columns (see :data:`KINDS`).

        Returns
        -------
        columns : dict of str to numpy.ndarray
            ``shot``, ``t`` (s), ``x``, ``y`` (m) for shots; ``ball``, ``drop``, ``t`` (s), ``height`` (m) and
            ``velocity`` (m/s, where recorded) for drops; each of shape (n,).
        """
        names = np.array(self.names, dtype=object)[self.track]
        if self.kind == "shot":
            out = {"shot": names.astype(str), "t": self.t, "x": self.position[:, 0], "y": self.position[:, 1]}
        else:
            ball, drop = zip(*(name.rsplit("/", 1) for name in names)) if len(names) else ((), ())
            out = {"ball": np.array(ball, dtype=str), "drop": np.array(drop, dtype=float), "t": self.t,
                   "height": self.position[:, 0]}
            if self.velocity is not None:
                out["velocity"] = self.velocity[:, 0]
        return out


def from_columns(kind: str, columns) -> Tracks:
    """Tracks from a file's columns (:data:`KINDS`): ids as strings, the rest float64."""
    if kind == "shot":
        ids = [str(name) for name in columns["shot"]]
        position = np.column_stack([columns["x"], columns["y"]])
    else:
        ids = [f"{ball}/{_drop_label(drop)}" for ball, drop in zip(columns["ball"], columns["drop"])]
        position = np.asarray(columns["height"], float)[:, None]
    names = tuple(dict.fromkeys(ids))
    index = {name: i for i, name in enumerate(names)}
    velocity = columns.get("velocity") if kind == "drop" else None
    return Tracks(kind, names, np.array([index[name] for name in ids], int), np.asarray(columns["t"], float),
                  position, None if velocity is None else np.asarray(velocity, float)[:, None])


def _drop_label(drop) -> str:
    """A drop number as a name: 1, not 1.0."""
    value = float(drop)
    return str(int(value)) if value.is_integer() else repr(value)


def simulate_tracks(projectile: Projectile, n: int, points: int, speed, angle, noise: float,
                    key: jax.Array, step: float | None = None) -> Tracks:
    """``n`` shots of ``projectile``, launched uniformly at random in ``speed`` (m/s) and
    ``angle`` (rad), each observed at ``points`` evenly spaced times from launch to landing
    — or, with ``step`` (s), every ``step`` from launch while it is in the air (the landing
    itself not observed; ``points`` then unused) — with independent Gaussian noise of ``noise``
    m on x and y. Track ``i`` is named ``str(i)``.

    Parameters
    ----------
    projectile : Projectile
        The physics that flies the shots.
    n : int
        Number of tracks, a positive integer.
    points : int
        Points per track, an integer ≥ 2 (checked even with ``step``).
    speed : tuple of float
        (low, high) launch speeds in m/s, finite, low ≤ high.
    angle : tuple of float
        (low, high) launch angles in rad, finite, low ≤ high.
    noise : float
        Standard deviation of the noise on x and y in m, finite and ≥ 0.
    key : jax.Array
        JAX random key.
    step : float, optional
        Time between observations in s, finite and > 0; None: ``points`` per track.

    Returns
    -------
    tracks : Tracks
        ``"shot"`` tracks: times (s), positions (m).

    Raises
    ------
    ValueError
        If ``n``, ``points``, an interval, ``noise`` or ``step`` is not as above, or a launch is out of the
        projectile's domain.
    """
    if int(points) != points or points < 2:
        raise ValueError(f"points = {points!r}: must be an integer >= 2")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise = {noise!r}: must be finite and >= 0")
    k_design, k_noise = jax.random.split(key)
    launches = np.column_stack([np.asarray(a) for a in uniform_design(n, speed, angle, k_design)])
    if step is not None:
        return _every_step(projectile, launches, float(step), float(noise), k_noise)
    fractions = np.linspace(0.0, 1.0, int(points))
    size = min(SIMULATE_BLOCK, int(n))
    padded = np.concatenate([launches, np.repeat(launches[-1:], -int(n) % size, axis=0)])
    t, position = [], []
    for v, theta in (block.T for block in np.split(padded, len(padded) // size)):
        times = np.asarray(projectile.flight_time(v, theta))[:, None] * fractions
        t.append(times)
        position.append(np.asarray(_trajectories(projectile, v, theta, times)))
    t, position = np.concatenate(t)[:int(n)], np.concatenate(position)[:int(n)]
    position = position.reshape(-1, 2)
    position = position + float(noise) * np.asarray(jax.random.normal(k_noise, position.shape, jnp.float64))
    track = np.repeat(np.arange(int(n)), int(points))
    return Tracks("shot", tuple(str(i) for i in range(int(n))), track, t.reshape(-1), position)


def _every_step(projectile: Projectile, launches: np.ndarray, step: float, noise: float, key) -> Tracks:
    """Tracks of the shots ``launches`` (n, 2: speed, angle) observed at 0, step, 2·step, …
    before each lands, with Gaussian noise of ``noise`` m."""
    if not (np.isfinite(step) and step > 0):
        raise ValueError(f"step = {step!r}: must be finite and > 0")
    flight = np.asarray(projectile.flight_time(launches[:, 0], launches[:, 1]))
    times = np.arange(int(np.ceil(flight.max() / step)) + 1) * step
    inside = times[None, :] < flight[:, None]
    paths = np.asarray(_trajectories(projectile, launches[:, 0], launches[:, 1], np.broadcast_to(times, inside.shape)))
    position = paths[inside] + noise * np.asarray(jax.random.normal(key, (int(inside.sum()), 2), jnp.float64))
    track = np.repeat(np.arange(len(launches)), inside.sum(axis=1))
    return Tracks("shot", tuple(str(i) for i in range(len(launches))), track,
                  np.broadcast_to(times, inside.shape)[inside], position)


@by_motion
def _trajectories(projectile: Projectile, speed, angle, times):
    """Positions (b, P, 2) of b shots at their times (b, P): one solve per shot that saves at
    every time (:meth:`Projectile.positions`), not one per point."""
    return jax.vmap(projectile.positions)(speed, angle, times)


def join_tracks(*parts: Tracks) -> Tracks:
    """One Tracks of the tracks of every part (of one kind, their names distinct), in order.

    Parameters
    ----------
    *parts : Tracks
        The tracks to join, of one kind.

    Returns
    -------
    tracks : Tracks
        Every part's tracks, in order; velocities (m/s) kept only if every part has them.

    Raises
    ------
    ValueError
        If the parts are of different kinds (or none is given), or two tracks have the same name.
    """
    kinds = {part.kind for part in parts}
    if len(kinds) != 1:
        raise ValueError(f"tracks of kinds {sorted(kinds)} cannot be joined")
    names = [name for part in parts for name in part.names]
    if len(set(names)) != len(names):
        raise ValueError("the tracks joined must have distinct names")
    offsets = np.cumsum([0] + [len(part) for part in parts[:-1]])
    velocity = (None if any(part.velocity is None for part in parts)
                else np.concatenate([part.velocity for part in parts]))
    return Tracks(kinds.pop(), tuple(names), np.concatenate([part.track + o for part, o in zip(parts, offsets)]),
                  np.concatenate([part.t for part in parts]), np.concatenate([part.position for part in parts]),
                  velocity)


def renamed(tracks: Tracks, prefix: str) -> Tracks:
    """``tracks`` with ``prefix`` before every name.

    Parameters
    ----------
    tracks : Tracks
        The tracks.
    prefix : str
        Put before each name.

    Returns
    -------
    tracks : Tracks
        The same rows, renamed.
    """
    return Tracks(tracks.kind, tuple(prefix + name for name in tracks.names), tracks.track, tracks.t,
                  tracks.position, tracks.velocity)


def resampled(tracks: Tracks, step: float) -> Tracks:
    """Each track linearly interpolated onto its own grid t₀, t₀ + ``step``, … up to its last
    time: evenly spaced points for a model that steps through time (velocities dropped).

    Parameters
    ----------
    tracks : Tracks
        The tracks: positions (m) at times (s).
    step : float
        The grid's step in s, finite and > 0.

    Returns
    -------
    tracks : Tracks
        The same tracks at t₀, t₀ + ``step``, … (s), positions (m) interpolated linearly, no velocities.

    Raises
    ------
    ValueError
        If ``step`` is not finite and > 0.
    """
    if not (np.isfinite(step) and step > 0):
        raise ValueError(f"step = {step!r}: must be finite and > 0")
    ts, positions, track = [], [], []
    for i, name in enumerate(tracks.names):
        rows = tracks.rows(name)
        t = tracks.t[rows]
        grid = t[0] + step * np.arange(int(np.floor((t[-1] - t[0]) / step * (1 + 1e-9))) + 1)
        ts.append(grid)
        positions.append(np.column_stack([np.interp(grid, t, tracks.position[rows, j]) for j in range(tracks.dim)]))
        track.append(np.full(len(grid), i))
    return Tracks(tracks.kind, tracks.names, np.concatenate(track), np.concatenate(ts), np.concatenate(positions))


def cut_tracks(tracks: Tracks, points) -> tuple[Tracks, Tracks]:
    """(the first ``points[i]`` points of each track i, the rest): a track observed up to a cut
    and what follows it. ValueError unless every track keeps a point on each side.

    Parameters
    ----------
    tracks : Tracks
        The m tracks.
    points : int or array_like
        Points kept before the cut, one number for all or (m,) one per track.

    Returns
    -------
    before : Tracks
        The first ``points[i]`` points of each track.
    after : Tracks
        The rest.

    Raises
    ------
    ValueError
        If a cut leaves a side of a track empty.
    """
    points = np.broadcast_to(np.asarray(points), (len(tracks),))
    counts = np.bincount(tracks.track, minlength=len(tracks))
    if np.any(points < 1) or np.any(points >= counts):
        i = int(np.flatnonzero((points < 1) | (points >= counts))[0])
        raise ValueError(f"track {tracks.names[i]!r}: a cut after {points[i]} of its {counts[i]} points leaves a side empty")
    before = tracks.point_index() < points[tracks.track]
    return tracks.where(before), tracks.where(~before)


def split_time(tracks: Tracks, until: float) -> tuple[Tracks, Tracks | None]:
    """(rows with t ≤ ``until``, rows with t > ``until`` or None if there are none) — the
    literature's split of a drop into a fitted part and a predicted one.

    Parameters
    ----------
    tracks : Tracks
        The tracks: positions (m) at times (s).
    until : float
        The cut time in s.

    Returns
    -------
    before : Tracks
        The rows with t ≤ ``until`` (tracks left without rows are dropped).
    after : Tracks or None
        The rows with t > ``until``; None if there are none.
    """
    later = tracks.t > until
    return tracks.where(~later), (tracks.where(later) if later.any() else None)
