"""The operator's entry point: `kopf run -m skyras_operator.main --all-namespaces`.

Importing this module registers the handlers (handlers/agent.py) and the
startup/cleanup that open and close the clients they share (runtime.py).

Running it
    make operator  (or)  kopf run -m skyras_operator.main --all-namespaces \
        --liveness=http://0.0.0.0:8080/healthz
    kopf run -m skyras_operator.main --namespace=skyras      # one namespace
It talks to the cluster of the in-cluster account or the current kubeconfig.
Settings come from the environment (config.py): SKYRAS_HUB_URL,
SKYRAS_HUB_TOKEN (a key with the `registry` scope), SKYRAS_REDIS_URL (lag for
autoscaling), SKYRAS_OPERATOR_ENDPOINT_TEMPLATE, SKYRAS_OPERATOR_RECONCILE_INTERVAL,
SKYRAS_OPERATOR_AGENT_ENV with POD_NAMESPACE (the platform env of its namespace's Agents).

Peering or standalone
    kopf "peering" lets several operator processes watching the same
    resources agree that only the highest-priority one acts (the others
    pause). It needs kopf's peering CRDs (clusterkopfpeerings /
    kopfpeerings, from kopf's documentation) and a peering object named
    SKYRAS_OPERATOR_PEERING (default `skyras`).
    - standalone (the default here, `SKYRAS_OPERATOR_PEERING` unset or
      `--standalone`): no peering objects are read or written. Run exactly
      one replica (a Deployment with replicas: 1 and strategy
      Recreate), or two operators will both reconcile (harmless, as every
      step is idempotent, but noisy).
    - peering (`SKYRAS_OPERATOR_PEERING=<name>`, or `kopf run --peering=<name>`):
      for rolling upgrades or a developer's `make operator` running beside the
      in-cluster one (give the developer a higher `--priority` and the
      in-cluster one pauses). Needs the peering CRDs and RBAC on them
      (manifests/rbac/ grants it).
The liveness endpoint (kopf's `--liveness`) answers 200 while the operator's
event loop runs and the probe below succeeds.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import kopf
from redis.asyncio import Redis

from skyras_operator import config, constants, hub, kube, runtime
from skyras_operator.handlers import agent  # noqa: F401  (registers the handlers)


@kopf.on.startup()
async def configure(
    settings: kopf.OperatorSettings,
    memo: kopf.Memo,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    """Framework settings, then the clients the handlers share."""
    # kopf's progress and diff-base go to annotations: the CRD's strict
    # status schema would prune status.kopf.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
        prefix=constants.ANNOTATIONS_PREFIX
    )
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=constants.ANNOTATIONS_PREFIX, key="last-handled-configuration"
    )
    settings.persistence.finalizer = constants.FINALIZER
    settings.posting.reporting_component = constants.OPERATOR_NAME
    settings.execution.max_workers = 4
    settings.watching.server_timeout = 300
    peering = os.environ.get("SKYRAS_OPERATOR_PEERING", "").strip()
    if peering:
        settings.peering.name = peering
        settings.peering.mandatory = True
    elif not settings.peering.mandatory:
        # `kopf run --peering=NAME` (applied before this handler) sets mandatory.
        settings.peering.standalone = True

    operator_settings = config.Settings.from_env()
    redis = (
        Redis.from_url(operator_settings.redis_url, decode_responses=True, socket_timeout=5)
        if operator_settings.redis_url
        else None
    )
    memo[runtime.RUNTIME_KEY] = runtime.Runtime(
        settings=operator_settings,
        hub=hub.HubClient(
            operator_settings.hub_url,
            operator_settings.hub_token,
            timeout=operator_settings.hub_timeout,
        ),
        kube=kube.Kube(kube.load_config()),
        redis=redis,
    )
    logger.info(
        "SkyRas operator: hub %s, endpoints %s, lag from %s, every %.0fs, platform env %s",
        operator_settings.hub_url,
        operator_settings.endpoint_template,
        "Redis" if redis else "nowhere (autoscaling holds replicas)",
        operator_settings.reconcile_interval,
        f"{[e['name'] for e in operator_settings.agent_env]} for Agents in {operator_settings.namespace}"
        if operator_settings.agent_env
        else "none",
    )


@kopf.on.cleanup()
async def close_clients(memo: kopf.Memo, **_: Any) -> None:
    rt = memo.get(runtime.RUNTIME_KEY)
    if isinstance(rt, runtime.Runtime):
        await rt.aclose()


@kopf.on.probe(id="agents")
def count_agents(memo: kopf.Memo, **_: Any) -> int:
    """Liveness detail: how many Agents the operator is holding locks for."""
    return len(runtime.of(memo).locks)


def run() -> None:
    """`skyras-operator`: the same as `kopf run -m skyras_operator.main --all-namespaces`."""
    args = sys.argv[1:] or ["--all-namespaces"]
    sys.argv = ["kopf", "run", "-m", "skyras_operator.main", *args]
    from kopf import cli

    cli.main()
