"""Issue 28 §3: every command of the README runs, so that a documented command cannot break
silently. The README's console blocks are read, their ``$`` lines run in order in one folder
(a later command uses an earlier one's files); ``hybridlab`` commands run in-process.

The fast suite runs each command, or, where the README's takes long, a cheap sibling of it
(:data:`SIBLINGS`: the same command on smaller work); ``make test-all`` runs them as written.
A command shown with an error gets exit status 2 and that line; the others exit 0. The exact
physics (``range``, ``aim``) must print the README's numbers (to 1e-6: the last digits of a
long number may differ from CPU to CPU).
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hybridlab.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"
# No L-BFGS polish: its step count is compiled into its program (5 s here); test_solvers.py
# polishes the same Ritz network.
_EXTRA = " --epochs 30 --polish 0"
#: README command → its cheap sibling in the fast suite (None: the slow suite only; what it
#: does is tested more cheaply in the file named beside it).
SIBLINGS = {
    "hybridlab run --out runs/shotput": None,  # test_experiments.py
    "hybridlab solve --method pinn --speed 15 --angle 60 --mass 7.26 --drag linear --k 1.8 --json --out pinn.csv":
        None,  # test_solvers.py, test_probe_solve.py
    "hybridlab solve --method ritz --to 20 5 --time 2 --mass 7.26 --drag linear --k 1.8":
        "hybridlab solve --method ritz --to 20 5 --time 2 --mass 7.26 --drag linear --k 1.8" + _EXTRA,
    "hybridlab trajectory --drag linear --k 0.1 --mass 0.43 --speed 25 --angle 45 --wind 2,2,2,2,6,6,6,6 "
    "--wind-until 3.2 --points 120 --noise 0.01 --out track.csv": None,  # test_wind_recovery.py
    "hybridlab recover-wind track.csv --mass 0.43 --k 0.1 --out gust": None,  # test_wind_recovery.py
    "hybridlab run --scenario equations": None,  # test_solvers.py
    "hybridlab run --scenario forecast --quick --out fc": None,  # test_forecasting.py
    "hybridlab sweep --scenario cuberoot --seeds 3 --quick --out sw": None,  # test_sweep.py
    ".venv/bin/hybridlab learn-drag golf_drop1.csv --mass 0.045926 --diameter 0.043927 --method fit --law quadratic "
    "--fit-g --train-until 2 "
    "--out golf": None,  # test_learning.py, test_probe_dynamics.py
}
#: Commands whose printed numbers are the exact physics, the same on every machine.
EXACT = ("range", "aim")


def commands() -> list[tuple[int, str, list[str]]]:
    """(line, command, the output the README shows) of every ``$`` line of a console block."""
    found, block = [], False
    for number, line in enumerate(README.read_text().splitlines(), start=1):
        if line.startswith("```"):
            block = not block
        elif block and line.startswith("$ "):
            found.append((number, line[2:].split("  #")[0].strip(), []))
        elif block and found and found[-1][0] < number and not line.startswith("$"):
            if _open_block(found[-1][0], number):
                found[-1][2].append(line)
    return found


def _open_block(start: int, line: int) -> bool:
    """Whether lines start..line of the README lie in one code block."""
    between = README.read_text().splitlines()[start:line - 1]
    return not any(text.startswith("```") for text in between)


def test_the_readme_has_the_commands_this_file_knows():
    shown = {command for _, command, _ in commands()}
    assert len(shown) >= 20
    assert set(SIBLINGS) <= shown, set(SIBLINGS) - shown


def _run(command: str, folder: Path, capsys) -> tuple[int, str]:
    """Exit status and output (stdout, then stderr) of one README command, run in ``folder``."""
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
    done = subprocess.run(command, shell=True, cwd=folder, capture_output=True, text=True, timeout=600,
                          executable="/bin/bash")
    return done.returncode, done.stdout + done.stderr


def _numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)]


def _check(line: int, command: str, shown: list[str], status: int, output: str) -> None:
    errors = [text for text in shown if text.startswith("hybridlab: error:")]
    if errors:
        assert status == 2 and output.strip().splitlines() == errors, (line, output)
        return
    assert status == 0, (line, command, output)
    program = command.split()[1] if command.startswith("hybridlab ") else None
    if program in EXACT and shown:
        assert np.allclose(_numbers(output), _numbers("\n".join(shown)), rtol=1e-6, atol=0), (line, output)


def _replay(tmp_path, capsys, cheap: bool) -> None:
    for line, command, shown in commands():
        if command.startswith("pip "):
            continue  # installing is make's work
        run = SIBLINGS.get(command, command) if cheap else command
        if run is None:
            continue
        status, output = _run(run, tmp_path, capsys)
        _check(line, run, shown if run == command else [], status, output)


def test_every_readme_command_runs_cheaply(tmp_path, capsys):
    _replay(tmp_path, capsys, cheap=True)


@pytest.mark.slow  # the README's commands as written: full runs, a sweep, trained networks (~10 min)
def test_every_readme_command_runs_as_written(tmp_path, capsys):
    _replay(tmp_path, capsys, cheap=False)


@pytest.mark.slow
def test_the_forecasting_example_runs():
    """The README's Python example of the forecasters runs as written and gives a 90 % interval
    (18 s, its two simulations' compiles: test_forecasting.py checks the same calls on smaller work)."""
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    (example,) = [block for block in blocks if "EchoStateNetwork" in block]
    scope: dict = {}
    exec(compile(example, "README.md", "exec"), scope)
    low, high = scope["low"], scope["high"]
    assert low.shape == (3, 10, 2) and np.all(high > low)
