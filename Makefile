# Development: `make test` and `make demo` set themselves up from nothing (a .venv in this folder).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup test check lint demo bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check tools tests bench scripts
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# The quick loop while working, under a minute: lint, types and the tests marked quick (imports, names,
# config, the JSON contract, the CLI, a smoke of each command), stopping at the first failure.
# `make test` runs the whole suite, as CI does.
check: lint
	$(BIN)/pytest -q -x -m quick $(shell grep -l 'mark\.quick' tests/test_*.py)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .demo .bench .pytest_cache .mypy_cache .ruff_cache
