# The two commands: `make run` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
# Two workers: the machines this runs on have two cores.
PYTEST_ARGS ?= -n 2
PORT ?= 8000

.PHONY: run test lint format bench clean services

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Casebook needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	mkdir -p var
	CASEBOOK_DEBUG=$${CASEBOOK_DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	CASEBOOK_DEBUG=$${CASEBOOK_DEBUG:-1} $(BIN)/python manage.py seed_demo
	CASEBOOK_DEBUG=$${CASEBOOK_DEBUG:-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python tools/local_imports.py
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check
	PYTHON=$(BIN)/python bash deploy/check.sh

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# PostgreSQL, Redis, RabbitMQ and Chromium as CI has them (installs and starts what is missing).
services:
	bash .ci/services

bench: $(STAMP)
	$(BIN)/python bench/pages.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
