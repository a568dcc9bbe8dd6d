"""Builds the hub app; `uvicorn skyras_hub.main:app` serves it."""

from fastapi import FastAPI

from skyras.app import create_app
from skyras_hub import __version__
from skyras_hub.config import HubSettings, get_settings


def build_app(settings: HubSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_app(settings, title="SkyRas Hub", version=__version__)


app = build_app()
