"""Builds the letitia app; `uvicorn skyras_letitia.main:app` serves it.

Storage and search are opened at startup (`app.state.storage`,
`app.state.search`) and closed at shutdown. Workers: the outbox relay
(publishes the `file.*` events this service writes) and the consumer of
`task.created` and `task.updated` (`handlers.HANDLERS`, group "letitia").
"""

from fastapi import FastAPI

from skyras.app import create_app
from skyras.consumer import consumer_worker
from skyras.relay import relay_worker
from skyras_letitia import __version__, handlers
from skyras_letitia.api.routes import chat, files, search
from skyras_letitia.config import LetitiaSettings, get_settings
from skyras_letitia.search import open_search
from skyras_letitia.storage import open_storage


async def _open_backends(app: FastAPI) -> None:
    settings: LetitiaSettings = app.state.settings
    app.state.storage = await open_storage(settings)
    app.state.search = await open_search(settings, app.state.pool)


async def _close_backends(app: FastAPI) -> None:
    await app.state.search.close()
    await app.state.storage.close()


def build_app(settings: LetitiaSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_app(
        settings,
        title="SkyRas Letitia",
        version=__version__,
        description="The asset library: uploads, storage, tags, search and chat.",
        routers=[files.router, search.router, chat.router],
        workers=[relay_worker, consumer_worker("letitia", handlers.HANDLERS)],
        on_startup=[_open_backends],
        on_shutdown=[_close_backends],
        openapi_tags=[
            {"name": "files", "description": "Records, uploads, downloads and tags"},
            {"name": "search", "description": "Full-text and fuzzy search"},
            {"name": "chat", "description": "Plain-language requests"},
        ],
    )


app = build_app()
