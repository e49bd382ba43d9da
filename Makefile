# Sijil: the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SIJIL := $(BIN)/sijil
PERSONS ?= 20000
SEED ?= 42
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: install run test ui bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# --compile-bytecode: uv does not write .pyc files by default, and where PYTHONDONTWRITEBYTECODE is
# set (this project's machines) every process (each refresh, each of its dbt runs, each test's
# subprocess) would compile Dagster, dbt and pandas from source again: about 3 s each.
$(VENV)/.installed: requirements.lock pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

install: $(VENV)/.installed

## make run: install, generate the sample, materialise every asset, print a summary
run: install
	$(SIJIL) generate --profile $${SIJIL_PROFILE:-jordan} --persons $(PERSONS) --seed $(SEED) --out data/sample
	$(SIJIL) materialize

## make test: the whole test suite, one test module per worker process (TEST_WORKERS, default 2)
TEST_WORKERS ?= 2
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

## make ui: the Dagster UI on http://127.0.0.1:3000
ui: install
	mkdir -p $(DAGSTER_HOME) && test -f $(DAGSTER_HOME)/dagster.yaml || cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

## make bench: the standard benchmark scales; results (JSON and markdown) in bench/results/
BENCH_SCALES ?= 10000 100000 1000000
bench: install
	for n in $(BENCH_SCALES); do $(SIJIL) bench --persons $$n --out bench/results/bench-$$n.json || exit 1; done

## make lock: re-resolve pinned dependencies after editing pyproject.toml
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet "uv==0.13.9"
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf data/sample data/warehouse data/dagster_home
