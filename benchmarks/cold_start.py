"""Cold start (issue 29, item 1): the whole-process time of hybridlab commands, each beside the
plain SciPy script a user would otherwise write, timed in the same run.

    .venv/bin/python benchmarks/cold_start.py [--repeat N] [--quick] [--only NAME[,NAME]]
                                              [--timeout S] [--json PATH] [--keep]

Commands (NAME: hybridlab command | SciPy script in benchmarks/scipy_scripts/):
  help             hybridlab --help (and every `hybridlab CMD --help`, once each) | none
  range-linear     range --speed 30 --angle 40 --drag linear --k 0.45 --mass 7.26 | range_linear.py
  range-quadratic  range --speed 40 --angle 35, a baseball (quadratic, c 9e-4 kg/m, 0.145 kg)
                   | range_quadratic.py
  fit-linear       fit --model physics --drag linear --unknown k on 800 simulated shot puts
                   | fit_linear.py
  fit-quadratic    fit --model physics --drag quadratic --unknown c on 200 baseballs
                   | fit_quadratic.py
  aim              aim --distance 100 --speed 40, a baseball (out of reach) | aim_quadratic.py
  predict          predict with the model of fit-linear on its 800 shots | predict_linear.py
                   (with the k that fit_linear.py saved)
  learn-drag       learn-drag --method fit --law quadratic --fit-g on one 30-point baseball track
                   | learn_drag.py
  solve-exact      solve --method exact --speed 20 --angle 45 --drag linear --k 0.45 | solve_exact.py
  solve-pinn       solve --method pinn, the same shot, default epochs | solve_exact.py
  recover-wind     recover-wind --method tikhonov on the README's gust track | recover_wind.py
The inputs are written once, at the start, into a temporary directory by `hybridlab simulate`
and `hybridlab trajectory` (fixed seeds); both sides read the same files.

Measured, each in a new process, wall time from start to exit (time.perf_counter around
subprocess.run), with JAX_PLATFORMS=cpu:
  hybridlab cold    with an empty compilation cache (HYBRIDLAB_CACHE = a new directory), and
                    so (the cache is part of its key) no warm process (hybridlab.daemon) yet:
                    the command starts one and hands its work to it, as a user's first run;
  hybridlab second  again, a new process, the same cache: handed to the warm process the
                    cold run left (a user's next command within its idle time);
  own process       again, the same cache, HYBRIDLAB_DAEMON=off: the command does the work in
                    its own process, with only the persistent compilation cache to help;
  SciPy             the script, twice per repeat (cold and warm are the same thing for it).
Each is repeated --repeat times (default 3; --quick: 1), interleaved, and the medians are
reported. Every run has a time limit (--timeout, default 600 s); a run past it is killed and
reported as a timeout. The warm processes this benchmark starts (their sockets in its own
XDG_RUNTIME_DIR) are ended after each repeat and at the end.
Then each command runs once more, cold and second, in its own process under benchmarks/
_breakdown.py, which splits its time into import (every module loaded, up front or later),
JAX trace, lowering + XLA compile, and the rest (see that file); the main table shows the
cold run's split, a second table both, with the interpreter's start and exit ("outside").
The "agrees" column compares the last second run's printed answer (or written file) with the
SciPy script's.

Targets (issue 29), printed PASS/MISS: `hybridlab --help` < 0.5 s, and every `CMD --help`;
second run <= SciPy + 1.2 s (also printed for the own-process second run); first (cold) run
<= 10 s (20 s for solve-pinn).
Also printed: the machine, the git commit, and the load average at the start and the end
(the machine may be shared: compare ratios within one run).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "scipy_scripts"
BREAKDOWN = Path(__file__).resolve().parent / "_breakdown.py"
_ENTRY = Path(sys.executable).with_name("hybridlab")
HYBRIDLAB = [str(_ENTRY)] if _ENTRY.exists() else [sys.executable, "-m", "hybridlab"]

SHOTPUT = ["--drag", "linear", "--k", "0.45", "--mass", "7.26"]
BASEBALL = ["--drag", "quadratic", "--c", "0.0009", "--mass", "0.145"]
FIRST_RUN_LIMIT = {"solve-pinn": 20.0}  # s; the others 10 s
HELP_LIMIT, SECOND_RUN_MARGIN, DEFAULT_FIRST_RUN_LIMIT = 0.5, 1.2, 10.0

# Inputs: name -> (file name, command). "{name}" is another input's path, "{out}" this one's;
# a hybridlab command unless it starts with a .py script (run by this Python).
INPUTS = {
    "shots-linear": ("shots_linear.csv", ["simulate", "--n", "800", *SHOTPUT, "--seed", "0", "--out", "{out}"]),
    "shots-quadratic": ("shots_quadratic.csv", ["simulate", "--n", "200", "--speed", "10", "45", "--angle", "5",
                                                "60", *BASEBALL, "--seed", "0", "--out", "{out}"]),
    "track": ("track.csv", ["simulate", "--tracks", "1", "--points", "30", "--speed", "30", "30", "--angle", "40",
                            "40", *BASEBALL, "--seed", "0", "--out", "{out}"]),
    "gust-track": ("gust_track.csv", ["trajectory", "--drag", "linear", "--k", "0.1", "--mass", "0.43", "--speed",
                                      "25", "--angle", "45", "--wind", "2,2,2,2,6,6,6,6", "--wind-until", "3.2",
                                      "--points", "120", "--noise", "0.01", "--seed", "0", "--out", "{out}"]),
    "model-linear": ("model_linear", ["fit", "{shots-linear}", "--model", "physics", *SHOTPUT[:2], "--k", "1.0",
                                      "--mass", "7.26", "--unknown", "k", "--out", "{out}"]),
    "model-linear-scipy": ("model_linear_scipy.json", ["fit_linear.py", "{shots-linear}", "{out}"]),
}


@dataclass
class Run:
    """One process: wall seconds (None unless it exited 0), "ok" / "timeout" / "rc=N", its
    standard output and its working directory."""

    seconds: float | None
    status: str
    stdout: str
    cwd: Path


@dataclass
class Case:
    name: str
    hybridlab: list[str]
    scipy: list[str] | None = None  # script and arguments
    check: Callable[[Run, Run], str] | None = None
    split: bool = True  # run it in _breakdown.py (not --help: the wrapper itself imports JAX)
    argv: list[str] = field(default_factory=list)  # resolved: the inputs' paths in place
    scipy_argv: list[str] | None = None
    runs: dict = field(default_factory=lambda: {"cold": [], "second": [], "own": [], "scipy": []})
    breakdown: dict = field(default_factory=dict)
    agrees: str = ""


# Agreement checks: the last second run against the last SciPy run -----------------------------
def _floats(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"[-+]?\d+\.?\d*(?:[eE][-+]?\d+)?", text)]


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def same_number(h: Run, s: Run) -> str:
    a, b = _floats(h.stdout)[0], _floats(s.stdout)[0]
    return f"{a!r} vs {b!r} (rel {_rel(a, b):.1e})"


def same_lines(*prefixes: str) -> Callable[[Run, Run], str]:
    """The printed lines starting with ``prefixes``: identical, or which differ."""
    def check(h: Run, s: Run) -> str:
        def lines(run):
            return {p: next((ln for ln in run.stdout.splitlines() if ln.startswith(p)), None) for p in prefixes}
        def first(line, prefix):  # the first number after the prefix
            return (_floats(line[len(prefix):]) or ["?"])[0] if line else "missing"
        mine, theirs = lines(h), lines(s)
        differ = [f"{p.strip(' =:')} {first(mine[p], p)} vs {first(theirs[p], p)}" for p in prefixes
                  if mine[p] != theirs[p] or mine[p] is None]
        same = len(prefixes) - len(differ)
        return f"{same}/{len(prefixes)} lines same" + (f"; differ: {', '.join(differ)}" if differ else "")
    return check


def _csv(path: Path):
    import numpy as np

    return np.genfromtxt(path, delimiter=",", names=True)


def same_predictions(h: Run, s: Run) -> str:
    import numpy as np

    a, b = _csv(h.cwd / "pred.csv")["predicted"], _csv(s.cwd / "pred.csv")["predicted"]
    return f"max rel {np.max(np.abs(a - b) / np.abs(b)):.1e} over {a.size}"


def same_path(h: Run, s: Run) -> str:
    import numpy as np

    a, b = _csv(h.cwd / "path.csv"), _csv(s.cwd / "path.csv")
    xy = [np.r_[p["x"], p["y"]] for p in (a, b)]
    return f"rel L2 {np.linalg.norm(xy[0] - xy[1]) / np.linalg.norm(xy[1]):.1e} vs solve_ivp"


def same_wind_error(h: Run, s: Run) -> str:
    def error(run):
        found = re.search(r"relative error (\S+)", run.stdout)
        return found.group(1) if found else "?"
    return f"rel error {error(h)} vs {error(s)}"


CASES = [
    Case("help", ["--help"], split=False),
    Case("range-linear", ["range", "--speed", "30", "--angle", "40", *SHOTPUT],
         ["range_linear.py", "30", "40", "0.45", "7.26"], same_number),
    Case("range-quadratic", ["range", "--speed", "40", "--angle", "35", *BASEBALL],
         ["range_quadratic.py", "40", "35", "0.0009", "0.145"], same_number),
    Case("fit-linear", ["fit", "{shots-linear}", "--model", "physics", "--drag", "linear", "--k", "1.0", "--mass",
                        "7.26", "--unknown", "k", "--out", "model"],
         ["fit_linear.py", "{shots-linear}", "model.json"], same_lines("k = ")),
    Case("fit-quadratic", ["fit", "{shots-quadratic}", "--model", "physics", "--drag", "quadratic", "--c", "0.0005",
                           "--mass", "0.145", "--unknown", "c", "--out", "model"],
         ["fit_quadratic.py", "{shots-quadratic}"], same_lines("c = ")),
    Case("aim", ["aim", "--distance", "100", "--speed", "40", *BASEBALL],
         ["aim_quadratic.py", "100", "40", "0.0009", "0.145"], same_lines("unreachable:", "least speed:")),
    Case("predict", ["predict", "{model-linear}", "{shots-linear}", "--out", "pred.csv"],
         ["predict_linear.py", "{model-linear-scipy}", "{shots-linear}", "pred.csv"], same_predictions),
    Case("learn-drag", ["learn-drag", "{track}", "--method", "fit", "--law", "quadratic", "--fit-g", "--mass", "0.145",
                        "--out", "learned"],
         ["learn_drag.py", "{track}"], same_lines("c = ", "g = ", "x0 = ", "y0 = ", "vx0 = ", "vy0 = ")),
    Case("solve-exact", ["solve", "--method", "exact", "--speed", "20", "--angle", "45", "--drag", "linear",
                         "--k", "0.45", "--out", "path.csv"],
         ["solve_exact.py", "20", "45", "0.45", "1", "path.csv"], same_path),
    Case("solve-pinn", ["solve", "--method", "pinn", "--speed", "20", "--angle", "45", "--drag", "linear",
                        "--k", "0.45", "--out", "path.csv"],
         ["solve_exact.py", "20", "45", "0.45", "1", "path.csv"], same_path),
    Case("recover-wind", ["recover-wind", "{gust-track}", "--mass", "0.43", "--k", "0.1", "--method", "tikhonov",
                          "--out", "wind"],
         ["recover_wind.py", "{gust-track}", "0.43", "0.1"], same_wind_error),
]


# Processes -----------------------------------------------------------------------------------
def timed(command: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> Run:
    env = dict(os.environ, JAX_PLATFORMS="cpu", **(env or {}))
    cwd.mkdir(parents=True)
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired as stop:
        out = stop.stdout.decode(errors="replace") if isinstance(stop.stdout, bytes) else (stop.stdout or "")
        return Run(None, "timeout", out, cwd)
    seconds = time.perf_counter() - start
    if done.returncode:
        print(f"    rc={done.returncode}: {' '.join(command)}\n    {done.stderr.strip()[-600:]}", flush=True)
        return Run(None, f"rc={done.returncode}", done.stdout, cwd)
    return Run(seconds, "ok", done.stdout, cwd)


class Workspace:
    """A temporary directory: the inputs (each made once, when a command first needs it) and a
    new working directory per run."""

    def __init__(self, root: Path, timeout: float):
        self.root, self.timeout, self.paths, self.count = root, timeout, {}, 0
        for folder in ("inputs", "runtime"):
            (root / folder).mkdir()

    def env(self, cache: str, daemon: bool = True) -> dict[str, str]:
        """A hybridlab process's environment: the compilation cache ``cache`` (a folder of
        caches/, made by JAX), the warm process's socket under runtime/ (so that
        :meth:`stop_daemons` finds the ones this run started), or no warm process."""
        env = {"HYBRIDLAB_CACHE": str(self.root / "caches" / cache), "XDG_RUNTIME_DIR": str(self.root / "runtime")}
        return env | ({} if daemon else {"HYBRIDLAB_DAEMON": "off"})

    def stop_daemons(self) -> None:
        """End the warm processes (python -m hybridlab.daemon SOCKET) whose socket lies under
        runtime/: those this run started (SIGTERM, then SIGKILL after 10 s)."""
        mine = str(self.root / "runtime").encode()
        pids = []
        for entry in Path("/proc").glob("[0-9]*"):
            with contextlib.suppress(OSError):
                args = (entry / "cmdline").read_bytes().split(b"\0")
                if b"hybridlab.daemon" in args and any(a.startswith(mine) for a in args):
                    pids.append(int(entry.name))
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + 10
            while pids and time.monotonic() < deadline:
                pids = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
                time.sleep(0.1)

    def fresh(self, label: str) -> Path:
        self.count += 1
        return self.root / "runs" / f"{self.count:04d}-{label}"

    def resolve(self, args: list[str]) -> list[str]:
        return [re.sub(r"\{([\w-]+)\}", lambda m: self.need(m.group(1)), a) for a in args]

    def need(self, name: str) -> str:
        if name not in self.paths:
            file, command = INPUTS[name]
            path = self.root / "inputs" / file
            args = self.resolve([a.replace("{out}", str(path)) for a in command])
            run = timed(script(args) if args[0].endswith(".py") else HYBRIDLAB + args,
                        self.fresh(f"input-{name}"), self.timeout, self.env("inputs"))
            if run.status != "ok":
                raise RuntimeError(f"making the input {name} failed ({run.status})")
            self.paths[name] = str(path)
        return self.paths[name]


def script(args: list[str]) -> list[str]:
    return [sys.executable, str(SCRIPTS / args[0]), *args[1:]]


def breakdown(args: list[str], work: Workspace, cache: str, label: str) -> dict:
    """One run in _breakdown.py, in its own process (no warm process: the work is done there)."""
    cwd = work.fresh(label)
    side = work.root / f"{cwd.name}.json"
    run = timed([sys.executable, str(BREAKDOWN), str(side), *args], cwd, work.timeout, work.env(cache, daemon=False))
    if not side.exists():
        return {"status": run.status}
    parts = json.loads(side.read_text())
    if run.seconds is not None:  # the interpreter's start and exit, outside the in-process total
        parts["outside"] = run.seconds - parts["total"]
    return parts


def prepare(case: Case, work: Workspace) -> None:
    """The command lines, with every input they read made."""
    case.argv = work.resolve(case.hybridlab)
    case.scipy_argv = script(work.resolve(case.scipy)) if case.scipy else None


def measure(case: Case, work: Workspace, repeat: int) -> None:
    args, scipy = case.argv, case.scipy_argv
    for i in range(repeat):
        cache = f"{case.name}-{i}"
        for kind, daemon in (("cold", True), ("second", True), ("own", False)):
            case.runs[kind].append(timed(HYBRIDLAB + args, work.fresh(f"{case.name}-{kind}"), work.timeout,
                                         work.env(cache, daemon)))
        work.stop_daemons()
        for _ in range(2 if scipy else 0):
            case.runs["scipy"].append(timed(scipy, work.fresh(f"{case.name}-scipy"), work.timeout))
    for kind in ("cold", "second") if case.split else ():
        case.breakdown[kind] = breakdown(args, work, f"{case.name}-breakdown", f"{case.name}-breakdown-{kind}")
    last = {kind: runs[-1] for kind, runs in case.runs.items() if runs}
    if case.check and last["second"].status == last["scipy"].status == "ok":
        try:
            case.agrees = case.check(last["second"], last["scipy"])
        except Exception as error:  # noqa: BLE001 - a broken output is a finding, not a crash
            case.agrees = f"check failed: {error}"
    print(f"  {case.name}: cold {cell(case, 'cold')} s, second {cell(case, 'second')} s, own process "
          f"{cell(case, 'own')} s, SciPy {cell(case, 'scipy')} s; {case.agrees}", flush=True)


def help_times(work: Workspace) -> dict[str, Run]:
    """Every `hybridlab CMD --help`, once each, cold."""
    usage = timed(HYBRIDLAB + ["--help"], work.fresh("help-list"), work.timeout).stdout
    commands = re.search(r"\{([\w,-]+)\}", usage).group(1).split(",")
    return {c: timed(HYBRIDLAB + [c, "--help"], work.fresh(f"help-{c}"), work.timeout, work.env(f"help-{c}"))
            for c in commands}


# Report --------------------------------------------------------------------------------------
def median(case: Case, kind: str) -> float | None:
    runs = case.runs[kind]
    if not runs or any(r.status != "ok" for r in runs):
        return None
    return statistics.median(r.seconds for r in runs)


def cell(case: Case, kind: str) -> str:
    runs = case.runs[kind]
    if not runs:
        return "-"
    failed = [r.status for r in runs if r.status != "ok"]
    return failed[0] if failed else f"{median(case, kind):.2f}"


def split(case: Case, kind: str = "cold") -> list[str]:
    parts = case.breakdown.get(kind) or {}
    if "total" not in parts:
        return [parts.get("status", "-")] + ["-"] * 3
    return [f"{parts['import']:.2f}", f"{parts['trace']:.2f}", f"{parts['lower'] + parts['compile']:.2f}",
            f"{parts['run']:.2f}"]


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]

    def line(row):
        return "  ".join(str(c).ljust(w) if i in (0, len(row) - 1) else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths)))
    return "\n".join([line(header), "-" * len(line(header))] + [line(r) for r in rows])


def main_table(cases: list[Case]) -> str:
    rows = []
    for case in cases:
        second, scipy = median(case, "second"), median(case, "scipy")
        both = second is not None and scipy is not None
        own = median(case, "own")
        rows.append([case.name, cell(case, "cold"), cell(case, "second"), cell(case, "scipy"),
                     f"{second / scipy:.1f}x" if both else "-", f"{second - scipy:+.2f}" if both else "-",
                     cell(case, "own"), f"{own / scipy:.1f}x" if None not in (own, scipy) else "-",
                     *split(case), case.agrees])
    return table(rows, ["command", "hybridlab cold (s)", "hybridlab second (s)", "SciPy (s)", "second/SciPy",
                        "second-SciPy (s)", "own process (s)", "own/SciPy", "import", "trace", "compile", "run",
                        "agrees (printed answer)"])


def breakdown_table(cases: list[Case]) -> str:
    rows = []
    for case in cases:
        for kind in ("cold", "second") if case.split else ():
            p = case.breakdown.get(kind) or {}
            if "total" not in p:
                rows.append([case.name, kind, p.get("status", "-")] + [""] * 9)
                continue
            c, outside = p["counts"], f"{p['outside']:.2f}" if "outside" in p else "-"
            rows.append([case.name, kind] + [f"{p[k]:.2f}" for k in ("import", "trace", "lower", "compile", "run",
                                                                       "total")]
                        + [outside, c["compile"], c["cache_hits"], p["status"]])
    return table(rows, ["command", "process", "import", "trace", "lower", "compile", "run", "total", "outside",
                        "compiles", "cache hits", "exit"])


def targets(cases: list[Case], helps: dict[str, Run]) -> list[tuple[str, bool | None, str]]:
    """(target, passed or None when not measured, detail)."""
    found = []
    by_name = {c.name: c for c in cases}
    if "help" in by_name:
        times = [median(by_name["help"], k) for k in ("cold", "second")]
        worst = None if None in times else max(times)
        found.append((f"hybridlab --help < {HELP_LIMIT} s", None if worst is None else worst < HELP_LIMIT,
                      "-" if worst is None else f"{worst:.2f} s (the slower median of cold, second)"))
        ok = {c: r.seconds for c, r in helps.items() if r.status == "ok"}
        worst_cmd = max(ok, key=ok.get) if ok else None
        passed = None if len(ok) < len(helps) or not ok else ok[worst_cmd] < HELP_LIMIT
        found.append((f"every CMD --help < {HELP_LIMIT} s", passed,
                      f"max {ok[worst_cmd]:.2f} s ({worst_cmd} --help) of {len(helps)}" if ok else "-"))
    for case in cases:
        scipy, cold = median(case, "scipy"), median(case, "cold")
        for kind, label in (("second", "second"), ("own", "second in its own process")) if case.scipy else ():
            second = median(case, kind)
            found.append((f"{case.name}: {label} <= SciPy + {SECOND_RUN_MARGIN} s",
                          None if None in (second, scipy) else second <= scipy + SECOND_RUN_MARGIN,
                          f"{cell(case, kind)} vs {cell(case, 'scipy')} + {SECOND_RUN_MARGIN}"))
        limit = FIRST_RUN_LIMIT.get(case.name, DEFAULT_FIRST_RUN_LIMIT)
        found.append((f"{case.name}: first run <= {limit:g} s", None if cold is None else cold <= limit,
                      cell(case, "cold")))
    return found


def target_lines(found) -> str:
    mark = {True: "PASS", False: "MISS", None: "n/a "}
    width = max(len(t) for t, _, _ in found)
    return "\n".join(f"{mark[p]}  {t.ljust(width)}  {d}" for t, p, d in found)


def machine() -> str:
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("jax", "jaxlib", "scipy", "numpy"))
    return f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; {versions}"


def commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    changed = git("status", "--porcelain", "--untracked-files=no")
    return (git("rev-parse", "--short", "HEAD") or "unknown") + (" (+ uncommitted changes)" if changed else "")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def report(cases: list[Case], found, info: dict) -> str:
    repeat = info["repeat"]
    return (f"\nwhole process, medians of {repeat} (SciPy: of {2 * repeat}); import, trace, compile (lowering + "
            f"XLA), run: the cold run in _breakdown.py\n{main_table(cases)}\n\n"
            "where the time goes (s), in-process (_breakdown.py); outside: the process's wall time less the "
            "in-process total\n(the interpreter's start and exit); compiles: XLA compiles or persistent-cache reads\n"
            f"{breakdown_table(cases)}\n\ntargets:\n{target_lines(found)}\n\n"
            f"load average at end: {info['loadavg_end']}; wall time {info['wall_s']:.0f} s")


# Main ----------------------------------------------------------------------------------------
def parse() -> argparse.Namespace:
    names = [c.name for c in CASES]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, medians (default 3)")
    parser.add_argument("--quick", action="store_true", help="--repeat 1")
    parser.add_argument("--only", help=f"comma-separated subset of: {','.join(names)}")
    parser.add_argument("--timeout", type=float, default=600.0, help="limit of each process in s (default 600)")
    parser.add_argument("--json", help="write every raw timing to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (its path is printed)")
    args = parser.parse_args()
    args.only = args.only.split(",") if args.only else names
    unknown = set(args.only) - set(names)
    if unknown:
        parser.error(f"--only: unknown {', '.join(sorted(unknown))}; choose from {', '.join(names)}")
    args.repeat = 1 if args.quick else args.repeat
    return args


def to_json(cases, helps, found, info) -> dict:
    def runs(rs):
        return [{"seconds": r.seconds, "status": r.status} for r in rs]
    return {**info, "cases": {c.name: {"hybridlab_argv": c.argv, "scipy_argv": c.scipy_argv, "agrees": c.agrees,
                                       "breakdown": c.breakdown,
                                       "last_stdout": {k: rs[-1].stdout[-2000:] for k, rs in c.runs.items() if rs},
                                       **{k: runs(rs) for k, rs in c.runs.items()}} for c in cases},
            "help_subcommands": {c: {"seconds": r.seconds, "status": r.status} for c, r in helps.items()},
            "targets": [{"target": t, "passed": p, "detail": d} for t, p, d in found]}


def main() -> None:
    args = parse()
    cases = [c for c in CASES if c.name in args.only]
    info = {"machine": machine(), "commit": commit(), "repeat": args.repeat, "timeout_s": args.timeout,
            "hybridlab": " ".join(HYBRIDLAB), "loadavg_start": load()}
    print(f"machine: {info['machine']}\ncommit: {info['commit']}; hybridlab: {info['hybridlab']}\n"
          f"load average at start: {info['loadavg_start']}; repeat {args.repeat}, limit {args.timeout:g} s per process",
          flush=True)
    root = Path(tempfile.mkdtemp(prefix="hybridlab-cold-"))
    started = time.perf_counter()
    work = Workspace(root, args.timeout)
    try:
        for case in cases:
            prepare(case, work)
        work.stop_daemons()
        print(f"inputs made in {time.perf_counter() - started:.0f} s", flush=True)
        helps = help_times(work) if "help" in args.only else {}
        for case in cases:
            measure(case, work, args.repeat)
    finally:
        work.stop_daemons()
        if args.keep:
            print(f"kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    info["loadavg_end"], info["wall_s"] = load(), time.perf_counter() - started
    found = targets(cases, helps)
    print(report(cases, found, info))
    if args.json:
        Path(args.json).write_text(json.dumps(to_json(cases, helps, found, info), indent=1))
        print(f"written: {args.json}")


if __name__ == "__main__":
    main()
