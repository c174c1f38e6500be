"""Physical models as JSON: how a grey-box or hybrid rung records the physics it was given."""

from __future__ import annotations

from typing import Any

import equinox as eqx

from hybridlab.physics import LinearDrag, NoDrag, Projectile, QuadraticDrag

DRAGS = {"none": NoDrag, "linear": LinearDrag, "quadratic": QuadraticDrag}
#: Every parameter a fit may leave unknown: where it lives in a Projectile, and its unit.
PARAMETERS = {
    "k": (lambda p: p.drag.k, "kg/s"),
    "c": (lambda p: p.drag.c, "kg/m"),
    "g": (lambda p: p.g, "m/s²"),
    "mass": (lambda p: p.mass, "kg"),
    "height": (lambda p: p.height, "m"),
}


def projectile_from(spec: dict[str, Any]) -> Projectile:
    """A Projectile from ``{"drag": "none"|"linear"|"quadratic", "k"|"c": …, "mass": …, "g": …,
    "height": …}`` (SI units; missing entries take Projectile's defaults)."""
    spec = dict(spec)
    drag = spec.pop("drag", "none")
    if drag not in DRAGS:
        raise ValueError(f"drag = {drag!r}: must be one of {sorted(DRAGS)}")
    coefficient = {"linear": "k", "quadratic": "c"}.get(drag)
    law = DRAGS[drag](spec.pop(coefficient)) if coefficient in spec else DRAGS[drag]()
    unknown = set(spec) - {"mass", "g", "height"}
    if unknown:
        raise ValueError(f"physics parameters {sorted(unknown)} do not apply to drag = {drag!r}")
    return Projectile(law, **spec)


def describe(projectile: Projectile) -> dict[str, Any]:
    """The JSON description that ``projectile_from`` turns back into ``projectile``."""
    name = next(key for key, law in DRAGS.items() if type(projectile.drag) is law)
    spec: dict[str, Any] = {"drag": name}
    if name == "linear":
        spec["k"] = float(projectile.drag.k)
    if name == "quadratic":
        spec["c"] = float(projectile.drag.c)
    spec.update(mass=float(projectile.mass), g=float(projectile.g), height=float(projectile.height))
    return spec


def label(spec: dict[str, Any]) -> str:
    """A one-line human description, e.g. ``linear drag k=0.45 kg/s, m=7.26 kg``."""
    drag = {"none": "no drag", "linear": "linear drag", "quadratic": "quadratic drag"}[spec.get("drag", "none")]
    parts = [f"{name}={spec[name]:g} {PARAMETERS[name][1]}" for name in ("k", "c") if name in spec]
    parts += [f"m={spec['mass']:g} kg"] if "mass" in spec else []
    parts += [f"h={spec['height']:g} m"] if spec.get("height") else []
    parts += [f"g={spec['g']:g} m/s²"] if spec.get("g", 9.81) != 9.81 else []
    return f"{drag} " + ", ".join(parts) if parts else drag


def with_parameters(projectile: Projectile, names, values) -> Projectile:
    """``projectile`` with the named parameters replaced by ``values`` (traceable)."""
    getters = [PARAMETERS[name][0] for name in names]
    return eqx.tree_at(lambda p: [get(p) for get in getters], projectile, list(values))


def check_unknown(spec: dict[str, Any], unknown) -> tuple[str, ...]:
    """The unknown parameter names, checked against the drag law; a ValueError names a bad one."""
    unknown = tuple(unknown)
    allowed = {"none": ("g", "mass", "height"), "linear": ("k", "g", "mass", "height"),
               "quadratic": ("c", "g", "mass", "height")}[spec.get("drag", "none")]
    if not unknown:
        raise ValueError("unknown: name at least one parameter to fit")
    for name in unknown:
        if name not in allowed:
            raise ValueError(f"unknown parameter {name!r} does not apply to drag = {spec.get('drag', 'none')!r}; "
                             f"choose from {allowed}")
    if len(set(unknown)) != len(unknown):
        raise ValueError(f"unknown = {unknown}: a parameter is named twice")
    return unknown
