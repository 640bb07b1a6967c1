# The commands the README shows. `make run` serves the app; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format clean bench bench-million bench-observability

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create a virtualenv: on Debian, apt-get install python3-venv"; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

run: $(VENV)/.runtime
	$(BIN)/flask db upgrade
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: $(VENV)/.dev
	$(BIN)/pytest $(PYTEST_ARGS)

# Load tests against baselines (needs wrk: apt-get install -y wrk); writes bench/RESULTS.md.
# BENCH_ARGS="--sizes 10000 --duration 3" for a quicker run. Databases go to /tmp, not the repo.
bench: $(VENV)/.dev
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Every kind of URL at 1M users x 3M posts on SQLite and PostgreSQL (SPEC §14), into bench/RESULTS.md.
# Seeding takes minutes: BENCH_MILLION_ARGS=--reuse keeps the databases for the next run. The
# PostgreSQL database (BENCH_PG_URL, default bench_million on 127.0.0.1) is dropped and made again.
bench-million: $(VENV)/.dev
	$(BIN)/python bench/million.py $(BENCH_MILLION_ARGS)

# What metrics and the JSON request log cost: /users before and after them (needs wrk too).
bench-observability: $(VENV)/.dev
	$(BIN)/python bench/observability.py $(BENCH_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache
