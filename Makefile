# Everyday commands. `make run` and `make test` are the README's two commands:
# each sets up the virtual environment at .venv first. Installs are constrained by
# the lock file (exact versions for reproducible dev and CI); `make lock` rewrites it
# from pyproject.toml's ranges after a dependency changes.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements/lock.txt
DB ?= $(or $(SEQENGINE_DB),sqlite:///seqengine.db)
PORT ?= $(or $(SEQENGINE_PORT),8000)

.PHONY: setup setup-run run test lint unit chromium lock fuzz bench-setup bench bench-quick diagrams clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[dev]'

setup-run: $(BIN)/python
	$(BIN)/pip install --quiet -c $(LOCK) -e .

run: setup-run
	$(BIN)/seqengine --db $(DB) demo --port $(PORT)
	$(BIN)/seqengine --db $(DB) serve --host 127.0.0.1 --port $(PORT)

# every extra, so one file constrains all installs; pip ignores pins nothing asks for
lock: $(BIN)/python
	$(BIN)/pip install --quiet 'uv>=0.5,<1'
	$(BIN)/uv pip compile pyproject.toml --all-extras --python-version 3.11 --quiet \
	  --custom-compile-command 'make lock' --output-file $(LOCK)

# the /docs test loads Swagger UI in headless Chromium
chromium:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

lint: setup
	$(BIN)/ruff check engine tests bench
	$(BIN)/mypy

unit: setup chromium
	$(BIN)/pytest

test: lint unit

# longer fuzzing than the CI budget: schemathesis (in-process and against a live
# `seqengine serve`, --checks all) and the timeline properties
fuzz: setup
	SEQENGINE_FUZZ_EXAMPLES=150 SEQENGINE_FUZZ_SCENARIOS=200 SEQENGINE_FUZZ_SEED=$$(date +%s) \
	TIMELINE_EXAMPLES=3000 LIFECYCLE_EXAMPLES=2000 $(BIN)/pytest tests/integration/http/test_http_openapi_fuzz.py \
	tests/e2e/test_e2e_schemathesis_live.py tests/property

bench-setup: setup
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[dev,bench]'
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

bench: bench-setup
	$(BIN)/python -m bench

bench-quick: bench-setup
	$(BIN)/python -m bench --quick

diagrams: setup
	$(BIN)/python -m engine.runtime.diagrams docs/lifecycles.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
