"""Agent status: every registered agent's /health, checked at once."""

import asyncio
import time

import aiohttp
from fastapi import APIRouter, Request

from skyras_hub.api.deps import AuthDep, ProxyDep, RegistryDep, SettingsDep
from skyras_hub.models import AgentHealth, RouteSummary, StatusPublic
from skyras_hub.registry import RegisteredAgent

router = APIRouter(prefix="/api/v2/agents", tags=["agents"])


async def check_agent(
    session: aiohttp.ClientSession, agent: RegisteredAgent, timeout: float, request_id: str
) -> AgentHealth:
    started = time.perf_counter()
    error: str | None = None
    try:
        async with (
            asyncio.timeout(timeout),
            session.get(f"{agent.endpoint}/health", headers={"x-request-id": request_id}) as reply,
        ):
            await reply.read()
        status = "healthy" if reply.status == 200 else "unhealthy"
        if status == "unhealthy":
            error = f"/health answered {reply.status}"
    except TimeoutError:
        status, error = "down", f"no answer within {timeout:g}s"
    except (aiohttp.ClientError, OSError) as exc:
        status, error = "down", str(exc) or type(exc).__name__
    latency = round((time.perf_counter() - started) * 1000, 2)
    return AgentHealth(
        name=agent.name,
        status=status,  # type: ignore[arg-type]
        endpoint=agent.endpoint,
        version=agent.record.version,
        latency_ms=latency,
        routes=[RouteSummary.model_validate(r) for r in agent.route_summaries()],
        description=agent.record.description,
        error=error,
    )


@router.get(
    "/status",
    response_model=StatusPublic,
    response_model_exclude_none=True,
    summary="Health of every registered agent",
    description=(
        "Calls each registered agent's `/health` concurrently (each within "
        "`SKYRAS_STATUS_TIMEOUT_SECONDS`, 1.5 s by default). An agent is `healthy` (200), "
        "`unhealthy` (answered otherwise) or `down` (no answer). Overall: `ok` when all are "
        "healthy, `down` when none is, `degraded` in between."
    ),
)
async def agents_status(
    request: Request, registry: RegistryDep, hub_proxy: ProxyDep, settings: SettingsDep, _: AuthDep
) -> StatusPublic:
    """Check every agent's health."""
    agents = registry.all()
    results = await asyncio.gather(
        *(
            check_agent(
                hub_proxy.session, a, settings.status_timeout_seconds, request.state.request_id
            )
            for a in agents
        )
    )
    healthy = sum(1 for r in results if r.status == "healthy")
    if healthy == len(results):
        overall = "ok"
    elif healthy == 0:
        overall = "down"
    else:
        overall = "degraded"
    return StatusPublic(status=overall, agents=list(results))  # type: ignore[arg-type]
