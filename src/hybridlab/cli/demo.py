"""`hybridlab demo`: the lecture's shot put: range tables and timing."""

from __future__ import annotations


def register(commands) -> None:
    """The `demo` command's parser."""
    sub = commands.add_parser("demo", help="the lecture's shot put: range tables and timing")
    sub.set_defaults(run=run)


def run(args) -> None:
    from hybridlab.experiments.demo import demo

    print(demo())
