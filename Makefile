# Two commands set everything up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test test-all test-browser docs docs-figures bench clean

$(PY):
	python3 -m venv $(VENV)

# Installs into the venv with uv where it can be had (pip installs it in seconds), else with pip:
# the same releases, in 20 s where pip takes 1 min 40 s with nothing downloaded before
# (benchmarks/RESULTS.md, "Cold start, part 7"). Byte code compiled at installation, as pip does: a
# machine that writes none (PYTHONDONTWRITEBYTECODE) would otherwise compile JAX at every import.
INSTALL = { $(PY) -m pip install --quiet uv && $(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) $(1); } \
	|| $(PY) -m pip install --quiet $(1)

# Reinstall only when the package metadata changes (the install is editable).
$(VENV)/.installed: pyproject.toml | $(PY)
	$(call INSTALL,-e .)
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(call INSTALL,-e '.[dev]')
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/hybridlab run

test: $(VENV)/.installed-dev
	$(PY) -m pytest

# Also the tests marked slow (77 of them; 18 min in all on 2 cores when last completed: see the README), and
# with XLA's default compilation, the one a user's process gets (tests/conftest.py).
test-all: $(VENV)/.installed-dev
	HYBRIDLAB_TEST_XLA=default $(PY) -m pytest -m "slow or not slow"

# The report in headless Chromium (Debian: apt install chromium chromium-driver); make test runs
# it too where they are installed, and skips it where they are not.
test-browser: $(VENV)/.installed-dev
	$(PY) -m pytest -n 0 tests/test_report_browser.py

# The documentation site, into site/ (--strict: a broken link or reference fails the build).
docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

# The tutorials' figures, drawn by running the tutorials' own code (tests/docs_runner.py).
docs-figures: $(VENV)/.installed-dev
	HYBRIDLAB_DOCS_FIGURES=1 $(PY) -m pytest -m "slow or not slow" tests/test_docs.py -k tutorials

bench: $(VENV)/.installed-dev
	$(call INSTALL,-e '.[dev,bench]')
	$(PY) benchmarks/range_throughput.py

clean:
	rm -rf $(VENV) build site src/*.egg-info .pytest_cache .hypothesis
