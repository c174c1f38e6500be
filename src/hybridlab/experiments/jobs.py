"""The jobs the command line runs, one function each: the CLI parses, calls one of these and
prints what it returns. Errors are ``ValueError``s that name the parameter: first
(``points = 1: …``) or in backquotes (```k` does not apply …``), which the CLI maps to its
flags.

The jobs take a request in file units and return their results in file units: angles in
degrees (converted once, by :mod:`hybridlab.data.units`), as on the command line and in files;
inside the library they are radians.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import jax
import numpy as np

from hybridlab.data import (from_degrees, from_file_units, in_file_units, read_shots, simulate_shot_chunks,
                            simulate_tracks, to_file_units, write_shot_chunks, write_table, write_tracks)
from hybridlab.files import check_new_directory, check_output_file
from hybridlab.physics import DRAG_LAWS, Projectile

if TYPE_CHECKING:  # the rungs are imported by the jobs that use them: aim and range need none (0.8 s)
    from hybridlab.models import Regressor
    from hybridlab.networks.progress import ProgressMeter


def platform() -> dict:
    """Where hybridlab computes: its version, JAX's, the device JAX found first (every command
    runs on it) with the list of all, the floating-point precision and the CPU count."""
    import os

    import hybridlab

    devices = jax.devices()
    return {"hybridlab": hybridlab.__version__, "jax": jax.__version__, "backend": jax.default_backend(),
            "device": f"{devices[0].platform}: {devices[0].device_kind}", "devices": [str(d) for d in devices],
            "precision": "float64" if jax.config.jax_enable_x64 else "float32", "cpus": os.cpu_count()}


def select_device(kind: str | None) -> str:
    """Make the first JAX device of ``kind`` (``"cpu"``, ``"gpu"``; None: leave JAX's choice)
    the default for every computation that follows; returns it in words. ValueError where JAX
    finds none of that kind."""
    try:
        devices = jax.devices(kind)
    except RuntimeError:
        devices = []
    if not devices:
        raise ValueError(f"device = {kind!r}: JAX finds no such device here (a GPU needs an NVIDIA card and "
                         "pip install 'hybridlab[cuda]')")
    if kind is not None:
        jax.config.update("jax_default_device", devices[0])
    return f"{devices[0].platform}: {devices[0].device_kind}"


def physics_spec(drag: str, coefficients: Mapping[str, float | None], mass: float, g: float, height: float,
                 unknown: Sequence[str] = ()) -> dict:
    """A projectile's spec from separate options: ``coefficients`` holds every drag
    coefficient option (None where not given). Each given one must belong to the law; each of
    the law's must be given unless it is ``unknown`` (to be fitted from the law's starting
    guess). ValueError names the coefficient."""
    if drag not in DRAG_LAWS:
        raise ValueError(f"drag = {drag!r}: must be one of {sorted(DRAG_LAWS)}")
    law = DRAG_LAWS[drag].coefficients
    for name, value in coefficients.items():
        if value is not None and name not in law:
            raise ValueError(f"`{name}` does not apply to `drag` {drag}")
    missing = [name for name in law if coefficients.get(name) is None and name not in unknown]
    if missing:
        raise ValueError(f"`drag` {drag} needs `{missing[0]}` (or fit it as an unknown)")
    given = {name: coefficients[name] for name in law if coefficients.get(name) is not None}
    return {"drag": {"law": drag, **given}, "mass": mass, "g": g, "height": height}


def shot_range(spec: Mapping, speed: float, angle: float) -> float:
    """The range (m) of one shot (``angle`` in degrees), and nothing else: a ValueError only if
    the range itself cannot be given (a vertical shot's range is 0 m even where its apex height
    overflows)."""
    return float(Projectile.from_spec(spec).range(speed, from_degrees(angle)))


def shot_summary(spec: Mapping, speed: float, angle: float) -> dict:
    """Range (m), flight time (s), apex x, y (m), impact speed (m/s) and angle (degrees below
    the horizontal) of one shot (``angle`` in degrees)."""
    p = Projectile.from_spec(spec)
    angle = from_degrees(angle)
    apex_x, apex_y = p.apex(speed, angle)
    impact_speed, impact_angle = p.impact(speed, angle)
    return in_file_units({"range": float(p.range(speed, angle)), "flight_time": float(p.flight_time(speed, angle)),
                          "apex": {"x": float(apex_x), "y": float(apex_y)},
                          "impact": {"speed": float(impact_speed), "angle": float(impact_angle)}})


#: The most rows a trajectory or a set of simulated tracks may have: each is built whole in
#: memory (its CSV text some hundred bytes a row) before it is written.
MAX_ROWS = 1_000_000
#: The most shots ``simulate`` writes (it streams them: only the disk bounds it).
MAX_SHOTS = 10**10


def _check_rows(name: str, value: int, least: int) -> None:
    """ValueError unless ``least`` <= value <= :data:`MAX_ROWS`, before any work."""
    if not least <= value <= MAX_ROWS:
        raise ValueError(f"{name} = {value}: must be between {least} and {MAX_ROWS}")


# A given speed this far (relative) below the least speed is out of reach without a search: far
# beyond the least speed's error (1e-12 relative, its Newton polish), and a speed within it is
# searched as any other.
_BELOW_LEAST = 1e-9


def aim_summary(spec: Mapping, distance: float, *, target_height: float = 0.0, speed: float | None = None,
                angle: float | None = None) -> dict:
    """How to launch to pass through the target (``distance`` m, ``target_height`` m above the
    launch point), as plain data in file units (angles in degrees, ``angle`` given so too; NaN
    where there is no answer):

    - ``solutions``: each with its speed, angle, arc (``low``, ``high`` or ``min-speed``) and,
      for a target on the ground, its flight time in s (else None);
    - ``min_speed``: the least-speed shot, and ``searched_up_to``, the fastest launch (m/s) any
      search tries (no solution is looked for above it);
    - ``reachable``: whether there is a solution;
    - ``closest``: for a target out of reach at the given speed, the closest approach: the
      farthest that speed gets at the target's height (``distance`` m, ``height`` m above the
      launch point, ``angle``) or, where every path of that speed stays below that height, the
      highest point (straight up: distance 0, the apex's height).

    See :func:`hybridlab.inverse.aim`."""
    from hybridlab.inverse import aim, check_target, speed_ceiling

    p = Projectile.from_spec(spec)
    angle = None if angle is None else float(from_degrees(angle))
    least = aim(p, distance, target_height=target_height, curve_points=0)
    least_speed, least_angle = float(least.speed), float(least.angle)
    if speed is not None and speed < least_speed * (1 - _BELOW_LEAST):
        check_target(p, distance, target_height=target_height, speed=speed)  # what the search would refuse
        shots = []  # below the least speed no angle hits: no search for the arcs
    elif speed is not None:
        hits = aim(p, distance, target_height=target_height, speed=speed)
        low, high = float(hits.low), float(hits.high)
        # One angle for both arcs: the target lies on the envelope, and this is the least speed.
        arcs = [("min-speed", high)] if low == high else [("low", low), ("high", high)]
        shots = [(arc, speed, a) for arc, a in arcs if np.isfinite(a)]
    elif angle is not None:
        found = float(aim(p, distance, target_height=target_height, angle=angle))
        shots = [("low" if angle < least_angle else "high", found, angle)] if np.isfinite(found) else []
    else:
        shots = [("min-speed", least_speed, least_angle)] if np.isfinite(least_speed) else []
    on_ground = float(p.height) + target_height == 0
    solutions = [{"speed": v, "angle": a, "arc": arc,
                  "flight_time": _flight_time(p, v, a, distance) if on_ground else None} for arc, v, a in shots]
    ceiling = float(speed_ceiling(p, distance, target_height=target_height))
    return in_file_units({
        "target": {"distance": float(distance), "height": float(target_height)}, "solutions": solutions,
        "min_speed": {"speed": least_speed, "angle": least_angle, "searched_up_to": ceiling},
        "reachable": bool(solutions),
        "closest": _closest(p, speed, target_height) if speed is not None and not solutions else None})


def _flight_time(p: Projectile, speed: float, angle: float, distance: float) -> float:
    """The flight time (s) of a shot to the target at ``distance`` (m); ValueError naming the
    distance where float64 cannot hold it."""
    try:
        return float(p.flight_time(speed, angle))
    except ValueError as error:
        raise ValueError(f"distance = {distance:g}: the flight time of the shot to this target: {error}") from None


def _closest(p: Projectile, speed: float, target_height: float) -> dict:
    """The closest approach of a shot of ``speed`` (m/s) to a target out of its reach (see
    :func:`aim_summary`)."""
    from hybridlab.inverse import reach

    far, best = reach(p, speed, target_height=target_height)
    if np.isfinite(far):
        return {"distance": float(far), "height": float(target_height), "angle": float(best)}
    return {"distance": 0.0, "height": float(p.apex(speed, np.pi / 2)[1] - p.height), "angle": float(best)}


def write_aim_files(spec: Mapping, summary: Mapping, *, curve: str | None = None, plot: str | None = None,
                    speed: float | None = None, points: int = 200) -> None:
    """The files of an :func:`aim_summary` (made with ``speed``, if given): at ``curve`` the
    solution curve {(θ, v)} to its target, a CSV or Parquet file of ``angle`` (degrees) and
    ``speed`` (m/s) across the angles that can reach it (no rows for a target out of reach); at
    ``plot`` a PNG of its trajectories (see :func:`aim_figure`). Both are made before either is
    written, and a failure leaves neither."""
    from hybridlab.files import replace_atomically
    from hybridlab.inverse import aim

    for path, name in ((curve, "curve"), (plot, "plot")):
        if path is not None:
            check_output_file(path, f"`{name}`")
    if plot is not None:  # Matplotlib only for a plot (0.3 s)
        from hybridlab.report.figures import write_figure
    figure = None if plot is None else aim_figure(spec, summary, plot, speed, points)
    if curve is None:
        if figure is not None:
            write_figure(figure, plot)
        return
    target = summary["target"]
    shot = aim(Projectile.from_spec(spec), target["distance"], target_height=target["height"], curve_points=points)
    hits = np.isfinite(np.asarray(shot.curve_speeds))
    table = to_file_units({"angle": np.asarray(shot.curve_angles)[hits], "speed": np.asarray(shot.curve_speeds)[hits]})

    def write(temporary: str) -> None:
        # The plot is written while the curve waits in its temporary file: a failure on either
        # leaves neither.
        write_table(temporary, table)
        if figure is not None:
            write_figure(figure, plot)

    replace_atomically(curve, write)


def aim_figure(spec: Mapping, summary: Mapping, plot: str, speed: float | None = None, points: int = 200):
    """The trajectories of an :func:`aim_summary` (angles in degrees) from launch to landing: every
    solution, the least-speed shot (which hits too, at its own speed) and, for a target out of
    reach of the given ``speed``, the closest approach (dashed). ValueError naming ``plot`` (the
    file it is for) where a path cannot be drawn (a position beyond float64's range)."""
    from hybridlab.report.figures import plot_aim

    p = Projectile.from_spec(spec)
    shots = [(f"{s['arc']} arc" if s["arc"] != "min-speed" else "least speed", s, True) for s in summary["solutions"]]
    least = summary["min_speed"]
    if all(s["arc"] != "min-speed" for s in summary["solutions"]) and np.isfinite(least["speed"]):
        shots.append(("least speed", least, True))
    if summary["closest"] is not None:
        shots.append(("closest approach", {"speed": speed, "angle": summary["closest"]["angle"]}, False))
    trajectories = {}
    try:
        for label, shot, hit in shots:
            angle = from_degrees(shot["angle"])
            t = np.linspace(0.0, float(p.flight_time(shot["speed"], angle)), points)
            x, y = p.trajectory(shot["speed"], angle, t)
            name = f"{label}: {shot['speed']:.4g} m/s at {shot['angle']:.4g}°"
            trajectories[name] = (np.asarray(x), np.asarray(y), hit)
    except ValueError as error:
        raise ValueError(f"`plot` {plot}: cannot draw the trajectories: {error}") from None
    target = (summary["target"]["distance"], float(p.height) + summary["target"]["height"])
    return plot_aim(target, trajectories)


def write_trajectory(spec: Mapping, speed: float, angle: float, *, points: int, out: str, noise: float = 0.0,
                     seed: int = 0) -> None:
    """``points`` equally spaced times from launch (``speed`` m/s, ``angle`` degrees) to landing:
    a CSV or Parquet file (by the suffix of ``out``) of t (s), x (m), y (m), with Gaussian
    noise of ``noise`` m on x and y, and the wind (m/s) at each time when the projectile has one."""
    _check_rows("points", points, 2)
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise = {noise}: must be >= 0 (m)")
    check_output_file(out, "out")
    p = Projectile.from_spec(spec)
    angle = from_degrees(angle)
    t = np.linspace(0.0, float(p.flight_time(speed, angle)), points)
    x, y = np.stack(p.trajectory(speed, angle, t)) + noise * np.random.default_rng(seed).standard_normal((2, points))
    columns = {"t": t, "x": x, "y": y} | ({"wind": np.asarray(p.wind(t))} if p.wind is not None else {})
    write_table(out, columns)


def write_simulated(spec: Mapping, n: int, *, speed, angle, noise: float, seed: int, relative: float,
                    out: str) -> None:
    """``n`` random shots of the projectile (``speed`` m/s and ``angle`` degrees, each a
    (low, high) range), with measurement noise, written to ``out`` in chunks (:func:`~hybridlab.data.simulate_shot_chunks`): memory stays flat as n grows."""
    if not 1 <= n <= MAX_SHOTS:
        raise ValueError(f"n = {n}: must be between 1 and {MAX_SHOTS}")
    check_output_file(out, "out")
    write_shot_chunks(out, simulate_shot_chunks(Projectile.from_spec(spec), n, tuple(speed), _radians(angle), noise, jax.random.key(seed),
                                                relative))


def write_simulated_tracks(spec: Mapping, n: int, *, points: int, speed, angle, noise: float, seed: int,
                           out: str) -> None:
    """``n`` random trajectories of ``points`` points each (shot,t,x,y), launched as
    :func:`write_simulated`'s shots, with noise of ``noise`` m on x and y, written to ``out``."""
    _check_rows("tracks", n, 1)
    if points < 2:
        raise ValueError(f"points = {points}: must be >= 2")
    if n * points > MAX_ROWS:
        raise ValueError(f"tracks = {n} with points = {points}: at most {MAX_ROWS} rows in all")
    check_output_file(out, "out")
    write_tracks(out, simulate_tracks(Projectile.from_spec(spec), n, points, tuple(speed), _radians(angle), noise,
                                      jax.random.key(seed)))


def _radians(angles) -> tuple[float, ...]:
    """A request's angles (degrees) as the library's radians."""
    return tuple(np.atleast_1d(from_degrees(angles)).tolist())


def build_model(name: str, physics: Mapping[str, object], *, unknown: Sequence[str] | None = None,
                seed: int = 0) -> Regressor:
    """The estimator registered as ``name``, given what it takes of: the physics options (those
    of :func:`physics_spec`, as a grey box's known physics or a hybrid's prior), the unknowns
    (a grey box's; None: the drag law's coefficients; an unknown drag coefficient may be left
    out of the options), the seed."""
    from hybridlab import models

    cls = models.rung(name)  # only this rung's module: the others' imports cost 1.5 s
    accepted = inspect.signature(cls).parameters
    if "unknown" not in accepted:
        if unknown:
            owners = " or ".join(n for n, c in models.REGISTRY.items() if "unknown" in inspect.signature(c).parameters)
            raise ValueError(f"`unknown` {','.join(unknown)}: the {name} model fits no physical parameter (only "
                             f"{owners} does)")
        unknown = ()
    elif unknown is None:
        unknown = tuple(DRAG_LAWS[physics["drag"]].coefficients) if physics["drag"] in DRAG_LAWS else ()
        if not unknown:
            laws = " or ".join(law for law, cls in DRAG_LAWS.items() if cls.coefficients)
            raise ValueError(f"`drag` {physics['drag']} has no coefficient to fit: choose a drag law with "
                             f"`drag` ({laws}), or name the parameters to fit with `unknown` (such as g)")
    unknown = tuple(unknown)
    spec = physics_spec(**physics, unknown=unknown)
    offered = {"physics": spec, "prior": spec, "unknown": unknown, "seed": seed}
    if "network" in accepted:  # a hybrid's correction
        from hybridlab.models.hybrid import NETWORK_WIDTHS
        from hybridlab.models.mlp import MLP

        offered["network"] = MLP(widths=NETWORK_WIDTHS, seed=seed)
    return cls(**{key: value for key, value in offered.items() if key in accepted})


def progress_meter(quiet: bool) -> ProgressMeter:
    """Nothing for ``quiet``, else a tqdm bar on stderr when it is a terminal."""
    from hybridlab.networks.progress import QUIET, TqdmProgress

    return QUIET if quiet else TqdmProgress()


def fit_file(shots: str, model: Regressor, out: str, *, height: float = 0.0,
             keep_unconverged: bool = False) -> tuple[dict, int]:
    """Fit ``model`` to the shots in a CSV/Parquet file, save it in the new directory ``out``;
    returns (its summary, the number of shots). Every rung models one launch ``height`` (m): a
    file's height column must agree with it, and the model keeps it (``context_``) for
    :func:`predict_file`. A fit that did not converge is a ValueError, and nothing is saved,
    unless ``keep_unconverged``."""
    from hybridlab.estimators import save_new

    check_new_directory(out, "out")  # before a fit that may take minutes
    data = read_shots(shots)
    check_heights(shots, data, height)
    model.fit(np.column_stack([data["speed"], data["angle"]]), data["distance"], context={"height": height})
    if model.converged() is False and not keep_unconverged:
        raise ValueError(f"the {model.name} fit did not converge (train RMSE "
                         f"{(model.summary()['diagnostics'] or {}).get('train_rmse', float('nan')):.3g} m), "
                         "so nothing was saved; try other starting values or unknowns, or keep it with "
                         "`keep_unconverged`")
    save_new(model, out)
    return model.summary(), len(data["distance"])


def check_heights(source: str, shots: Mapping[str, np.ndarray], height: float, predicting: bool = False) -> None:
    """ValueError unless every row's launch height (if the file has the column) is ``height``:
    a model of speed and angle cannot tell shots from other heights apart. ``predicting``: the
    height is the one the model was fitted at, not the ``height`` option."""
    if "height" not in shots:
        return
    other = np.flatnonzero(~np.isclose(shots["height"], height, rtol=1e-6, atol=1e-9))  # float32 files
    if other.size:
        row = int(other[0])
        found = f"{source}, data row {row + 1}, column 'height': {shots['height'][row]:g} m"
        if predicting:
            raise ValueError(f"{found}, but the model was fitted on shots launched from {height:g} m; "
                             "it cannot predict for another launch height")
        raise ValueError(f"{found}, but `height` is {height:g} m; fit the shots of one launch height, "
                         "given by `height`")


def predict_file(model_dir: str, shots: str, out: str) -> None:
    """Predictions of a saved model for the shots of a file, written to ``out`` as the input's
    columns (values unchanged) plus ``predicted`` (m)."""
    from hybridlab.estimators import load

    check_output_file(out, "out")
    model = load(model_dir)
    if not type(model).rung:  # a track, function or shot model: it does not predict ranges
        raise ValueError(f"model_dir {model_dir!r}: a saved {model.name!r} model, which does not predict ranges from "
                         "launches; predict takes a model of the ladder (hybridlab fit, or a run's models/<name>)")
    columns = read_shots(shots, require=("speed", "angle"), file_units=True, keep_other=True)
    check_heights(shots, columns, launch_height(model), predicting=True)
    launches = from_file_units(columns)
    columns["predicted"] = model.predict(np.column_stack([launches["speed"], launches["angle"]]))
    write_table(out, columns)


def launch_height(model: Regressor) -> float:
    """The launch height (m) of the shots ``model`` was fitted on: as recorded when it was
    fitted (``context_``), else its physics' height, else 0 (the command's default)."""
    if "height" in model.context_:
        return float(model.context_["height"])
    physics = getattr(model, "physics", None) or getattr(model, "prior", None)
    return float(physics.get("height", 0.0)) if isinstance(physics, Mapping) else 0.0
