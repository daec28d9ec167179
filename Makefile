# OneGrid: `make run` and `make test` do all the set-up on a fresh machine.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ONEGRID_SHARED_DATA ?= $(abspath ../shared/data)

.DEFAULT_GOAL := help
.PHONY: web help run test lint format typecheck bench migrate demo clean check-schema

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create the virtual environment and install OneGrid

run: $(STAMP) web ## Migrate, load the demo city if empty, serve on http://127.0.0.1:8000
	$(BIN)/onegrid run

test: $(STAMP) web ## Lint, type-check and run every test (SQLite, and PostgreSQL when reachable)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP) ## Format the code
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

typecheck: $(STAMP) ## mypy --strict
	$(BIN)/mypy

migrate: $(STAMP) ## Apply migrations to the configured database
	$(BIN)/onegrid migrate

check-schema: $(STAMP) ## Fail if models and migrations disagree
	$(BIN)/onegrid check-schema

demo: $(STAMP) ## Build the demo city and its two years of history in the configured database
	$(BIN)/onegrid demo

bench: $(STAMP) ## Run the benchmarks in bench/ and print their figures
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# The web front end (frontend/ → src/onegrid/web/static/dist): built when Node.js is present and the
# build is missing or older than its sources; without Node.js the API still runs and `/` says so.
WEB_INDEX := src/onegrid/web/static/dist/index.html
WEB_SRC := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html \
	frontend/package.json frontend/vite.config.ts frontend/tsconfig.json

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund

$(WEB_INDEX): frontend/node_modules/.package-lock.json $(WEB_SRC)
	cd frontend && npm run build

web: ## Build the web front end if Node.js is here and the build is missing or outdated
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(WEB_INDEX); \
	else echo "Node.js not found: the web front end is not built (install Node.js 20+, then make web)"; fi
