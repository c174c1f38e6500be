"""MkDocs hooks of the documentation site (mkdocs.yml): the command-line reference is written
from the parser itself, so that it cannot fall behind the commands.

A page that holds the line ``<!-- cli-reference -->`` gets, in its place, each command's
``--help`` as the parser prints it, one section per command, in the order ``hybridlab --help``
lists them.
"""

from __future__ import annotations

import argparse
import io
from contextlib import redirect_stdout

MARKER = "<!-- cli-reference -->"


def _help(parser: argparse.ArgumentParser) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        parser.print_help()
    return out.getvalue().rstrip()


def cli_reference() -> str:
    """Markdown: ``hybridlab --help``, then one section per command with its ``--help``."""
    import os

    os.environ["COLUMNS"] = "80"  # argparse wraps at the terminal's width: one width, the page's column
    from hybridlab.cli import build_parser

    parser = build_parser()
    (commands,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    parts = ["```text", _help(parser), "```"]
    for name, sub in commands.choices.items():
        parts += ["", f"## `hybridlab {name}`", "", "```text", _help(sub), "```"]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_reference())
    return markdown
