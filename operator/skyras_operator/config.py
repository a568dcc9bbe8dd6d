"""The operator's settings, read once from the environment (prefix SKYRAS_).

Filled by `Settings.from_env()` at startup (main.py puts it in kopf's memo);
read by the handlers. The reconcile interval is also read at import time by
handlers/agent.py, because kopf's timer decorator takes it then.

The platform env (SKYRAS_OPERATOR_AGENT_ENV) is how an Agent applied with
plain kubectl gets the database, Redis and logging settings: the Helm chart
renders them once for the operator, which prepends them to the env of every
Agent in its own namespace (POD_NAMESPACE, from the downward API; the one
variable without our prefix, as Kubernetes' convention names it). Agents in
other namespaces get none: the Secrets those entries name live in the
operator's namespace only.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from typing import Any

from skyras_operator import constants

DEFAULT_ENDPOINT_TEMPLATE = "http://{name}.{namespace}.svc:{port}"
AGENT_ENV = "SKYRAS_OPERATOR_AGENT_ENV"
_ENV_NAME = re.compile(constants.ENV_NAME_PATTERN)


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{key} must be a number, got {raw!r}") from exc
    if value < 0:
        raise ValueError(f"{key} must not be negative, got {raw!r}")
    return value


def _agent_env(env: Mapping[str, str]) -> tuple[Mapping[str, Any], ...]:
    """SKYRAS_OPERATOR_AGENT_ENV: a JSON list of Kubernetes EnvVar objects."""
    raw = env.get(AGENT_ENV, "").strip()
    if not raw:
        return ()
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{AGENT_ENV} must be a JSON list of EnvVar objects: {exc}") from exc
    if not isinstance(entries, list):
        raise ValueError(f"{AGENT_ENV} must be a JSON list of EnvVar objects, got {raw[:80]!r}")
    names: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{AGENT_ENV}[{index}]"
        if not isinstance(entry, dict) or not _ENV_NAME.match(str(entry.get("name", ""))):
            raise ValueError(f"{where} needs a valid name ({{name, value}} or {{name, valueFrom}})")
        if ("value" in entry) == ("valueFrom" in entry):
            raise ValueError(f"{where} ({entry['name']}) takes exactly one of value or valueFrom")
        if "value" in entry and not isinstance(entry["value"], str):
            raise ValueError(f"{where} ({entry['name']}).value must be a string")
        if "valueFrom" in entry and not isinstance(entry["valueFrom"], dict):
            raise ValueError(f"{where} ({entry['name']}).valueFrom must be an object")
        if entry["name"] in names:
            raise ValueError(f"{where}: {entry['name']} appears twice")
        names.add(entry["name"])
    return tuple(entries)


@dataclasses.dataclass(frozen=True)
class Settings:
    hub_url: str = "http://127.0.0.1:8000"
    hub_token: str = ""
    hub_timeout: float = 5.0
    # No URL: autoscaled agents keep their replicas and say Scaling=False.
    redis_url: str | None = None
    # Where the hub reaches an agent: {name}, {namespace}, {port} are filled
    # in. Tests point it at local processes (http://127.0.0.1:{port}).
    endpoint_template: str = DEFAULT_ENDPOINT_TEMPLATE
    # Drift repair and autoscaling period (seconds).
    reconcile_interval: float = 15.0
    # Retry delay after a failure: min(backoff_base * 2**retry, backoff_max).
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    # Deletion waits at most this long for the hub before letting go.
    delete_timeout: float = 300.0
    # Env entries prepended to every Agent's container in `namespace` (the
    # operator's own); None: no namespace known, so no Agent gets them.
    agent_env: tuple[Mapping[str, Any], ...] = ()
    namespace: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        template = env.get("SKYRAS_OPERATOR_ENDPOINT_TEMPLATE", "").strip()
        settings = cls(
            hub_url=(env.get("SKYRAS_HUB_URL", "").strip() or cls.hub_url).rstrip("/"),
            hub_token=env.get("SKYRAS_HUB_TOKEN", "").strip(),
            hub_timeout=_float(env, "SKYRAS_OPERATOR_HUB_TIMEOUT", cls.hub_timeout),
            redis_url=env.get("SKYRAS_REDIS_URL", "").strip() or None,
            endpoint_template=template or DEFAULT_ENDPOINT_TEMPLATE,
            reconcile_interval=reconcile_interval_from_env(env),
            backoff_base=_float(env, "SKYRAS_OPERATOR_BACKOFF_BASE", cls.backoff_base),
            backoff_max=_float(env, "SKYRAS_OPERATOR_BACKOFF_MAX", cls.backoff_max),
            delete_timeout=_float(env, "SKYRAS_OPERATOR_DELETE_TIMEOUT", cls.delete_timeout),
            agent_env=_agent_env(env),
            namespace=env.get("POD_NAMESPACE", "").strip() or None,
        )
        if settings.agent_env and settings.namespace is None:
            raise ValueError(
                f"{AGENT_ENV} is set but POD_NAMESPACE is not: set it to the namespace whose "
                "Agents get these entries (in a pod: the downward API's metadata.namespace)"
            )
        # Fail at startup, not at the first agent, on a template with unknown fields.
        settings.endpoint_template.format(name="n", namespace="ns", port=1)
        return settings

    def platform_env_for(self, namespace: str) -> tuple[Mapping[str, Any], ...]:
        """The platform env of an Agent in `namespace`: the operator's own only."""
        return self.agent_env if namespace == self.namespace else ()

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (0 for the first)."""
        return min(self.backoff_base * (2 ** min(max(retry, 0), 30)), self.backoff_max)


def reconcile_interval_from_env(env: Mapping[str, str] | None = None) -> float:
    env = os.environ if env is None else env
    value = _float(env, "SKYRAS_OPERATOR_RECONCILE_INTERVAL", Settings.reconcile_interval)
    return max(value, 1.0)
