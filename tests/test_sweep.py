"""Sweeps across seeds on Ray (issue 14 §1): a sweep through a Ray head started here gives
exactly the serial runs' numbers, its summary is their mean and spread, a failed task is
reported by seed while the others finish, and bad options are refused before Ray starts."""

import json
import math
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest

from hybridlab.cli import main
from hybridlab.experiments.runner import run

ray = pytest.importorskip("ray")

RAY = os.path.join(os.path.dirname(sys.executable), "ray")
#: What may differ between two runs of one seed: the clock.
TIMES = ("fit_seconds",)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _numbers(value, prefix=""):
    """{dotted name: value} of every number (and string) in metrics.json but the times."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() if key not in TIMES for k, v in _numbers(item, f"{prefix}{key}.").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _numbers(item, f"{prefix}{i}.").items()}
    return {prefix: value}


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """A Ray head on this machine (2 CPUs), in its own process group, which is killed after the
    tests (``ray stop`` would stop every Ray on the machine, not only this one), with its own
    temporary directory (so that no later ``ray.init()`` here finds it as "the current
    cluster"). Without Ray's token authentication (here, and in this process as its client):
    the token file it keeps in the home directory is shared with any other Ray on the machine."""
    import signal
    import time

    port = _free_port()
    temp = tmp_path_factory.mktemp("ray")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_AUTH_MODE", "disabled")
        patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
        head = subprocess.Popen([RAY, "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
                                 "--disable-usage-stats", f"--temp-dir={temp}", "--block"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while True:  # until the head answers
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert head.poll() is None and time.monotonic() < deadline, "the Ray head did not start"
                    time.sleep(0.2)
            yield f"127.0.0.1:{port}"
        finally:
            os.killpg(head.pid, signal.SIGKILL)  # its graceful stop takes half a minute
            head.wait(timeout=60)


def test_a_sweep_on_a_ray_head_equals_the_serial_runs(tmp_path, capsys, ray_head):
    out = tmp_path / "sweep"
    argv = ["sweep", "--scenario", "cuberoot", "--seeds", "2", "--first-seed", "3", "--models", "linear,nearest",
            "--quick", "--address", ray_head, "--out", str(out)]
    assert main(argv) == 0
    assert "2 seeds finished, 0 failed" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"] == [3, 4] and summary["failed"] == [] and summary["scenario"] == "cuberoot"
    # The engine changes nothing: seed 4 in the sweep is `hybridlab run --seed 4` with the same options.
    serial = run("cuberoot", 4, str(tmp_path / "serial"), quick=True, models=["linear", "nearest"], echo=lambda _: None)
    swept = json.loads((out / "seed-4" / "metrics.json").read_text())
    assert _numbers(swept) == _numbers(json.loads((tmp_path / "serial" / "metrics.json").read_text()))
    assert swept["models"]["linear"]["rmse_extrap"] == serial["models"]["linear"]["rmse_extrap"]
    # The summary is each metric's mean and spread over the seeds (std with n − 1).
    values = [json.loads((out / f"seed-{s}" / "metrics.json").read_text())["models"]["linear"]["rmse_interp"]
              for s in (3, 4)]
    stats = summary["models"]["linear"]["rmse_interp"]
    assert stats["mean"] == pytest.approx(np.mean(values), rel=1e-15) and stats["n"] == 2
    assert stats["std"] == pytest.approx(np.std(values, ddof=1), rel=1e-12)
    assert (stats["min"], stats["max"]) == (min(values), max(values))
    assert (out / "report.html").is_file() and (out / "figures" / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    # The page's interactive figures: each model's value at each seed, from the runs' files.
    data = json.loads(re.search(r'id="hybridlab-data">(.*?)</script>', (out / "report.html").read_text()).group(1))
    figure = next(f for f in data["lines"] if f["title"] == "RMSE interp")
    linear = next(trace for trace in figure["traces"] if trace["name"] == "linear")
    assert figure["log_y"] and linear["x"] == [3, 4] and linear["y"] == pytest.approx(values, rel=1e-5)
    assert sorted(os.listdir(out)) == ["figures", "report.html", "seed-3", "seed-4", "summary.json"]


def test_a_failed_task_is_reported_by_seed_and_the_others_finish(ray_head):
    from hybridlab.experiments.sweep import _gather, summarise

    def fails_on_odd(seed):  # defined here, so that Ray ships it by value to its workers
        if seed % 2:
            raise ValueError(f"seed = {seed}: odd")
        return {"models": {"m": {"x": float(seed), "ok": True, "nested": {"y": 2.0 * seed}, "none": None}}}

    ray.init(address=ray_head, log_to_driver=False)
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(fails_on_odd)
        lines = []
        results, failed = _gather(ray, {task.remote(seed): seed for seed in range(4)}, lines.append)
    finally:
        ray.shutdown()
    assert list(results) == [0, 2] and failed == [{"seed": 1, "error": "ValueError: seed = 1: odd"},
                                                   {"seed": 3, "error": "ValueError: seed = 3: odd"}]
    assert len(lines) == 4 and any("seed 3: failed: ValueError: seed = 3: odd" in line for line in lines)
    summary = summarise("x", False, results, failed)
    assert summary["seeds"] == [0, 2] and summary["models"]["m"] == {
        "x": {"mean": 1.0, "std": math.sqrt(2.0), "min": 0.0, "max": 2.0, "n": 2},
        "nested.y": {"mean": 2.0, "std": 2 * math.sqrt(2.0), "min": 0.0, "max": 4.0, "n": 2}}


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "0"], "--seeds 0: must be an integer >= 1"),
    (["--seeds", "2", "--scenario", "gust"], "--scenario 'gust': a sweep runs a ladder scenario"),
    (["--seeds", "2", "--models", "linear,nope"], "nope"),
])
def test_bad_options_are_refused_before_anything_starts(tmp_path, capsys, argv, message):
    out = tmp_path / "s"
    assert main(["sweep", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not out.exists()


def test_without_ray_the_command_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    # In this process (a child process would spend seconds importing JAX): None in sys.modules
    # makes `import ray` raise ImportError, as where Ray is not installed.
    monkeypatch.setitem(sys.modules, "ray", None)
    assert main(["sweep", "--seeds", "1", "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'hybridlab[sweep]'" in err and err.count("\n") == 1 and not (tmp_path / "s").exists()


@pytest.mark.slow  # a second sweep process; the runs' own removal on a signal is tested in test_reliability.py
def test_a_signal_stops_the_sweep_and_leaves_no_partial_run(tmp_path, ray_head):
    import signal
    import time

    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "hybridlab.cli", "sweep", "--scenario", "cuberoot", "--seeds", "2", "--quick",
               "--models", "mlp-adam", "--address", ray_head, "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out.is_dir() and any(name.startswith(".seed-") for name in os.listdir(out))):  # runs under way
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143 and err.strip().splitlines()[-1] == \
        "hybridlab: stopped by SIGTERM; unfinished output removed"
    # A sweep stopped before any run finished leaves nothing (its directory goes with its runs); one
    # stopped later keeps only finished runs, and no summary.
    assert not out.exists() or ([name for name in os.listdir(out) if name.startswith(".")] == []
                                and not (out / "summary.json").exists())
