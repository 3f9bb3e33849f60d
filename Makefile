# Everyday commands. `make run` and `make test` are the README's two commands:
# each sets up the virtual environment at .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= sqlite:///seqengine.db

.PHONY: setup setup-run run test lint unit fuzz mutation mutation-sample bench-setup bench bench-quick diagrams clean

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

# Hypothesis runs the derandomized `ci` profile (tests/conftest.py): same examples every run.
unit: setup
	SEQENGINE_HYPOTHESIS_PROFILE=ci $(BIN)/pytest

test: lint unit mutation-sample

# longer fuzzing than the CI budget, with random seeds: schemathesis and every property
# test on the `fuzz` profile (10x the examples). A failure found here becomes an @example.
fuzz: setup
	SEQENGINE_HYPOTHESIS_PROFILE=fuzz \
	SEQENGINE_FUZZ_EXAMPLES=150 SEQENGINE_FUZZ_SCENARIOS=200 SEQENGINE_FUZZ_SEED=$$(date +%s) \
	$(BIN)/pytest tests/integration/http/test_http_openapi_fuzz.py tests/property

# mutmut over timeline, domain, app and wire (hours on 2 cores; results are cached in
# mutants/ and a rerun only re-tests what changed), then the scores into docs/testing.md
mutation: setup
	SEQENGINE_HYPOTHESIS_PROFILE=mutation $(BIN)/mutmut run --max-children 2 \
	"engine.timeline.*" "engine.domain.*" "engine.app.*" "engine.wire.*" || true
	$(BIN)/python tests/mutation/mutants.py report

# CI's bounded sample: mutants of the engine files the last 3 commits touched, capped at
# 150 s; fails on a surviving mutant that tests/mutation/explained.txt does not explain
mutation-sample: setup
	$(BIN)/python tests/mutation/mutants.py sample

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
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants
