"""Runs the code blocks of a Markdown page (the README, the site's pages under docs/) and
compares what they print with what the page shows, so that a documented example cannot break
silently.

A page runs in one fresh folder, its blocks in order, as a reader would type them:

- a ``console`` block: each ``$ `` line is one command; ``hybridlab …`` runs in-process
  (:func:`hybridlab.cli.main`), anything else in bash. The lines after a command, up to the next
  ``$ ``, are what it prints (stdout, then stderr);
- a ``python`` block: executed in one namespace per page (a later block uses an earlier one's
  names); what it prints is compared with the ``text`` block right after it when that block is
  marked ``output``.

An HTML comment right above a fence says how (invisible on the site):
``<!-- test: slow -->`` (only in ``make test-all``), ``<!-- test: skip: why -->`` (never run:
an install, a cluster), ``<!-- test: unchecked: why -->`` (run, output not compared),
``<!-- test: rtol=1e-2 -->`` (numbers compared to this relative tolerance; 1e-6 by default,
the digits of exact physics that differ from CPU to CPU), ``<!-- test: output -->`` (this
``text`` block is the previous ``python`` block's output). ``<!-- test-page: slow -->``
anywhere on a page makes the whole page slow.

Text is compared with its numbers taken out (whitespace normalised); numbers one by one, to the
tolerance. A figure the page shows (``![…](figures/name.png)``) must be written by the page's
own code into ``figures/`` of its folder; with ``HYBRIDLAB_DOCS_FIGURES=1`` it is copied next to
the page, which is how the site's figures are made (``make docs-figures``).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
MARK = re.compile(r"<!--\s*test:\s*(.*?)\s*-->")
DEFAULT_RTOL = 1e-6


@dataclass
class Block:
    """One fenced block: its language, first line in the file, text, and the options above it."""

    language: str
    line: int
    text: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def rtol(self) -> float:
        return float(self.options.get("rtol", DEFAULT_RTOL))


def pages() -> list[Path]:
    """The README and every page of the site, in a fixed order."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def page_is_slow(path: Path) -> bool:
    return "<!-- test-page: slow -->" in path.read_text()


