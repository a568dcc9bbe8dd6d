"""Builds the marcus app; `uvicorn skyras_marcus.main:app` serves it.

Routers: tasks, calendar (+ Cal.com bookings), Plane, webhook deliveries,
chat. Workers: the outbox relay, the event consumer (group `marcus`,
`handlers.HANDLERS`), n8n webhook delivery and Plane sync (each idle until
configured).
"""

from fastapi import FastAPI

from skyras.app import create_app
from skyras.consumer import consumer_worker
from skyras.relay import relay_worker
from skyras_marcus import __version__
from skyras_marcus.api.routes import calendar, chat, plane, tasks, webhooks
from skyras_marcus.config import MarcusSettings, get_settings
from skyras_marcus.handlers import HANDLERS
from skyras_marcus.integrations.calcom import CalcomClient
from skyras_marcus.integrations.plane import PlaneClient
from skyras_marcus.workers import plane_sync_worker, webhook_worker


async def open_integrations(app: FastAPI) -> None:
    settings: MarcusSettings = app.state.settings
    app.state.calcom = CalcomClient.from_settings(settings)
    app.state.plane = PlaneClient.from_settings(settings)


async def close_integrations(app: FastAPI) -> None:
    for client in (app.state.calcom, app.state.plane):
        if client is not None:
            await client.aclose()


def build_app(settings: MarcusSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = create_app(
        settings,
        title="SkyRas Marcus",
        version=__version__,
        description="Tasks and scheduling: tasks, calendar, Cal.com, Plane, n8n webhooks, chat",
        routers=[tasks.router, calendar.router, plane.router, webhooks.router, chat.router],
        workers=[
            relay_worker,
            consumer_worker("marcus", HANDLERS),
            webhook_worker,
            plane_sync_worker,
        ],
        on_startup=[open_integrations],
        on_shutdown=[close_integrations],
    )
    app.state.calcom = None
    app.state.plane = None
    return app


app = build_app()
