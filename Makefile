# The lab's commands. `make lab` to teach, `make test` to check, `make bench` to measure.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install lab test test-fast bench lint clean-local

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lab: install
	$(BIN)/wildrydes local start
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 \
		$(if $(filter 0,$(shell id -u)),--allow-root)

test: install
	bash tools/install_browser.sh
	$(BIN)/ruff check wildrydes_helpers lambda tests benchmarks tools
	AWS_DEFAULT_REGION=us-east-1 $(BIN)/python -m pytest -q --doctest-modules wildrydes_helpers lambda
	$(BIN)/python -m pytest -q --doctest-modules tests/kit tools/run_nbval.py
	$(BIN)/python -m pytest -q tests
	$(BIN)/python tools/run_nbval.py

# The pure tests of tests/unit only: no local cloud, no subprocess, a few seconds.
test-fast: install
	$(BIN)/python -m pytest -q tests -m unit

bench: install
	$(BIN)/python -m benchmarks

lint: install
	$(BIN)/ruff check wildrydes_helpers lambda tests benchmarks tools

clean-local:
	-$(BIN)/wildrydes local stop
