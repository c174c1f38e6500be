"""The aiming section of a run: the exact inverse and the learned ones, checked on the truth.

For a scenario with an :class:`AimingCase`, the run answers "how must I launch to land at d?"
three ways and measures each against the true physics: exactly (:func:`hybridlab.inverse.aim`),
and by an :class:`~hybridlab.inverse.EncoderDecoder` through each of the run's fitted decoders
(the data-only MLP and the grey-box physics fit), trained on targets in a training range and
tested on held-out targets inside it and beyond it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jax
import numpy as np

from hybridlab.data import from_degrees, to_degrees
from hybridlab.inverse import EncoderDecoder, aim, evaluate_aim
from hybridlab.inverse.learned import quantiles
from hybridlab.networks.progress import Labelled

#: Held-out targets per test range.
N_TEST = 100


@dataclass(frozen=True)
class AimingCase:
    """A scenario's aiming section: the reference target ``distance`` (m), a ``published`` shot
    to check ((speed m/s, angle deg), or None), encoders trained on targets in [``near``,
    ``far``] m and tested inside that range and beyond it, up to ``beyond`` m, through the
    run's fitted rungs named in ``decoders`` (those the run fitted)."""

    distance: float
    published: tuple[float, float] | None
    near: float
    far: float
    beyond: float
    decoders: tuple[str, ...] = ("mlp", "physics")


def aiming_section(spec, fitted: dict, seed: int, quick: bool, progress, echo) -> tuple[dict, dict]:
    """(the ``aiming`` entry of metrics.json, the columns of aim.csv) for a scenario ``spec``
    with an aiming case and its fitted rungs ``fitted`` {name: model}. Angles in degrees."""
    case, truth = spec.aiming, spec.truth
    targets = _targets(case, seed, quick)
    # The held-out targets and the reference distance in one array: every exact aim (an ODE
    # solve for a drag law) is compiled once for its shape, and that costs more than the aims.
    every = np.concatenate([targets["interp"], targets["beyond"], [case.distance]])
    least = aim(truth, every, curve_points=0)
    speed, angle = np.asarray(least.speed), to_degrees(np.asarray(least.angle))
    columns = {"split": np.repeat(["interp", "beyond"], N_TEST), "distance": every[:-1],
               "least_speed": speed[:-1], "least_angle": angle[:-1]}
    section = {"distance": case.distance, "targets": {"train": [case.near, case.far], "beyond": [case.far, case.beyond]},
               "exact": {"least_speed": {"speed": float(speed[-1]), "angle": float(angle[-1])}},
               "published": _published(truth, case), "learned": {}}
    for name in (n for n in case.decoders if n in fitted):
        model = least_speed_encoder(spec, fitted[name], quick, seed)
        start = time.perf_counter()
        model.fit(targets["train"], progress=Labelled(progress, f"aim via {name}"))
        seconds = time.perf_counter() - start
        echo(f"  aim via {name:<6} trained in {seconds:6.1f} s")
        section["learned"][name] = _learned(model, truth, every, speed, seconds, columns, name)
    return section, columns


def _targets(case: AimingCase, seed: int, quick: bool) -> dict[str, np.ndarray]:
    """Training targets evenly over [near, far]; held-out ones drawn uniformly inside it and beyond."""
    inside, beyond = jax.random.split(jax.random.fold_in(jax.random.key(seed), 10))
    return {"train": np.linspace(case.near, case.far, 32 if quick else 64),
            "interp": np.asarray(jax.random.uniform(inside, (N_TEST,), minval=case.near, maxval=case.far)),
            "beyond": np.asarray(jax.random.uniform(beyond, (N_TEST,), minval=case.far, maxval=case.beyond))}


def least_speed_encoder(spec, decoder, quick: bool, seed: int) -> EncoderDecoder:
    """A least-speed encoder through ``decoder``, its launches kept in the scenario's speeds
    (training and extrapolation) and training angles: where the data decoder has seen shots."""
    speeds = (min(spec.speed[0], spec.extrap_speed[0]), max(spec.speed[1], spec.extrap_speed[1]))
    return EncoderDecoder(decoder, branch="least-speed", speeds=speeds, angles=tuple(from_degrees(spec.angle)),
                          epochs=500 if quick else 1500, polish=100 if quick else 300, seed=seed)


def _published(truth, case: AimingCase) -> dict | None:
    """Where the published shot really lands, and the exact arcs at its speed and the exact
    speed at its angle."""
    if case.published is None:
        return None
    speed, angle = case.published
    hits = aim(truth, case.distance, speed=speed)
    return {"speed": speed, "angle": angle, "lands_at": float(truth.range(speed, from_degrees(angle))),
            "arcs_at_speed": {"low": float(to_degrees(hits.low)), "high": float(to_degrees(hits.high))},
            "speed_at_angle": float(aim(truth, case.distance, angle=from_degrees(angle)))}


def _learned(model, truth, every, least_speed, seconds, columns, name) -> dict:
    """One encoder–decoder's metrics on ``every`` target (N_TEST inside, N_TEST beyond, then
    the reference distance), scored in one call (one compiled shape) against the exact
    ``least_speed`` of each; its per-target columns are added to ``columns``."""
    scored = evaluate_aim(model, truth, every, least_speed)["per_target"]
    entry = {"train_seconds": seconds, "shot": {"speed": float(scored["speed"][-1]),
                                                "angle": float(to_degrees(scored["angle"][-1])),
                                                "lands_at": float(scored["landed"][-1])}}
    for i, split in enumerate(("interp", "beyond")):
        rows = slice(i * N_TEST, (i + 1) * N_TEST)
        entry[split] = {key: quantiles(scored[key][rows]) for key in ("miss", "speed_excess")}
    for key in ("speed", "angle", "landed", "miss"):
        values = scored[key][:-1]
        columns[f"{name}_{key}"] = to_degrees(values) if key == "angle" else values
    return entry


def aiming_lines(section: dict) -> list[str]:
    """The aiming section in words, for the run's printed summary."""
    exact = section["exact"]["least_speed"]
    lines = [f"aiming at {section['distance']:g} m: least speed {exact['speed']:.6g} m/s at {exact['angle']:.5g}°"]
    published = section["published"]
    if published:
        lines.append(f"  published shot {published['speed']:g} m/s at {published['angle']:g}° lands at "
                     f"{published['lands_at']:.6g} m; exact arcs at that speed {published['arcs_at_speed']['low']:.6g}° "
                     f"and {published['arcs_at_speed']['high']:.6g}°")
    for name, entry in section["learned"].items():
        shot = entry["shot"]
        lines.append(f"  via {name:<8} {shot['speed']:.5g} m/s at {shot['angle']:.4g}° lands at {shot['lands_at']:.5g} m; "
                     f"median miss {entry['interp']['miss']['median']:.2%} inside, "
                     f"{entry['beyond']['miss']['median']:.2%} beyond the training targets")
    return lines