def _options(comment: str) -> dict[str, str]:
    """``slow``, ``skip: why``, ``rtol=1e-2 output`` → a dict (a reason after a colon is kept)."""
    head, _, why = comment.partition(":")
    options = {}
    for word in head.split():
        key, _, value = word.partition("=")
        options[key] = value
    if why and head.split():
        options[head.split()[-1]] = why.strip()
    return options


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a page with the test options written right above it."""
    found, current, options = [], None, {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if current is None:
            mark = MARK.fullmatch(line.strip())
            if mark:
                options = _options(mark.group(1))
            elif line.startswith("```"):
                current = Block(line[3:].strip().split(" ")[0], number, "", options)
                options = {}
            elif line.strip():
                options = {}
        elif line.startswith("```"):
            found.append(current)
            current = None
        else:
            current.text += line + "\n"
    if current is not None:
        raise ValueError(f"{path.name}, line {current.line}: the block is never closed")
    return found


def same(shown: str, printed: str, rtol: float) -> str | None:
    """None where ``printed`` reads as ``shown`` (its text, and its numbers to ``rtol``), else why not."""
    words = [" ".join(NUMBER.sub("#", text).split()) for text in (shown, printed)]
    if words[0] != words[1]:
        return f"the page shows\n{shown}\nthe code printed\n{printed}"
    a, b = (np.array([float(x) for x in NUMBER.findall(text)]) for text in (shown, printed))
    # A number shown to d significant digits differs by up to half its last digit.
    digits = [_last_digit(x) for x in NUMBER.findall(shown)]
    allowed = np.maximum(rtol * np.abs(a), 0.5 * np.array(digits, dtype=float))
    if a.size and not np.all(np.abs(a - b) <= allowed):
        return f"numbers differ beyond rtol={rtol}: the page shows\n{shown}\nthe code printed\n{printed}"
    return None


def _last_digit(number: str) -> float:
    """The place value of the last digit written: '59.8258' → 1e-4, '1.2e-3' → 1e-4, '150' → 0."""
    mantissa, _, exponent = number.lower().partition("e")
    decimals = len(mantissa.partition(".")[2]) if "." in mantissa else 0
    if "." not in mantissa and not exponent:
        return 0.0  # an integer is exact
    return 10.0 ** (-decimals + int(exponent or 0))


def commands(block: Block) -> list[tuple[str, str]]:
    """(command, the output shown after it) of each ``$`` line of a console block."""
    found: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            found.append((line[2:].split("  #")[0].strip(), []))
        elif found:
            found[-1][1].append(line)
    return [(command, "\n".join(shown)) for command, shown in found]


def _run_command(command: str, folder: Path, capsys) -> tuple[int, str]:
    """Exit status and output (stdout, then stderr) of one command, run in ``folder``."""
    from hybridlab.cli import main

    command = command.replace(".venv/bin/", "")
    if command.startswith("hybridlab "):
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            status = main(shlex.split(command)[1:])
        finally:
            os.chdir(cwd)
        out, err = capsys.readouterr()
        return status, out + err
    if command.startswith("python "):
        command = shlex.join([sys.executable]) + command[len("python"):]
    done = subprocess.run(command, shell=True, cwd=folder, capture_output=True, text=True, timeout=900,
                          executable="/bin/bash")
    return done.returncode, done.stdout + done.stderr


def _check_console(path: Path, block: Block, folder: Path, capsys) -> None:
    for command, shown in commands(block):
        status, printed = _run_command(command, folder, capsys)
        where = f"{path.name}, line {block.line}: $ {command}"
        if shown.startswith("hybridlab: error:"):
            assert status == 2 and printed.strip() == shown.strip(), f"{where}\n{printed}"
            continue
        assert status == 0, f"{where}: exit status {status}\n{printed}"
        if "unchecked" not in block.options:
            why = same(shown, printed.rstrip("\n"), block.rtol)
            assert why is None, f"{where}: {why}"


def _run_python(path: Path, block: Block, folder: Path, scope: dict) -> str:
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(block.text, f"{path.name}, line {block.line}", "exec"), scope)
    finally:
        os.chdir(cwd)
    return out.getvalue()


def run_page(path: Path, folder: Path, capsys, slow: bool) -> int:
    """Run a page's blocks in ``folder``; returns how many ran. ``slow``: the blocks marked slow too."""
    scope: dict = {"__name__": "__docs__"}
    printed, ran = None, 0
    for block in blocks(path):
        if "skip" in block.options or ("slow" in block.options and not slow):
            printed = None
            continue
        if block.language == "console":
            _check_console(path, block, folder, capsys)
        elif block.language == "python":
            printed = _run_python(path, block, folder, scope)
        elif block.language == "text" and "output" in block.options:
            assert printed is not None, f"{path.name}, line {block.line}: an output block after no python block"
            if "unchecked" not in block.options:
                why = same(block.text.rstrip("\n"), printed.rstrip("\n"), block.rtol)
                assert why is None, f"{path.name}, line {block.line}: {why}"
            printed = None
            continue
        else:
            continue
        ran += 1
    _check_figures(path, folder)
    return ran


def _check_figures(path: Path, folder: Path) -> None:
    """Every figure the page shows was written by its code (and is copied next to the page when
    ``HYBRIDLAB_DOCS_FIGURES=1``)."""
    for name in re.findall(r"!\[[^\]]*\]\((figures/[^)\s]+\.png)\)", path.read_text()):
        made = folder / name
        assert made.is_file(), f"{path.name}: its code did not write {name}"
        if os.environ.get("HYBRIDLAB_DOCS_FIGURES") == "1":
            target = path.parent / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(made, target)
