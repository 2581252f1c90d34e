# Developer entry points: `make run` serves the dashboard, `make test` runs every test.
# Recipes run in bash so `set -e`, `$(...)` and `[ ... ]` behave the same everywhere.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_PY := $(VENV)/bin/python
# Touched after a successful install; requirements.txt newer than it means reinstall.
STAMP := $(VENV)/.installed
PIP := $(VENV_PY) -m pip --quiet --disable-pip-version-check --no-input
CHROMIUM := /usr/bin/chromium
HOST := 127.0.0.1
PORT := 8501
LINT_PATHS := app components pages tests streamlit_app.py
# Extra arguments for pytest, e.g. make test PYTEST_ARGS="tests/unit -q".
PYTEST_ARGS ?=
# When set (by .ci/run), the recipe writes pytest's own exit code there: make itself
# exits 2 on any failure, which would hide pytest's 5 ("no tests collected").
PYTEST_STATUS_FILE ?=

.PHONY: help run test lint clean clean-db venv chromium bench

help:
	@echo "make run       set up $(VENV), migrate, load demo data once, serve http://$(HOST):$(PORT)"
	@echo "make test      set up $(VENV) (and Debian chromium), run pytest with a throwaway PostgreSQL"
	@echo "               (PYTEST_ARGS=\"tests/unit -q\" runs a part)"
	@echo "make lint      ruff check and ruff format --check"
	@echo "make clean     remove caches; make clean-db also removes data/*.db"
	@echo "make bench     measure pages, KPIs, writes, import at 100,000 customers on SQLite and"
	@echo "               PostgreSQL (BENCH_ARGS=\"--db sqlite --quick\"); not part of make test"

# Recreate the venv when its python is missing or broken (e.g. the base Python it was
# made from was removed); reinstall when requirements.txt changed since the last install.
venv:
	@if ! $(VENV_PY) -c 'import sys' >/dev/null 2>&1; then \
		echo "==> Creating $(VENV) with $$($(PYTHON) --version)"; \
		rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); \
	fi
	@if [ ! -f $(STAMP) ] || [ requirements.txt -nt $(STAMP) ]; then \
		echo "==> Installing requirements.txt into $(VENV)"; \
		$(PIP) install -r requirements.txt && touch $(STAMP); \
	fi

# The browser tests drive Debian's chromium; Playwright's own browser download cannot
# work without general internet access.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		sudo=""; \
		if [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo="sudo"; fi; \
		echo "==> Installing Debian's chromium (for the browser tests)"; \
		$$sudo apt-get update -qq \
			&& $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
			|| { echo "Could not install chromium; install it with apt-get as root." >&2; exit 1; }; \
	fi

run: export CRM_DEMO := 1
run: venv
	$(VENV_PY) -m app migrate
	$(VENV_PY) -m app seed-demo --scale small --if-empty --demo-users
	@echo "CRM dashboard: http://$(HOST):$(PORT)"
	exec $(VENV)/bin/streamlit run streamlit_app.py --server.headless true \
		--server.address $(HOST) --server.port $(PORT) --browser.gatherUsageStats false

test: venv chromium
	@echo "==> pytest $(PYTEST_ARGS)"
	@status=0; \
	CRM_REQUIRE_PG=1 bash scripts/with_postgres.sh $(VENV_PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ -n "$(PYTEST_STATUS_FILE)" ]; then echo "$$status" > "$(PYTEST_STATUS_FILE)"; fi; \
	exit $$status

# Generates data/bench/medium.db and a PostgreSQL cluster in data/bench/pg once, then
# reuses them; results go to data/bench/results-<db>.md. Takes a while: see the README.
# BENCH_ARGS passes options, e.g. make bench BENCH_ARGS="--db sqlite --quick".
bench: venv
	bash scripts/bench_postgres.sh $(VENV_PY) scripts/bench.py $(BENCH_ARGS)

lint: venv
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis test-results
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

clean-db: clean
	rm -f data/*.db data/*.db-*
