"""Builds the jamal app; `uvicorn skyras_jamal.main:app` serves it.

Opened at startup: the Letitia client (`app.state.letitia`), the webhook
sender and the bucket publisher when configured (else None). Workers: the
outbox relay (publishes the `release.*` events), the consumer of
`file.deleted` (group "jamal", `handlers`), and the scheduler, which
publishes due channels, first those that came due while Jamal was down.
"""

import asyncio

from fastapi import FastAPI

from skyras.app import create_app
from skyras.consumer import consumer_worker
from skyras.relay import relay_worker
from skyras.webhooks import WebhookSender
from skyras_jamal import __version__
from skyras_jamal.api.routes import channels, chat, media, releases, shows
from skyras_jamal.bucket import BucketPublisher
from skyras_jamal.config import JamalSettings, get_settings
from skyras_jamal.handlers import make_handlers
from skyras_jamal.letitia import LetitiaClient
from skyras_jamal.publishing import scheduler_worker


async def open_clients(app: FastAPI) -> None:
    settings: JamalSettings = app.state.settings
    app.state.letitia = LetitiaClient.from_settings(settings)
    if settings.webhook_configured and settings.webhook_secret is not None:
        app.state.webhook_sender = WebhookSender(
            secret=settings.webhook_secret.get_secret_value(),
            timeout=settings.webhook_timeout_seconds,
            user_agent="skyras-jamal-webhooks",
        )
    if settings.bucket_configured:
        app.state.bucket = await BucketPublisher.open(settings, app.state.letitia)


async def close_clients(app: FastAPI) -> None:
    for name in ("bucket", "webhook_sender"):
        client = getattr(app.state, name, None)
        if client is not None:
            await (client.close() if name == "bucket" else client.aclose())
    await app.state.letitia.aclose()


def build_app(settings: JamalSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = create_app(
        settings,
        title="SkyRas Jamal",
        version=__version__,
        description="Distribution: releases, podcast feeds, signed webhooks, bucket publishing",
        routers=[shows.router, releases.router, media.router, channels.router, chat.router],
        workers=[relay_worker, consumer_worker("jamal", make_handlers(settings)), scheduler_worker],
        on_startup=[open_clients],
        on_shutdown=[close_clients],
        openapi_tags=[
            {"name": "shows", "description": "Shows and their podcast feeds"},
            {"name": "releases", "description": "Releases and their channels"},
            {"name": "media", "description": "The bytes feeds link to (Range, 304)"},
            {"name": "channels", "description": "Where Jamal publishes"},
            {"name": "chat", "description": "Plain-language requests"},
        ],
    )
    app.state.webhook_sender = None
    app.state.bucket = None
    app.state.scheduler_wake = asyncio.Event()
    return app


app = build_app()
