"""The route registry API: agents declare their endpoint, routes, events and chat keywords."""

from typing import Any

from fastapi import APIRouter, Response, status

from skyras.errors import ApiError
from skyras_hub import store
from skyras_hub.api.deps import (
    PoolDep,
    RedisDep,
    RegistryDep,
    RegistryReaderDep,
    RegistryWriterDep,
)
from skyras_hub.models import AgentPublic, AgentRegistration, AgentsPublic, agent_name_problem
from skyras_hub.registry import announce, change_event

router = APIRouter(prefix="/api/v2/registry", tags=["registry"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No API key, or an invalid one"},
    403: {"description": "The key lacks the scope needed"},
}


def _check_name(name: str) -> None:
    problem = agent_name_problem(name)
    if problem:
        raise ApiError(422, f"Invalid agent name {name!r}: {problem}", details={"name": name})


@router.put(
    "/agents/{name}",
    response_model=AgentPublic,
    summary="Register or replace an agent",
    description=(
        "Creates the agent's registration (201) or replaces it (200). The body is what "
        "`AgentManifest.registration_body()` produces; the local runner and the operator send it. "
        "Every hub replica routes the new routes within a second. Needs the `registry` scope, "
        "whatever the auth mode."
    ),
    responses={
        201: {"description": "Registered for the first time", "model": AgentPublic},
        422: {"description": "Invalid name, endpoint, route template or method"},
        **_ERRORS,
    },
)
async def register_agent(
    name: str,
    agent_in: AgentRegistration,
    response: Response,
    pool: PoolDep,
    redis: RedisDep,
    registry: RegistryDep,
    _: RegistryWriterDep,
) -> AgentPublic:
    """Create or replace an agent's registration."""
    _check_name(name)
    async with pool.connection() as conn:
        row, created = await store.upsert_agent(conn=conn, name=name, agent_in=agent_in)
        event = change_event(name, "registered" if created else "updated", agent_in.version)
        await store.record_published_event(conn=conn, event=event)
    agent = registry.put(row)
    await announce(redis, event)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return agent.record


@router.get(
    "/agents",
    response_model=AgentsPublic,
    summary="List registered agents",
    description="Every registration, by name, as stored in Postgres.",
    responses=_ERRORS,
)
async def list_agents(pool: PoolDep, _: RegistryReaderDep) -> AgentsPublic:
    """List every registered agent."""
    async with pool.connection() as conn:
        rows = await store.list_agents(conn=conn)
    items = [AgentPublic.model_validate(row) for row in rows]
    return AgentsPublic(items=items, count=len(items))


@router.get(
    "/agents/{name}",
    response_model=AgentPublic,
    summary="Show one agent's registration",
    responses={404: {"description": "No agent by that name"}, **_ERRORS},
)
async def get_agent(name: str, pool: PoolDep, _: RegistryReaderDep) -> AgentPublic:
    """Show one registration."""
    async with pool.connection() as conn:
        row = await store.get_agent(conn=conn, name=name)
    if row is None:
        raise ApiError(404, f"No agent named {name!r} is registered", details={"name": name})
    return AgentPublic.model_validate(row)


@router.delete(
    "/agents/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Deregister an agent",
    description="Its routes stop working on every hub replica within a second. Needs `registry`.",
    responses={404: {"description": "No agent by that name"}, **_ERRORS},
)
async def delete_agent(
    name: str, pool: PoolDep, redis: RedisDep, registry: RegistryDep, _: RegistryWriterDep
) -> Response:
    """Remove an agent and its routes."""
    async with pool.connection() as conn:
        deleted = await store.delete_agent(conn=conn, name=name)
        if not deleted:
            raise ApiError(404, f"No agent named {name!r} is registered", details={"name": name})
        event = change_event(name, "deleted")
        await store.record_published_event(conn=conn, event=event)
    registry.remove(name)
    await announce(redis, event)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
