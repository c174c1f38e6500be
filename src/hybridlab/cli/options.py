"""What the commands share: the physics and launch options (generated from the drag laws'
plain-data registry: printing the help imports no JAX), the seed's type, the degree checks,
and the one error of a command-line mistake."""

from __future__ import annotations

import argparse
import math

LAUNCH_HELP = "Units: speed in m/s, angle in degrees above the horizontal, mass in kg, g in m/s², height in m."


class UsageError(Exception):
    """A command-line mistake: reported in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def drag_laws() -> dict[str, dict[str, str]]:
    """Every built-in drag law's coefficients with a line of help each: what the command line
    offers as options (read from plain data: printing the help imports no JAX)."""
    from hybridlab.physics.laws import LAWS

    return {name: {coefficient: f"{law.title}: {coefficient} in {c.unit} (see {law.class_name})"
                   for coefficient, c in law.coefficients.items()} for name, law in LAWS.items()}


def fitted_laws() -> tuple[str, ...]:
    """The laws a fit from tracks names (``learn-drag --law``), from the physics' plain data."""
    from hybridlab.physics.laws import FITTED_LAWS

    return FITTED_LAWS


def gravity_option(parser, standard: bool = False, note: str = "") -> None:
    """--g in m/s²: by default the projectiles' g, or where ``standard`` standard gravity (where
    a fit of real measurements starts), from the physics' plain data."""
    from hybridlab.physics.constants import G, STANDARD_GRAVITY

    g = STANDARD_GRAVITY if standard else G
    parser.add_argument("--g", type=float, default=g, help=f"gravity in m/s² (default {g:g}{note})")


def physics_options(parser: argparse.ArgumentParser) -> None:
    from hybridlab.physics.laws import NO_DRAG


    group = parser.add_argument_group("physics (SI units)")
    group.add_argument("--mass", type=float, default=1.0, help="mass in kg (default 1)")
    gravity_option(group)
    group.add_argument("--height", type=float, default=0.0, help="launch height above the ground in m (default 0)")
    group.add_argument("--drag", choices=sorted(drag_laws()), default=NO_DRAG, help=f"drag law (default {NO_DRAG})")
    helps: dict[str, list[str]] = {}  # one option per coefficient name, whichever laws share it
    for coefficients in drag_laws().values():
        for name, text in coefficients.items():
            helps.setdefault(name, []).append(text)
    for name, texts in helps.items():
        group.add_argument(f"--{name}", type=float, default=None, help="; ".join(texts))


def parse_seed(text: str) -> int:
    """A --seed: an integer in [0, 2**63) (what a JAX key and NumPy's generators accept)."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 0 <= seed < 2**63:
        raise argparse.ArgumentTypeError(f"{seed} is outside [0, 2**63)")
    return seed


def launch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speed", type=float, required=True, help="launch speed in m/s")
    parser.add_argument("--angle", type=float, required=True, help="launch angle in degrees above the horizontal")


def physics_of(args) -> dict:
    """The physics options as :func:`~hybridlab.experiments.jobs.physics_spec` takes them."""
    names = {name for coefficients in drag_laws().values() for name in coefficients}
    return {"drag": args.drag, "coefficients": {name: getattr(args, name) for name in names}, "mass": args.mass,
            "g": args.g, "height": args.height}


def spec_of(args) -> dict:
    from hybridlab.experiments.jobs import physics_spec

    return physics_spec(**physics_of(args))


def check_angles(args, *angles: float) -> None:
    """UsageError unless every launch angle (degrees) is in [0, 90], or [-90, 90] from a
    height: checked here, where the user's unit is degrees, not later in the library's radians."""
    lowest = -90.0 if args.height > 0 else 0.0
    if not all(math.isfinite(a) and lowest <= a <= 90.0 for a in angles):
        shown = " ".join(f"{a:g}" for a in angles)
        where = "from a height (--height > 0)" if lowest else "from the ground (--height 0)"
        raise UsageError(f"--angle {shown}: must be in [{lowest:g}, 90] degrees {where}")
