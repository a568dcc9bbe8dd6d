"""Builds the letitia app; `uvicorn skyras_letitia.main:app` serves it."""

from fastapi import FastAPI

from skyras.app import create_app
from skyras_letitia import __version__
from skyras_letitia.config import LetitiaSettings, get_settings


def build_app(settings: LetitiaSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_app(settings, title="SkyRas Letitia", version=__version__)


app = build_app()
