"""Builds the giorgio app; `uvicorn skyras_giorgio.main:app` serves it.

The runtime (Letitia client, model client, render lock) opens at startup
(`app.state.giorgio`) and closes at shutdown. Workers: the outbox relay (the
`creative.*` events), the consumer of `task.created` and `release.created`
(group "giorgio", which queues jobs) and the job worker that runs them.
"""

from fastapi import FastAPI

from skyras.app import create_app
from skyras.consumer import consumer_worker
from skyras.relay import relay_worker
from skyras_giorgio import __version__, generations, handlers
from skyras_giorgio.api.routes import chat, generate, options
from skyras_giorgio.config import GiorgioSettings, get_settings


async def _open_runtime(app: FastAPI) -> None:
    app.state.giorgio = generations.open_runtime(app.state.settings, app.state.pool)


async def _close_runtime(app: FastAPI) -> None:
    await app.state.giorgio.close()


def build_app(settings: GiorgioSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_app(
        settings,
        title="SkyRas Giorgio",
        version=__version__,
        description="Creative generation: cover artwork and release copy, stored in Letitia.",
        routers=[generate.router, options.router, chat.router],
        workers=[
            relay_worker,
            consumer_worker("giorgio", handlers.handlers(settings)),
            generations.job_worker,
        ],
        on_startup=[_open_runtime],
        on_shutdown=[_close_runtime],
        openapi_tags=[
            {"name": "generations", "description": "Artwork and copy, stored in Letitia"},
            {"name": "options", "description": "Palettes, variants, platforms and their limits"},
            {"name": "chat", "description": "Plain-language requests"},
        ],
    )


app = build_app()
