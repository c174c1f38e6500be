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
anywhere on a page makes the whole page slow. An option the runner does not know, a fence it
cannot read, or output a python block printed and the page does not show fails the page.

An integer (a count, a shape, a percentage) must be printed exactly, whatever the tolerance.

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


#: What a ``<!-- test: … -->`` comment may say; anything else is a mistake that would leave a
#: block unchecked, and fails.
OPTIONS = ("slow", "skip", "unchecked", "rtol", "output")
#: The fences a page may use: the ones that run, the ones that show output, and ``sh`` (a shell
#: recipe shown, never run: an install).
LANGUAGES = ("python", "console", "text", "sh")


def _options(comment: str, where: str) -> dict[str, str]:
    """``slow``, ``skip: why``, ``rtol=1e-2 output`` → a dict (a reason after a colon is kept);
    ValueError for a word it does not know."""
    head, _, why = comment.partition(":")
    options = {}
    for word in head.split():
        key, _, value = word.partition("=")
        if key not in OPTIONS:
            raise ValueError(f"{where}: unknown test option {key!r}; known: {', '.join(OPTIONS)}")
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
                options = _options(mark.group(1), f"{path.name}, line {number}")
            elif line.lstrip().startswith(("```", "~~~")):
                language = line.strip()[3:].strip().split(" ")[0]
                if line.startswith(("    ", "~~~")) or language not in LANGUAGES:
                    raise ValueError(f"{path.name}, line {number}: a fence the docs test cannot read ({line.strip()!r}):"
                                     f" use ``` at the line's start and one of {', '.join(LANGUAGES)}")
                current = Block(language, number, "", options)
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
    # A number shown to d significant digits differs by up to half its last digit; an integer
    # (a count, a shape, a percentage) is exact whatever the tolerance.
    tokens = NUMBER.findall(shown)
    digits = np.array([_last_digit(x) for x in tokens], dtype=float)
    integer = np.array([not re.search(r"[.eE]", x) for x in tokens], dtype=bool)
    allowed = np.where(integer, 0.0, np.maximum(rtol * np.abs(a), 0.5 * digits))
    if a.size and not np.all(np.abs(a - b) <= allowed):
        return f"numbers differ beyond rtol={rtol}: the page shows\n{shown}\nthe code printed\n{printed}"
    return None


def _last_digit(number: str) -> float:
    """The place value of the last digit written: '59.8258' → 1e-4, '1.2e-3' → 1e-4, '150' → 0,
    and 0 for NumPy's '1.' (a rounded array entry whose precision the text does not show)."""
    mantissa, _, exponent = number.lower().partition("e")
    if "." not in mantissa and not exponent or mantissa.endswith("."):
        return 0.0
    decimals = len(mantissa.partition(".")[2]) if "." in mantissa else 0
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
    """Run a page's blocks in ``folder``; returns how many ran. ``slow``: the blocks marked slow
    too. What a python block prints must be shown by the output block right after it (or the
    block marked ``unchecked``)."""
    scope: dict = {"__name__": "__docs__"}
    printed, ran = None, 0
    for block in blocks(path):
        if "skip" in block.options or ("slow" in block.options and not slow):
            continue
        if block.language == "text" and "output" in block.options:
            assert printed is not None, f"{path.name}, line {block.line}: an output block after no python block"
            if "unchecked" not in block.options:
                why = same(block.text.rstrip("\n"), printed.rstrip("\n"), block.rtol)
                assert why is None, f"{path.name}, line {block.line}: {why}"
            printed = None
            continue
        assert not printed, f"{path.name}: a python block printed output the page does not show:\n{printed}"
        if block.language == "console":
            _check_console(path, block, folder, capsys)
        elif block.language == "python":
            printed = _run_python(path, block, folder, scope)
            printed = None if "unchecked" in block.options else printed
        else:
            continue
        ran += 1
    assert not printed, f"{path.name}: its last python block printed output the page does not show:\n{printed}"
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
