"""`hybridlab demo`: the lecture's shot put: range tables and timing."""

from __future__ import annotations


def register(commands) -> None:
    """The `demo` command's parser."""
    sub = commands.add_parser(
        "demo", help="the lecture's shot put: range tables and timing",
        description="The hybrid lecture's shot put (7.26 kg, Stokes drag k = 1.8 kg/s): its range in m over a grid "
                    "of launch speeds and angles, beside the same without drag; the lecture's test vector; and how "
                    "long the lecture's 100 × 100 grid takes once compiled.")
    sub.set_defaults(run=run)


def run(args) -> None:
    from hybridlab.experiments.demo import demo

    print(demo())
