# The lab's commands. `make lab` to teach, `make test` to check, `make bench` to measure.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Two stamps: a student's `make lab` installs the lab alone; `make test` adds the test tools
# (pytest, nbval, ruff, Playwright, the AWS CLI: pyproject's `test` extra) to the same .venv.
LAB_STAMP  := $(VENV)/.lab-installed
TEST_STAMP := $(VENV)/.test-installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install install-test lab test test-fast bench lint clean-local

install: $(LAB_STAMP)

install-test: $(TEST_STAMP)

$(LAB_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile --upgrade pip
	# --no-compile: bytecode for what the lab imports only (compile_lab_imports.py below),
	# not pip's 150 MB for every module of every package, test suites included.
	$(BIN)/python -m pip install --quiet --no-compile -e .
	# A 3.11 venv comes with setuptools; nothing in the lab uses it (builds bring their own).
	$(BIN)/python -m pip uninstall --quiet --yes setuptools
	$(BIN)/python tools/compile_lab_imports.py
	# No news pop-up and no update check in JupyterLab (the venv's overrides.json).
	$(BIN)/python tools/quiet_jupyterlab.py $(VENV)
	touch $(LAB_STAMP)

$(TEST_STAMP): $(LAB_STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

lab: install
	$(BIN)/wildrydes local start
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 \
		$(if $(filter 0,$(shell id -u)),--allow-root)

# ruff, the doctests and pytest in the foreground; strict nbval with the lab's 60 s windows
# beside them from the start (it mostly waits for windows). Fails if either fails.
test: install-test
	bash tools/install_browser.sh
	$(BIN)/python tools/run_tests.py

# The pure tests of tests/unit only: no local cloud, no subprocess, a few seconds.
test-fast: install-test
	$(BIN)/python -m pytest -q tests -m unit

# One JSON object on stdout; exits 1, naming each, when a figure is missing or misses its target.
bench: install-test
	@$(BIN)/python -m benchmarks

lint: install-test
	$(BIN)/ruff check wildrydes_helpers lambda tests benchmarks tools

clean-local:
	-$(BIN)/wildrydes local stop
