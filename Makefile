# storepipe: the commands people type. Every target bootstraps .venv itself.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STOREPIPE := $(BIN)/storepipe
WINDOW ?= 2024-01-01T10:00
ENV_FILE := .storepipe/env

.PHONY: help venv run up down status test ci lint format warehouse-migration db-migration report

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

$(BIN)/storepipe: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

venv: $(BIN)/storepipe ## create .venv and install storepipe with its dev tools

up: venv ## start the embedded stack on 127.0.0.1 (PostgreSQL, S3, risk API, luigid)
	$(STOREPIPE) up

down: venv ## stop the embedded stack
	$(STOREPIPE) down

status: venv ## what runs where
	$(STOREPIPE) status

run: up ## start the stack, generate WINDOW's source data, run it end to end, print a report
	$(STOREPIPE) generate --window $(WINDOW)
	source $(ENV_FILE) && $(BIN)/luigi --module storepipe RunWindow --window $(WINDOW) --scheduler-url "$$LUIGID_URL" --log-level WARNING
	$(STOREPIPE) report --window $(WINDOW)

report: venv ## print what WINDOW produced
	$(STOREPIPE) report --window $(WINDOW)

test: venv ## run every test against real servers (started by the tests)
	$(BIN)/pytest

lint: venv ## ruff and sqlfluff, no changes
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint sql/

format: venv ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

ci: lint test ## lint, then the tests

warehouse-migration: venv ## apply pending warehouse migrations (WAREHOUSE_URL)
	$(STOREPIPE) migrate --which warehouse

db-migration: venv ## start a new warehouse migration file: make db-migration NAME=add_something
	@test -n "$(NAME)" || { echo "usage: make db-migration NAME=short_description"; exit 2; }
	@n=$$(ls sql/migrations/warehouse | sed -n 's/^\([0-9]\{4\}\)_.*/\1/p' | sort | tail -1); \
	 next=$$(printf '%04d' $$((10#$${n:-0} + 1))); \
	 f=sql/migrations/warehouse/$${next}_$(NAME).sql; \
	 printf -- '-- %s: forward-only; describe what and why.\n' "$(NAME)" > $$f; echo "created $$f"
