"""The OpenAPI document at /docs covers every hub endpoint; proxy metrics are exposed."""

from .conftest import HubWithAgent
from .utils.hub import metric_value


async def test_openapi_documents_every_hub_endpoint_with_examples(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        docs = await client.get("/docs")
        spec = (await client.get("/openapi.json")).json()
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    paths = spec["paths"]
    expected = {
        "/api/v2/registry/agents/{name}": {"put", "get", "delete"},
        "/api/v2/registry/agents": {"get"},
        "/api/v2/agents/status": {"get"},
        "/api/v2/agents/{agent}/{path}": {
            "get",
            "post",
            "put",
            "patch",
            "delete",
            "head",
            "options",
        },
        "/api/v2/events": {"get"},
        "/api/v2/events/stream": {"get"},
        "/api/v2/chat": {"post"},
        "/health": {"get"},
        "/ready": {"get"},
        "/metrics": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
        for method in methods:
            operation = paths[path][method]
            assert operation.get("summary") and operation.get("tags"), (path, method)
    assert (
        "BearerAuth" in str(spec["components"]["securitySchemes"])
        or spec["components"]["securitySchemes"]
    )
    schemas = spec["components"]["schemas"]
    for name in ("AgentRegistration", "StatusPublic", "EventsPublic", "ChatRequest", "ChatReply"):
        assert schemas[name].get("examples"), name
    stream = paths["/api/v2/events/stream"]["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in stream


async def test_proxied_requests_are_counted_per_agent_route_and_status(
    echo_hub: HubWithAgent,
) -> None:
    labels = {"agent": "echo", "route": "/tasks/{id}", "method": "GET", "status": "200"}
    timing = {"agent": "echo", "route": "/tasks/{id}"}
    async with echo_hub.client() as client:
        before = (await client.get("/metrics")).text
        for _ in range(3):
            await client.get("/api/v2/agents/echo/tasks/1")
        after = (await client.get("/metrics")).text

    def grew(name: str, labels: dict[str, str]) -> float:
        return (metric_value(after, name, labels) or 0) - (metric_value(before, name, labels) or 0)

    assert grew("skyras_hub_proxy_requests_total", labels) == 3
    assert grew("skyras_hub_proxy_duration_seconds_count", timing) == 3
