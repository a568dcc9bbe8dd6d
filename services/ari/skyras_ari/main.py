"""Builds the ari app; `uvicorn skyras_ari.main:app` serves it.

The Letitia client is opened at startup (`app.state.letitia`) and closed at
shutdown. Workers: the outbox relay (publishes the `audio.*` events this
service writes), the consumer of `file.uploaded` / `file.tagged`
(`handlers.HANDLERS`, group "ari") and the mastering worker pool.
"""

from fastapi import FastAPI

from skyras.app import create_app
from skyras.consumer import consumer_worker
from skyras.relay import relay_worker
from skyras_ari import __version__, handlers
from skyras_ari.api.routes import analyse, chat, mastering, presets
from skyras_ari.config import AriSettings, get_settings
from skyras_ari.letitia import LetitiaClient
from skyras_ari.worker import run_job_workers


async def _open_letitia(app: FastAPI) -> None:
    settings: AriSettings = app.state.settings
    app.state.letitia = LetitiaClient(
        settings.letitia_url, timeout=settings.letitia_timeout_seconds
    )


async def _close_letitia(app: FastAPI) -> None:
    await app.state.letitia.close()


def build_app(settings: AriSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_app(
        settings,
        title="SkyRas Ari",
        version=__version__,
        description="Audio finishing: loudness analysis and mastering to each platform's target.",
        routers=[mastering.router, presets.router, analyse.router, chat.router],
        workers=[relay_worker, consumer_worker("ari", handlers.HANDLERS), run_job_workers],
        on_startup=[_open_letitia],
        on_shutdown=[_close_letitia],
        openapi_tags=[
            {"name": "mastering", "description": "Mastering jobs: create, follow, cancel"},
            {"name": "presets", "description": "Loudness targets and their sources"},
            {"name": "analysis", "description": "Loudness, peaks and clipping of a file"},
            {"name": "chat", "description": "Plain-language requests"},
        ],
    )


app = build_app()
