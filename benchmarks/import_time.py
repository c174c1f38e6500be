"""What a fresh process pays before it computes anything: the imports (issue 29).

    .venv/bin/python benchmarks/import_time.py [--python PATH]... [--repeat N]

For each interpreter (default: this one; --python more than once compares venvs in one run,
interleaved), each step below runs as a new process, --repeat times (default 5), and the
median wall time (time.perf_counter around subprocess.run) is printed with the versions of
ml_dtypes and JAX it found:
  ml_dtypes        python -c "import ml_dtypes" (JAX's dtypes: JAX imports it first)
  jax              python -c "import jax; jax.numpy.zeros(1)" (the import and the CPU backend)
  hybridlab --help python -m hybridlab --help (no JAX: the floor of a command)
  hybridlab info   python -m hybridlab info (JAX imported, its devices listed)
Environment: HYBRIDLAB_DAEMON=off, JAX_PLATFORMS=cpu. The machine's load average is printed at
the start and the end (compare interpreters within one run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

STEPS = {
    "ml_dtypes": ["-c", "import ml_dtypes"],
    "jax": ["-c", "import jax; jax.numpy.zeros(1)"],
    "hybridlab --help": ["-m", "hybridlab", "--help"],
    "hybridlab info": ["-m", "hybridlab", "info"],
}
VERSIONS = "import importlib.metadata as m; print(m.version('ml_dtypes'), m.version('jax'))"


def _seconds(python: str, argv: list[str]) -> float:
    environment = {**os.environ, "HYBRIDLAB_DAEMON": "off", "JAX_PLATFORMS": "cpu"}
    start = time.perf_counter()
    subprocess.run([python, *argv], check=True, capture_output=True, env=environment)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", help="an interpreter to time (repeatable)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    pythons = args.python or [sys.executable]
    print(f"load average at the start: {os.getloadavg()}")
    times = {(python, step): [] for python in pythons for step in STEPS}
    for _ in range(args.repeat):
        for step, argv in STEPS.items():
            for python in pythons:
                times[python, step].append(_seconds(python, argv))
    for python in pythons:
        versions = subprocess.run([python, "-c", VERSIONS], check=True, capture_output=True, text=True).stdout.split()
        print(f"\n{python}: ml_dtypes {versions[0]}, jax {versions[1]}")
        for step in STEPS:
            print(f"  {step:<18} {statistics.median(times[python, step]):6.2f} s (median of {args.repeat})")
    print(f"\nload average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
