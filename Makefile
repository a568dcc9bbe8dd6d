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
# Debian packages the tests need (`make system-deps`): the browser, audio tools, fonts;
# the real node's runtime (runc, CNI plugins, iptables/ipset for kube-proxy and kube-router,
# a static busybox for the volume-provisioner's helper pods); Docker and mmdebstrap to build our
# images on Debian stand-ins of their public base images.
SYSTEM_PACKAGES := chromium ffmpeg sox libsox-fmt-all espeak-ng fonts-dejavu-core fonts-noto-cjk \
	runc containernetworking-plugins iptables ipset conntrack iproute2 busybox-static \
	docker.io mmdebstrap

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
test: install kube-build system-deps ## Run every test (starts the servers the tests need)
	$(BIN)/pytest $(PYTEST_ARGS)
	cd $(FRONTEND) && npm test

.PHONY: kube-build
kube-build: install ## Build the pinned Kubernetes binaries once (cached by version in ~/.cache/skyras)
	$(BIN)/python -m tests.cluster build

.PHONY: lint
lint: install ## ruff, mypy and the dependency rules between our packages (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

.PHONY: fmt
fmt: install ## Format and fix what ruff can
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: kube-up
kube-up: install ## Start a real Kubernetes cluster: control plane + the real node skyras-node (builds it once, ~35 min)
	$(BIN)/python -m tests.cluster up

.PHONY: kube-images
kube-images: install ## Build our images (Debian stand-in bases) and load them into the real node of `make kube-up`
	$(BIN)/python -m tests.cluster images

.PHONY: kube-down
kube-down: ## Stop the control plane started by `make kube-up`
	$(BIN)/python -m tests.cluster down

.PHONY: operator
operator: install ## Run the operator against the current kubeconfig (all namespaces)
	$(BIN)/kopf run -m skyras_operator.main --all-namespaces --liveness=http://127.0.0.1:8080/healthz

.PHONY: clean
clean: ## Remove the virtual environment and local data (.skyras/)
	rm -rf $(VENV) .skyras $(FRONTEND)/node_modules

## Kubernetes ------------------------------------------------------------------
# For machines with Docker, kind, skaffold and helm (kind-config.yaml,
# skaffold.yaml, charts/skyras). Without Docker, `make chart-test` checks the
# chart against the local control plane of tests/cluster.
KIND_CLUSTER := skyras
K8S_NAMESPACE := skyras

.PHONY: kind-up
kind-up: ## Create the kind cluster `skyras` (kind-config.yaml) if it does not exist
	@kind get clusters 2>/dev/null | grep -qx $(KIND_CLUSTER) || kind create cluster --config kind-config.yaml
	kubectl cluster-info --context kind-$(KIND_CLUSTER)

.PHONY: deploy
deploy: kind-up ## Build the images, load them into kind and install the chart (skaffold run)
	skaffold run --kube-context kind-$(KIND_CLUSTER)

.PHONY: e2e
e2e: deploy ## Deploy to kind, then run the chart's helm tests and the kube-marked tests against it
	helm test skyras -n $(K8S_NAMESPACE) --kube-context kind-$(KIND_CLUSTER) --logs
	SKYRAS_KUBE_EXTERNAL=1 KUBECONFIG="$$(mktemp)" bash -c 'kind get kubeconfig --name $(KIND_CLUSTER) > "$$KUBECONFIG" && $(BIN)/pytest tests/chart -m kube $(PYTEST_ARGS)'

.PHONY: chart-lint
chart-lint: install ## helm lint --strict charts/skyras (helm from tests/cluster's pinned build)
	"$$($(BIN)/python -c 'from tests.cluster.build import ensure_binaries; print(ensure_binaries(("helm",)).helm)')" lint --strict charts/skyras

.PHONY: chart-test
chart-test: install ## Chart tests: lint, template, dry-run, install/upgrade/uninstall on the local control plane
	$(BIN)/pytest tests/chart $(PYTEST_ARGS)

.PHONY: system-deps
system-deps: ## Install the Debian packages the tests use (chromium; ffmpeg, sox, espeak-ng for audio; fonts) when missing
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi
