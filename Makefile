# skyspace: `make run` serves the API on the embedded database, `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test system-deps browser-deps web-deps lint db-down clean

system-deps:
	scripts/install-system-deps

browser-deps:
	scripts/install-system-deps --browser

# the viewer's MapLibre GL JS, from the npm registry (app/web/package.json)
web-deps: app/web/node_modules/maplibre-gl/dist/maplibre-gl.mjs

app/web/node_modules/maplibre-gl/dist/maplibre-gl.mjs: app/web/package.json
	npm install --prefix app/web --no-audit --no-fund --loglevel=error
	@touch $@

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

run: system-deps $(VENV)/.installed web-deps
	@if [ -z "$$SKYSPACE_DATABASE_URL" ]; then $(BIN)/skyspace db up >/dev/null; fi
	$(BIN)/skyspace migrate
	$(BIN)/skyspace demo
	@echo "open http://$(HOST):$(PORT)/viewer (map viewer), /docs (API), /healthz"
	$(BIN)/skyspace serve --host $(HOST) --port $(PORT)

test: browser-deps $(VENV)/.installed-dev web-deps
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

db-down: $(VENV)/.installed
	$(BIN)/skyspace db down

clean: db-down
	rm -rf $(VENV) .skyspace app/web/node_modules
