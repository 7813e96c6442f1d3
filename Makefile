# lienthong — two commands for a fresh machine: `make demo` and `make test`.
# Each installs what it needs (virtualenv, packages, database schema) and starts
# RabbitMQ and PostgreSQL when they are stopped.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
# what scripts/database-access.sh wrote for this machine (a PostgreSQL this set-up installed)
WITH   := bash scripts/with-setup-env.sh

.PHONY: demo test lint typecheck pytest services system-packages migrate serve bench dist clean help

help:
	@echo "make demo   — start services, set up the development CA and two agencies, run the demo"
	@echo "make test   — ruff, mypy --strict and pytest against the real RabbitMQ and PostgreSQL"
	@echo "make serve  — run the hub (lienthong serve)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) 2>/dev/null || bash scripts/venv.sh $(PYTHON) $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

services:
	@bash scripts/services.sh

system-packages:
	@bash scripts/system-packages.sh

migrate: $(STAMP) services
	$(WITH) $(BIN)/lienthong migrate

demo: $(STAMP) services
	$(WITH) $(BIN)/lienthong demo $(ARGS)

serve: $(STAMP) services
	$(WITH) $(BIN)/lienthong serve $(ARGS)

bench: $(STAMP) services
	$(WITH) $(BIN)/lienthong bench $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check hub adapters tools tests
	$(BIN)/ruff format --check hub adapters tools tests

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) services system-packages
	$(WITH) $(BIN)/pytest $(ARGS)

test: lint typecheck pytest

dist: $(STAMP)
	$(BIN)/python -m pip wheel . --no-deps -w dist --quiet
	@ls dist/*.whl

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
