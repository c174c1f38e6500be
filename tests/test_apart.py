"""A second process's result, error, crash and stop (hybridlab.experiments.apart), with the
standard library's functions as targets: the second process imports nothing heavy."""

import math
import os
import subprocess
import sys
import textwrap
import time

import pytest

from hybridlab.experiments.apart import Apart


def test_the_result_is_what_the_target_returned():
    with Apart(math.hypot, 3.0, 4.0) as second:
        assert second.result() == 5.0


def test_a_value_error_comes_back_with_its_message():
    with Apart(int, "twelve") as second, pytest.raises(ValueError, match=r"^invalid literal for int\(\).*'twelve'$"):
        second.result()


def test_another_error_is_a_defect_with_its_traceback():
    with Apart(math.sqrt, "4") as second, pytest.raises(RuntimeError, match=r"(?s)Traceback.*TypeError: must be real"):
        second.result()


def test_a_crash_is_a_value_error_naming_the_exit_status():
    with Apart(os._exit, 3) as second, pytest.raises(ValueError, match=r"without a result \(exit status 3\)"):
        second.result()


def test_leaving_the_block_ends_a_second_process_still_working():
    start = time.perf_counter()
    with Apart(time.sleep, 60) as second:
        pid = second._process.pid
    assert time.perf_counter() - start < 20
    assert not second._process.is_alive()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_second_process_ends_when_this_one_is_killed():
    # Its parent ends at once, without closing it (as SIGKILL, or the stop watchdog's exit, would).
    script = textwrap.dedent("""
        import os, time
        from hybridlab.experiments.apart import Apart
        if __name__ == "__main__":
            second = Apart(time.sleep, 600)
            print(second._process.pid, flush=True)
            time.sleep(1.0)
            os._exit(9)
    """)
    parent = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert parent.returncode == 9, parent.stderr
    pid = int(parent.stdout.split()[0])
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline:
        try:  # gone, or a zombie left for whichever process adopted it to reap
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return
        except FileNotFoundError:
            return
        time.sleep(0.1)
    raise AssertionError(f"the second process {pid} outlived its parent")
