"""The app factory: probes, metrics, request ids, and the JSON error shape everywhere."""

from fastapi import APIRouter
from pydantic import BaseModel

from skyras.app import create_app
from skyras.errors import ApiError
from skyras.settings import ServiceSettings
from skyras.testing import serve


class Widget(BaseModel):
    name: str
    size: int


def make_app(database_url: str, redis_url: str) -> object:
    router = APIRouter()

    @router.post("/widgets")
    async def create_widget(widget: Widget) -> Widget:
        return widget

    @router.get("/widgets/{name}")
    async def get_widget(name: str) -> None:
        raise ApiError(404, f"No widget named {name}", details={"name": name})

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    settings = ServiceSettings(
        service_name="widgets", database_url=database_url, redis_url=redis_url
    )
    return create_app(settings, title="Widgets", version="9.9.9", routers=[router])


async def test_health_ready_and_metrics_answer(database_url: str, redis_url: str) -> None:
    async with serve(make_app(database_url, redis_url)) as served, served.client() as client:  # type: ignore[arg-type]
        health = await client.get("/health")
        ready = await client.get("/ready")
        await client.get("/widgets/x")
        metrics = await client.get("/metrics")

    assert health.json() == {"status": "ok", "service": "widgets", "version": "9.9.9"}
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": {"ok": True}, "redis": {"ok": True}}
    assert 'skyras_http_requests_total{method="GET",route="/widgets/{name}",status="404"}' in (
        metrics.text
    )


async def test_ready_is_503_naming_the_dependency_that_is_down(database_url: str) -> None:
    dead_redis = "redis://127.0.0.1:1/0"
    async with serve(make_app(database_url, dead_redis)) as served, served.client() as client:  # type: ignore[arg-type]
        response = await client.get("/ready")

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "not_ready"
    assert "redis" in error["message"] and "postgres" not in error["message"]
    assert error["details"]["checks"]["postgres"] == {"ok": True}


async def test_errors_have_the_json_shape_and_no_stack_trace(
    database_url: str, redis_url: str
) -> None:
    async with serve(make_app(database_url, redis_url)) as served, served.client() as client:  # type: ignore[arg-type]
        not_found = await client.get("/widgets/blue")
        no_route = await client.get("/nowhere")
        wrong_method = await client.delete("/widgets")
        invalid = await client.post("/widgets", json={"name": "w", "size": "big"})
        not_json = await client.post(
            "/widgets", content=b"{oops", headers={"content-type": "application/json"}
        )
        crash = await client.get("/boom")

    assert not_found.status_code == 404
    assert not_found.json() == {
        "error": {
            "code": "not_found",
            "message": "No widget named blue",
            "details": {"name": "blue"},
        }
    }
    assert no_route.status_code == 404 and no_route.json()["error"]["code"] == "not_found"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "validation_error"
    assert "size" in invalid.json()["error"]["message"]
    assert not_json.status_code == 422
    assert crash.status_code == 500
    assert crash.json()["error"]["code"] == "internal_error"
    assert "hunter2" not in crash.text and "Traceback" not in crash.text


async def test_request_id_is_kept_or_created(database_url: str, redis_url: str) -> None:
    async with serve(make_app(database_url, redis_url)) as served, served.client() as client:  # type: ignore[arg-type]
        kept = await client.get("/health", headers={"X-Request-ID": "abc-123"})
        created = await client.get("/health")
        unsafe = await client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})

    assert kept.headers["x-request-id"] == "abc-123"
    assert len(created.headers["x-request-id"]) == 32
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"
