"""The operator's settings, read once from the environment (prefix SKYRAS_).

Filled by `Settings.from_env()` at startup (main.py puts it in kopf's memo);
read by the handlers. The reconcile interval is also read at import time by
handlers/agent.py, because kopf's timer decorator takes it then.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

DEFAULT_ENDPOINT_TEMPLATE = "http://{name}.{namespace}.svc:{port}"


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
        )
        # Fail at startup, not at the first agent, on a template with unknown fields.
        settings.endpoint_template.format(name="n", namespace="ns", port=1)
        return settings

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (0 for the first)."""
        return min(self.backoff_base * (2 ** min(max(retry, 0), 30)), self.backoff_max)


def reconcile_interval_from_env(env: Mapping[str, str] | None = None) -> float:
    env = os.environ if env is None else env
    value = _float(env, "SKYRAS_OPERATOR_RECONCILE_INTERVAL", Settings.reconcile_interval)
    return max(value, 1.0)
