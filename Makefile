# skyspace: `make run` serves the API on the embedded database, `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test system-deps lint bench db-down clean

system-deps:
	scripts/install-system-deps

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "skyspace needs Python >= 3.11 ($(PYTHON) is older)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

run: system-deps $(VENV)/.installed
	@if [ -z "$$SKYSPACE_DATABASE_URL" ]; then $(BIN)/skyspace db up >/dev/null; fi
	$(BIN)/skyspace migrate
	@echo "open http://$(HOST):$(PORT)/docs (API) and http://$(HOST):$(PORT)/healthz"
	$(BIN)/skyspace serve --host $(HOST) --port $(PORT)

test: system-deps $(VENV)/.installed-dev
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

db-down: $(VENV)/.installed
	$(BIN)/skyspace db down

clean: db-down
	rm -rf $(VENV) .skyspace
