# Every Python image (skyras/hub, the agents, skyras/operator) from one recipe.
# Built from the repository root; each image's build arguments live in
# tests/cluster/images.py (PROJECT_IMAGES) and skaffold.yaml, e.g.
#   docker build -f docker/python-service.Dockerfile --build-arg SERVICE=hub \
#     --build-arg PROJECT=services/hub --build-arg PACKAGE=skyras_hub \
#     --build-arg PORT=8000 -t skyras/hub .
#   ... --build-arg PROJECT=operator --build-arg PORT=8080 \
#     --build-arg HEALTH_PATH=/healthz --target operator -t skyras/operator .
# Builder: a venv holding exactly the third-party packages PROJECT needs, at the
# versions and hashes of requirements.lock (docker/lock_subset.py derives them from
# the projects' metadata and the lock), then our projects.
# Runtime: the same slim Python, the Debian packages of SYSTEM_PACKAGES (Ari's ffmpeg,
# Giorgio's fonts), the venv and a non-root user; no compiler, no pip.
# Targets: `service` (the default, uvicorn serving PACKAGE.main:app on PORT),
# `dev` (the same, our sources writable, for skaffold dev) and `operator` (kopf).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ARG PROJECT
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Only the lock and the metadata first, so that the third-party layer is rebuilt
# when they change, not on every source change.
# Our libraries (contract/, shared/) are copied for every image; lock_subset.py
# installs those in PROJECT's closure only (the operator needs no shared/).
COPY requirements.lock docker/lock_subset.py ./
COPY contract/pyproject.toml contract/
COPY shared/pyproject.toml shared/
COPY ${PROJECT}/pyproject.toml ${PROJECT}/
RUN test -n "$PROJECT" \
    && python lock_subset.py "$PROJECT" > /tmp/requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-deps --require-hashes -r /tmp/requirements.txt
COPY contract/ contract/
COPY shared/ shared/
COPY ${PROJECT}/ ${PROJECT}/
# Our projects PROJECT needs, dependencies first.
RUN python lock_subset.py --projects "$PROJECT" > /tmp/projects.txt \
    && xargs --arg-file=/tmp/projects.txt /opt/venv/bin/pip install --no-deps \
    && /opt/venv/bin/pip uninstall --yes pip \
    && find /opt/venv -name __pycache__ -prune -exec rm -rf {} +

FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
ARG DESCRIPTION="SkyRas ${SERVICE}"
ARG PORT
ARG HEALTH_PATH=/health
ARG SYSTEM_PACKAGES=""
LABEL org.opencontainers.image.title="skyras/${SERVICE}" \
      org.opencontainers.image.description="${DESCRIPTION}"
# Debian packages unpinned unless the image's build argument pins them: the archive
# keeps only the current (security-patched) build of a release, so a pin stops building.
# `apt-get clean`: a base without Docker's apt hook would keep the downloaded .debs.
# hadolint ignore=DL3008,SC2086
RUN if [ -n "$SYSTEM_PACKAGES" ]; then \
      apt-get update \
      && apt-get install --yes --no-install-recommends $SYSTEM_PACKAGES \
      && apt-get clean \
      && rm -rf /var/lib/apt/lists/*; \
    fi
RUN groupadd --gid 10001 skyras \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin skyras
COPY --from=builder /opt/venv /opt/venv
# A read-only root filesystem in Kubernetes: whatever is written goes to /tmp (an emptyDir).
# HEALTHCHECK_URL: what the health check asks (its exec form cannot read build arguments).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    SKYRAS_HOST=0.0.0.0 \
    SKYRAS_DATA_DIR=/tmp/skyras \
    HEALTHCHECK_URL=http://127.0.0.1:${PORT}${HEALTH_PATH}
WORKDIR /tmp
USER 10001:10001
EXPOSE ${PORT}
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['HEALTHCHECK_URL'], timeout=4)"]

# skyras/operator (--target operator): kopf, its liveness endpoint on PORT 8080.
FROM runtime AS operator
ENTRYPOINT ["skyras-operator"]
CMD ["--all-namespaces", "--liveness=http://0.0.0.0:8080/healthz"]

# The hub and the agents: `uvicorn` reads its app, host and port from these
# (UVICORN_*), so the command is the same as the chart's and the Agent's
# spec.command: uvicorn PACKAGE.main:app --host 0.0.0.0 --port PORT.
FROM runtime AS service
ARG PACKAGE
ARG PORT
ENV UVICORN_APP=${PACKAGE}.main:app \
    UVICORN_HOST=0.0.0.0 \
    UVICORN_PORT=${PORT}
CMD ["uvicorn"]

# `skaffold dev` only (target dev): our packages writable by the app user, so
# that file sync can replace the sources in place and `uvicorn --reload` runs them.
FROM service AS dev
USER 0
RUN find /opt/venv/lib -maxdepth 3 -type d -name "skyras*" -exec chown -R 10001:10001 {} +
USER 10001:10001

# The default target: the production image of a service.
FROM service
