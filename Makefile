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

.PHONY: demo test lint typecheck pytest services system-packages migrate serve bench dist cluster drill clean help

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

cluster:
	@bash scripts/cluster.sh up

# the cluster drills (issue 17): a fresh local cluster, the drills against it, the cluster removed
drill: $(STAMP) services
	@bash scripts/cluster.sh down >/dev/null 2>&1 || true
	@bash scripts/cluster.sh up
	LIENTHONG_DRILLS=1 $(BIN)/pytest -s tests/test_cluster_drills.py $(ARGS); status=$$?; \
	  bash scripts/cluster.sh down; exit $$status

dist: $(STAMP)
	$(BIN)/python -m pip wheel . --no-deps -w dist --quiet
	@ls dist/*.whl

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
