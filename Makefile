# Ringly: `make run` starts everything on the embedded default, `make test` runs the suite.
VENV ?= .venv
PY := $(VENV)/bin/python
SANDBOX_PORT ?= 8765
WEB_PORT ?= 5000

.PHONY: install run test smoke lint migrate sandbox bench load chaos clean

## Development installs requirements-dev.txt (it includes requirements.txt, which the image uses alone).
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## Start sandbox + web + worker + beat on the embedded default (SQLite, SQLite broker, sandbox).
run: install
	$(PY) scripts/run_dev.py --web-port $(WEB_PORT) --sandbox-port $(SANDBOX_PORT)

## The whole suite on PostgreSQL + Redis, then the smoke subset on the embedded default.
test: install lint
	$(PY) -m pytest -q
	RINGLY_TEST_DB=sqlite $(PY) -m pytest -q -m smoke

smoke: install
	RINGLY_TEST_DB=sqlite $(PY) -m pytest -q -m smoke

## ruff, and the import contracts in pyproject.toml (domain packages depend in one direction).
lint: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache

migrate: install
	$(VENV)/bin/flask --app wsgi db upgrade

## The Twilio sandbox alone, keeping what was bought in instance/sandbox-state.json.
sandbox: install
	$(PY) -m ringly.sandbox --port $(SANDBOX_PORT) --state-file instance/sandbox-state.json

## Benchmarks print figures; they are not tests.
bench: install
	$(PY) bench/provisioning.py
	$(PY) bench/voice.py

## Load, soak and restarts: mixed traffic on web, worker and beat for LOAD_SECONDS (75), with a
## private PostgreSQL and a private Redis each restarted once; prints figures, asserts nothing.
load: install
	$(PY) bench/load_soak.py

## The long fault-injection run: SIGKILLed workers, a Redis restart, lost purchase responses;
## CHAOS_PROVISIONS provisions (200 by default).
chaos: install
	$(PY) -m pytest -q -s -m chaos

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
