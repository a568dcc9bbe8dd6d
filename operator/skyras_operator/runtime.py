"""What the handlers share while the operator runs: settings and open clients.

Built by main.py's startup handler and stored in kopf's memo under
`RUNTIME_KEY`; closed by its cleanup handler. Handlers get it with `of(memo)`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import MutableMapping
from typing import Any

from redis.asyncio import Redis

from skyras_operator import config, hub, kube

RUNTIME_KEY = "skyras_runtime"


@dataclasses.dataclass
class Runtime:
    settings: config.Settings
    hub: hub.HubClient
    kube: kube.Kube
    redis: Redis | None = None
    # One reconciliation at a time per Agent (change handlers, the timer and
    # the Deployment watcher all converge the same objects).
    locks: dict[tuple[str, str], asyncio.Lock] = dataclasses.field(default_factory=dict)

    def lock_for(self, namespace: str, name: str) -> asyncio.Lock:
        return self.locks.setdefault((namespace, name), asyncio.Lock())

    def forget(self, namespace: str, name: str) -> None:
        self.locks.pop((namespace, name), None)

    async def aclose(self) -> None:
        await self.hub.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        self.kube.close()


def of(memo: MutableMapping[str, Any]) -> Runtime:
    runtime = memo.get(RUNTIME_KEY)
    if not isinstance(runtime, Runtime):
        raise RuntimeError("the operator's startup handler has not run (skyras_operator.main)")
    return runtime
