"""Builds the marcus app; `uvicorn skyras_marcus.main:app` serves it."""

from fastapi import FastAPI

from skyras.app import create_app
from skyras_marcus import __version__
from skyras_marcus.config import MarcusSettings, get_settings


def build_app(settings: MarcusSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_app(settings, title="SkyRas Marcus", version=__version__)


app = build_app()
