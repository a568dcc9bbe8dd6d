# SkyRas v2. `make up` runs the whole system locally; `make test` runs every test.
# Both install what is missing first (Python packages into .venv/, Node packages
# into services/frontend/node_modules/), so they work on a fresh machine.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin
FRONTEND := services/frontend
PYTEST_ARGS ?=

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock shared/pyproject.toml $(wildcard services/*/pyproject.toml) $(wildcard operator/pyproject.toml)
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --python $(BIN)/python requirements.lock
	@touch $@

$(FRONTEND)/node_modules/.installed: $(wildcard $(FRONTEND)/package-lock.json)
	@if [ -f $(FRONTEND)/package.json ]; then cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; fi

.PHONY: install
install: $(VENV)/.installed $(FRONTEND)/node_modules/.installed ## Install every dependency (pinned) for development

.PHONY: lock
lock: ## Re-pin Python dependencies (requirements.in -> requirements.lock)
	$(UV) pip compile --quiet --generate-hashes --python-version 3.11 requirements.in -o requirements.lock

.PHONY: up
up: install ## Run hub, agents and frontend locally (embedded Postgres/Redis unless configured)
	$(BIN)/skyras up

.PHONY: down
down: ## Stop what `make up` started
	$(BIN)/skyras down

.PHONY: status
status: ## Show the local processes, their health, and the database and Redis URLs
	$(BIN)/skyras status

.PHONY: test
test: install ## Run every test (starts the servers the tests need)
	$(BIN)/pytest $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

.PHONY: fmt
fmt: install ## Format and fix what ruff can
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: kube-up
kube-up: install ## Start a real Kubernetes control plane on loopback (builds it once, ~20 min)
	$(BIN)/python -m tests.cluster up

.PHONY: kube-down
kube-down: ## Stop the control plane started by `make kube-up`
	$(BIN)/python -m tests.cluster down

.PHONY: operator
operator: install ## Run the operator against the current kubeconfig (all namespaces)
	$(BIN)/kopf run -m skyras_operator.main --all-namespaces --liveness=http://127.0.0.1:8080/healthz

.PHONY: clean
clean: ## Remove the virtual environment and local data (.skyras/)
	rm -rf $(VENV) .skyras $(FRONTEND)/node_modules
