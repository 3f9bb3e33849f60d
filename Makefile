# Everyday commands. `make run` and `make test` are the README's two commands:
# each sets up the virtual environment at .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= sqlite:///seqengine.db

.PHONY: setup setup-run run test lint unit fuzz soak bench-setup bench bench-quick diagrams clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

setup-run: $(BIN)/python
	$(BIN)/pip install --quiet -e .

run: setup-run
	$(BIN)/seqengine --db $(DB) demo
	$(BIN)/seqengine --db $(DB) serve --host 127.0.0.1 --port 8000

lint: setup
	$(BIN)/ruff check engine tests bench
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

test: lint unit

# longer fuzzing than the CI budget: schemathesis and the timeline properties
fuzz: setup
	SEQENGINE_FUZZ_EXAMPLES=150 SEQENGINE_FUZZ_SCENARIOS=200 SEQENGINE_FUZZ_SEED=$$(date +%s) \
	TIMELINE_EXAMPLES=3000 LIFECYCLE_EXAMPLES=2000 $(BIN)/pytest tests/integration/http/test_http_openapi_fuzz.py \
	tests/property

# a longer run of the scheduler's process tests than the CI budget: 4 workers over
# 100,000 due steps on one database (the default suite runs 20,000)
soak: setup
	SEQENGINE_SOAK_STEPS=100000 $(BIN)/pytest -q -s tests/integration/scheduler/test_many_workers.py

bench-setup: setup
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

bench: bench-setup
	$(BIN)/python -m bench

bench-quick: bench-setup
	$(BIN)/python -m bench --quick

diagrams: setup
	$(BIN)/python -m engine.runtime.diagrams docs/lifecycles.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
