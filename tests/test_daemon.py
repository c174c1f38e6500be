"""The warm process (hybridlab/daemon.py) and the compilation cache (hybridlab/compilation.py),
as a user meets them: ``hybridlab`` commands as processes, answers checked against the closed
form and against the same command run in a process of its own."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
from scipy.special import lambertw

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the warm process is Linux only")

SHOT = ["range", "--speed", "30", "--angle", "40", "--drag", "linear", "--k", "0.45", "--mass", "7.26"]


def _linear_range(v, theta, k, m, g=9.81):
    """The range under linear drag in closed form (Lambert W), independent of hybridlab."""
    vx, vy, tau = v * np.cos(theta), v * np.sin(theta), m / k
    a = 1 + vy / (g * tau)
    t = a * tau + tau * np.real(lambertw(-a * np.exp(-a), 0))
    return vx * tau * (1 - np.exp(-t / tau))


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private runtime directory and cache for the warm processes of one test (``tmp_path / "run"``
    links to it: a socket's name must stay short); any left running are ended afterwards."""
    runtime = tempfile.mkdtemp(prefix="hl-", dir="/tmp")
    (tmp_path / "run").symlink_to(runtime)
    yield {"XDG_RUNTIME_DIR": runtime, "HYBRIDLAB_CACHE": str(tmp_path / "cache"), "HYBRIDLAB_DAEMON": "on"}
    for pid in _warm_processes(runtime):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(runtime, ignore_errors=True)


def _warm_processes(runtime) -> list[int]:
    runtime = os.path.realpath(runtime)
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                line = f.read().decode(errors="replace")
        except OSError:
            continue
        if "hybridlab.daemon" in line and str(runtime) in line:
            found.append(int(pid))
    return found


def _hybridlab(environment, *argv, cwd=None, **kwargs):
    return subprocess.run([sys.executable, "-m", "hybridlab", *map(str, argv)], capture_output=True, text=True,
                          env={**os.environ, **environment}, cwd=cwd, timeout=180, **kwargs)


def test_commands_handed_to_the_warm_process_answer_as_their_own_process(home, tmp_path):
    expected = _linear_range(30.0, np.deg2rad(40.0), 0.45, 7.26)
    first = _hybridlab(home, *SHOT)
    assert first.returncode == 0 and first.stderr == "", first.stderr
    assert float(first.stdout) == pytest.approx(expected, rel=1e-13)
    assert len(_warm_processes(tmp_path / "run")) == 1  # the first command started it, and it stays
    # Relative paths are the command's: its working directory, not the warm process's.
    work = tmp_path / "work"
    work.mkdir()
    written = _hybridlab(home, "trajectory", "--speed", 30, "--angle", 40, "--points", 5, "--out", "t.csv", cwd=work)
    assert written.returncode == 0 and (work / "t.csv").is_file() and os.listdir(tmp_path / "run") != []
    refused = _hybridlab(home, *SHOT[:-2], "--mass", "-1")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == "hybridlab: error: --mass -1.0: must be finite and > 0\n"
    # A variable that changes a computation (here where programs are cached) is part of the key.
    other = _hybridlab({**home, "HYBRIDLAB_CACHE": str(tmp_path / "other")}, *SHOT)
    assert other.stdout == first.stdout and len(_warm_processes(tmp_path / "run")) == 2


def test_a_stop_reaches_the_command_in_the_warm_process(home, tmp_path):
    assert _hybridlab(home, *SHOT).returncode == 0  # the warm process is up
    curve = tmp_path / "curve.csv"
    process = subprocess.Popen([sys.executable, "-m", "hybridlab", "aim", "--distance", "10", "--speed", "5",
                                "--drag", "quadratic", "--c", "1", "--curve", str(curve)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, **home})
    time.sleep(3)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130 and out == ""
    assert err == "hybridlab: stopped by SIGINT; unfinished output removed\n"
    assert not curve.exists()
    deadline = time.monotonic() + 30
    while _warm_processes(tmp_path / "run") and time.monotonic() < deadline:  # a stop ends the warm process
        time.sleep(0.2)
    assert _warm_processes(tmp_path / "run") == []


def test_a_directory_another_user_could_reach_is_not_used(home, tmp_path):
    shared = tmp_path / "run" / f"hybridlab-{os.getuid()}"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    result = _hybridlab(home, *SHOT)
    assert result.returncode == 0 and float(result.stdout) > 0
    assert _warm_processes(tmp_path / "run") == [] and os.listdir(shared) == []


def test_an_unreadable_cache_entry_is_compiled_again(tmp_path):
    environment = {"HYBRIDLAB_CACHE": str(tmp_path / "cache"), "HYBRIDLAB_DAEMON": "off"}
    argv = ["range", "--speed", "30", "--angle", "40", "--drag", "linear", "--k", "0.45", "--mass", "7.26"]
    first = _hybridlab(environment, *argv)
    entries = [f for f in (tmp_path / "cache").iterdir() if f.name.endswith("-cache")]
    assert first.returncode == 0 and entries
    for entry in entries:  # truncated, as by a process killed while writing it
        entry.write_bytes(entry.read_bytes()[: len(entry.read_bytes()) // 2])
    again = _hybridlab(environment, *argv)
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, "")
    info = _hybridlab(environment, "info", "--json")
    assert f'"directory": "{tmp_path / "cache"}"' in info.stdout
    off = _hybridlab({**environment, "HYBRIDLAB_CACHE": "off"}, "info")
    assert "not kept between processes" in off.stdout


def test_an_entry_that_cannot_be_written_is_silent(tmp_path):
    # Another program's entry without its access time (JAX's unbounded cache writes none): the
    # bounded cache's eviction fails on it at every write, and JAX warns; the answer is the same,
    # and stderr stays empty.
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "foreign-cache").write_bytes(b"not a program")
    result = _hybridlab({"HYBRIDLAB_CACHE": str(cache), "HYBRIDLAB_DAEMON": "off"}, *SHOT)
    assert (result.returncode, result.stderr) == (0, "")
    assert float(result.stdout) == pytest.approx(_linear_range(30, np.deg2rad(40), 0.45, 7.26), rel=1e-10)


def test_the_hybridlab_process_keeps_traced_programs_beside_its_cache_and_none_when_it_is_off(tmp_path):
    from hybridlab import compilation
    from hybridlab.physics import exporting

    environ = {"HYBRIDLAB_CACHE": str(tmp_path / "cache")}
    compilation.configure(environ)
    assert environ[exporting.ENVIRONMENT] == str(tmp_path / "cache" / "exported")
    environ = {"HYBRIDLAB_CACHE": "off"}
    compilation.configure(environ)
    assert exporting.ENVIRONMENT not in environ
