"""A second process's result, error, crash and stop (hybridlab.experiments.apart), with the
standard library's functions as targets: the second process imports nothing heavy."""

import math
import os
import time

import pytest

from hybridlab.experiments.apart import Apart


def test_the_result_is_what_the_target_returned():
    with Apart(math.hypot, 3.0, 4.0) as second:
        assert second.result() == 5.0


def test_a_value_error_comes_back_with_its_message():
    with Apart(int, "twelve") as second, pytest.raises(ValueError, match=r"^invalid literal for int\(\).*'twelve'$"):
        second.result()


def test_another_error_comes_back_in_one_line_with_its_kind():
    with Apart(math.sqrt, "4") as second, pytest.raises(ValueError, match=r"^TypeError: must be real number"):
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
