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

.PHONY: setup setup-run setup-test run test lint unit chromium pg-server lock fuzz soak mutation \
	mutation-sample bench-setup bench bench-quick diagrams docs notebooks simulate clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[dev]'

setup-run: $(BIN)/python
	$(BIN)/pip install --quiet -c $(LOCK) -e .

# the tests also run the simulator, the notebooks and the docs build
setup-test: setup
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[dev,sim,docs]'

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

lint: setup-test
	$(BIN)/ruff check engine tests bench examples
	$(BIN)/mypy

# the PostgreSQL tests start a throwaway cluster from the server binaries (Debian
# keeps them in /usr/lib/postgresql/N/bin, off PATH): install them when missing
pg-server:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq postgresql)

# Hypothesis runs the derandomized `ci` profile (tests/conftest.py): same examples every run.
unit: setup-test chromium pg-server
	SEQENGINE_HYPOTHESIS_PROFILE=ci $(BIN)/pytest

test: lint unit mutation-sample

# longer fuzzing than the CI budget, with random seeds: schemathesis (in-process and
# against a live `seqengine serve`, --checks all) and every property test on the `fuzz`
# profile (10x the examples). A failure found here becomes an @example.
fuzz: setup
	SEQENGINE_HYPOTHESIS_PROFILE=fuzz \
	SEQENGINE_FUZZ_EXAMPLES=150 SEQENGINE_FUZZ_SCENARIOS=200 SEQENGINE_FUZZ_SEED=$$(date +%s) \
	$(BIN)/pytest tests/integration/http/test_http_openapi_fuzz.py \
	tests/e2e/test_e2e_schemathesis_live.py tests/property

# a longer run of the scheduler's process tests than the CI budget: 4 workers over
# 100,000 due steps on one database (the default suite runs 20,000)
soak: setup
	SEQENGINE_SOAK_STEPS=100000 $(BIN)/pytest -q -s tests/integration/scheduler/test_many_workers.py

# mutmut over timeline, domain, app and wire (hours on 2 cores). Results are cached in
# mutants/: the first run tests only mutants without a verdict (new, or in a function
# that changed), the second re-tests every survivor against today's tests; then the
# scores go into docs/testing.md. MUTATION_CHILDREN=1 on a shared machine.
MUTATION_CHILDREN ?= 2
mutation: setup
	$(BIN)/python tests/mutation/mutants.py refresh
	SEQENGINE_HYPOTHESIS_PROFILE=mutation $(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) || true
	$(BIN)/python tests/mutation/mutants.py rerun $(MUTATION_CHILDREN)
	$(BIN)/python tests/mutation/mutants.py report

# CI's bounded sample (part of `make test`): 30 mutants, the same for the same commit,
# of the engine files the last 3 commits touched, in a scratch copy, capped at 200 s;
# fails on a survivor that tests/mutation/explained.txt does not explain
mutation-sample: setup
	$(BIN)/python tests/mutation/mutants.py sample

bench-setup: setup pg-server
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[dev,sim,bench]'
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

bench: bench-setup
	$(BIN)/python -m bench

bench-quick: bench-setup
	$(BIN)/python -m bench --quick

docs: setup
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[docs]'
	$(BIN)/mkdocs serve -a 127.0.0.1:8001

# the README's simulation tour: plots land in ./simulation
simulate: setup
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[sim]'
	$(BIN)/seqengine simulate examples/scenarios/two_reps.yaml --out simulation

notebooks: setup
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[notebooks]'
	$(BIN)/jupyter lab notebooks

diagrams: setup
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[sim]'
	$(BIN)/python -m engine.runtime.diagrams docs/lifecycles.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants
