"""Issue 33 §2: every code example of the README and of the documentation site runs, and prints
what its page shows (tests/docs_runner.py says how a page marks its blocks). Pages and blocks
marked slow run in ``make test-all``; the site itself builds with ``--strict``.
"""

import os
import subprocess
import sys
import textwrap

import pytest

from docs_runner import DOCS, ROOT, blocks, page_is_slow, pages, run_page, same

FAST = [page for page in pages() if not page_is_slow(page)]
SLOW = [page for page in pages() if page_is_slow(page) or any("slow" in b.options for b in blocks(page))]


def _name(page):
    return str(page.relative_to(ROOT))


def test_the_site_has_every_page_the_issue_asks_for():
    have = {str(page.relative_to(DOCS)) for page in DOCS.rglob("*.md")}
    assert {"index.md", "design.md", "reference/cli.md", "tutorials/cannon-ladder.md", "tutorials/cuberoot.md",
            "tutorials/shot-put.md", "tutorials/forecasting.md", "how-to/shots.md", "how-to/ray.md",
            "how-to/gpu.md"} <= have


def test_the_readme_is_a_front_page():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    assert text.index("make run") < text.index("make test") < 1500


def _runnable(page, slow: bool) -> int:
    """How many of a page's blocks run (python or console, not skipped; slow ones only if ``slow``)."""
    return sum(b.language in ("python", "console") and "skip" not in b.options and (slow or "slow" not in b.options)
               for b in blocks(page))


@pytest.mark.parametrize("page", FAST, ids=_name)
def test_the_examples_of_a_page_print_what_it_shows(page, tmp_path, capsys):
    assert run_page(page, tmp_path, capsys, slow=False) == _runnable(page, slow=False)


@pytest.mark.slow
@pytest.mark.parametrize("page", SLOW, ids=_name)
def test_the_slow_examples_of_a_page_print_what_it_shows(page, tmp_path, capsys):
    assert run_page(page, tmp_path, capsys, slow=True) == _runnable(page, slow=True)


def test_the_runner_compares_text_and_numbers_to_the_shown_digits():
    assert same("range 17.8800 m", "range 17.88002 m", 1e-6) is None  # within half the last shown digit
    assert same("range 17.8800 m", "range 17.8812 m", 1e-6) is not None
    assert same("range 17.88 m", "range 17.9 m", 0.01) is None
    assert same("range 17.88 m", "height 17.88 m", 1.0) is not None
    assert same("3 of 5", "3 of 5", 0.0) is None and same("3 of 5", "3 of 6", 0.0) is not None
    assert same("4 of 10 below 1e-06", "5 of 10 below 1e-06", 0.5) is not None  # counts are exact
    assert same("(50, 64, 2)", "(40, 64, 2)", 0.5) is not None  # and shapes
    assert same("[1. 1.]", "[1.4 0.6]", 1e-6) is not None  # NumPy's '1.' is not '1 ± 0.5'


def test_the_runner_fails_a_page_whose_example_prints_something_else(tmp_path, capsys):
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent("""\
        ```python
        print(round(2 ** 0.5, 4))
        ```
        <!-- test: output -->
        ```text
        1.4143
        ```
        """))
    with pytest.raises(AssertionError, match="numbers differ"):
        run_page(page, tmp_path, capsys, slow=False)
    page.write_text(page.read_text().replace("1.4143", "1.4142"))
    assert run_page(page, tmp_path, capsys, slow=False) == 1


@pytest.mark.parametrize("text, match", [
    ("<!-- test: ouput -->\n```text\n1\n```\n", "unknown test option 'ouput'"),
    ("```pycon\n>>> 1\n```\n", "a fence the docs test cannot read"),
    ("```python\nprint(1)\n```\n", "printed output the page does not show"),
    ("```python\nprint(1)\n```\n```text\n1\n```\n", "printed output the page does not show"),
])
def test_the_runner_refuses_what_would_leave_an_example_unchecked(tmp_path, capsys, text, match):
    page = tmp_path / "page.md"
    page.write_text(text)
    with pytest.raises((AssertionError, ValueError), match=match):
        run_page(page, tmp_path, capsys, slow=False)


def test_the_runner_fails_a_command_whose_error_line_changed(tmp_path, capsys):
    page = tmp_path / "page.md"
    page.write_text("```console\n$ hybridlab range --speed -1 --angle 60\nhybridlab: error: something else\n```\n")
    with pytest.raises(AssertionError):
        run_page(page, tmp_path, capsys, slow=False)


def test_the_site_builds_strictly(tmp_path):
    """``make docs``: every page, link, figure and API reference resolves (the docs extra is
    part of the dev extra, so this runs wherever the suite does)."""
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr[-4000:]
    cli = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text()
    assert "hybridlab learn-drag" in cli and "--train-until" in cli  # written from the parser
    physics = (tmp_path / "site" / "reference" / "physics" / "index.html").read_text()
    assert "flight_time" in physics and ":meth:" not in physics and ":class:" not in physics
