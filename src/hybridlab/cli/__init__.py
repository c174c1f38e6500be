"""The ``hybridlab`` command: parse, call the library, print. Angles are degrees here.

One module per command (``register``: its parser; ``run``: parse → one library call →
print), the options they share in :mod:`.options`. Every error a user can cause (a bad number,
an invalid parameter) ends in one line on stderr and exit status 2, with no traceback and no
partial output file.
"""

from __future__ import annotations

import importlib
import re
import sys

from hybridlab import __version__, stopping
from hybridlab.cli.options import Parser, UsageError

#: The commands' modules, in the order ``--help`` lists them (each imports only the standard
#: library until it runs: printing the help imports no JAX).
COMMANDS = ("info", "shot_range", "aim", "trajectory", "recover_wind", "solve", "simulate", "learn_drag", "drops",
            "run", "sweep", "fit", "predict", "demo")


def build_parser() -> Parser:
    parser = Parser(prog="hybridlab", description="Hybrid scientific machine learning on the projectile.")
    parser.add_argument("--version", action="version", version=f"hybridlab {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in COMMANDS:
        importlib.import_module(f"hybridlab.cli.{name}").register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status: 0, 2 for any error the user can cause (one
    line on stderr), 128 + the signal's number for SIGINT (130) or SIGTERM (143)."""
    args = None
    with stopping.catching():
        try:
            args = build_parser().parse_args(argv)
            from hybridlab.experiments.errors import user_errors

            with user_errors():
                args.run(args)
        except Exception as error:
            if stopping.taken() is not None:  # a stop raised inside a library's callback comes back as its error
                print(stopping.message(stopping.taken()), file=sys.stderr)
                return 128 + stopping.taken()
            if not isinstance(error, (UsageError, ValueError, OSError)):
                raise
            message = str(error) if args is None else _flagged(str(error), set(vars(args)))
            print(f"hybridlab: error: {message}", file=sys.stderr)
            return 2
        except stopping.Stopped as stop:
            print(stopping.message(stop.number), file=sys.stderr)
            return 128 + stop.number
    return 0


def _flagged(message: str, flags: set[str]) -> str:
    """A library message with the parameters it names written as this command's flags:
    ``k = -1.0: …`` → ``--k -1.0: …``, ```height` is 0 m`` → ``--height is 0 m`` and
    ``…, for speed = 1e+300 m/s`` → ``…, for --speed 1e+300 m/s``. The angle
    keeps its name: the library speaks of it in radians, the command line in degrees."""
    flags = flags - {"angle"}

    def flag(name: str) -> str:
        return "--" + name.replace("_", "-")

    first = re.match(r"(\w+)( = |: )", message)
    if first and first.group(1) in flags:
        message = f"{flag(first.group(1))}{' ' if first.group(2) == ' = ' else ': '}{message[first.end():]}"
    message = re.sub(r"`(\w+)`", lambda m: flag(m.group(1)) if m.group(1) in flags else m.group(1), message)
    head, sep, given = message.partition(", for ")  # the physics' closing list: "for speed = 1e+300 m/s, mass = …"
    given = re.sub(r"\b(\w+) = ", lambda m: flag(m.group(1)) + " " if m.group(1) in flags else m.group(0), given)
    return head + sep + given
