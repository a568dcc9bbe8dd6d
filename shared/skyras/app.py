"""The FastAPI app factory every SkyRas service is built with.

`create_app` gives each service the same skeleton: settings on `app.state`,
the Postgres pool and Redis client opened at startup and closed at shutdown,
background workers (relay, consumers) supervised for the app's lifetime,
`/health`, `/ready`, `/metrics`, request ids and JSON logs, and the JSON error
shape for every error. Services add their routers and workers.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from skyras.backoff import Backoff
from skyras.db import open_pool
from skyras.edge import RejectUnstorableInput
from skyras.errors import error_response, install_error_handlers
from skyras.http import RequestContextMiddleware
from skyras.logs import configure_logging
from skyras.redis_client import open_redis
from skyras.settings import ServiceSettings

log = logging.getLogger("skyras.app")

Hook = Callable[[FastAPI], Awaitable[None]]
Worker = Callable[[FastAPI], Awaitable[None]]


async def _supervise(app: FastAPI, name: str, worker: Worker) -> None:
    """Run a background worker for the app's lifetime, restarting it after a crash."""
    backoff = Backoff(0.5, 10.0)
    while True:
        try:
            await worker(app)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            delay = backoff.next()
            log.exception("worker %s crashed; restarting in %.1fs", name, delay)
            await asyncio.sleep(delay)


def create_app(
    settings: ServiceSettings,
    *,
    title: str,
    version: str,
    description: str = "",
    routers: Sequence[APIRouter] = (),
    workers: Sequence[Worker] = (),
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    openapi_tags: list[dict[str, Any]] | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level, settings.log_format)
        app.state.settings = settings
        app.state.pool = await open_pool(
            settings.database_url.get_secret_value(),
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            name=settings.service_name,
        )
        app.state.redis = open_redis(settings.redis_url.get_secret_value())
        for hook in on_startup:
            await hook(app)
        tasks = [
            asyncio.create_task(_supervise(app, w.__name__, w), name=w.__name__) for w in workers
        ]
        log.info("%s %s listening on port %s", settings.service_name, version, settings.port)
        try:
            yield
        finally:
            log.info("%s shutting down", settings.service_name)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for hook in on_shutdown:
                await hook(app)
            await app.state.redis.aclose()
            await app.state.pool.close()

    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=lifespan,
        openapi_tags=openapi_tags,
    )
    app.state.settings = settings
    app.add_middleware(RejectUnstorableInput)  # inside the request context: logged, with an id
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app)
    app.include_router(_probes_router(settings, version))
    for router in routers:
        app.include_router(router)
    return app


def _probes_router(settings: ServiceSettings, version: str) -> APIRouter:
    router = APIRouter(tags=["probes"])

    @router.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name, "version": version}

    @router.get("/ready", summary="Readiness: Postgres and Redis answer", response_model=None)
    async def ready(request: Request) -> JSONResponse | dict[str, Any]:
        checks = await check_dependencies(request.app, settings.ready_timeout_seconds)
        failed = [name for name, check in checks.items() if not check["ok"]]
        if failed:
            reasons = "; ".join(f"{name}: {checks[name]['error']}" for name in failed)
            return error_response(
                503, f"Not ready: {reasons}", code="not_ready", details={"checks": checks}
            )
        return {"status": "ready", "service": settings.service_name, "checks": checks}

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


async def check_dependencies(app: FastAPI, timeout: float) -> dict[str, dict[str, Any]]:
    async def postgres() -> None:
        async with app.state.pool.connection(timeout=timeout) as conn:
            await conn.execute("SELECT 1")

    async def redis() -> None:
        await app.state.redis.ping()

    async def run(check: Callable[[], Awaitable[None]]) -> dict[str, Any]:
        try:
            await asyncio.wait_for(check(), timeout)
            return {"ok": True}
        except TimeoutError:
            return {"ok": False, "error": f"no answer within {timeout:g}s"}
        except Exception as exc:
            return {"ok": False, "error": str(exc).splitlines()[0][:200] or type(exc).__name__}

    pg, rd = await asyncio.gather(run(postgres), run(redis))
    return {"postgres": pg, "redis": rd}
