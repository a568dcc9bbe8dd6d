"""Letitia's injection points: the pool (shared), storage, search and settings."""

from typing import Annotated

from fastapi import Depends, Request

from skyras.deps import PoolDep
from skyras_letitia.config import LetitiaSettings
from skyras_letitia.search import SearchBackend
from skyras_letitia.storage import Storage

__all__ = ["PoolDep", "SearchDep", "SettingsDep", "StorageDep"]


def get_storage(request: Request) -> Storage:
    return request.app.state.storage


def get_search(request: Request) -> SearchBackend:
    return request.app.state.search


def get_settings(request: Request) -> LetitiaSettings:
    return request.app.state.settings


StorageDep = Annotated[Storage, Depends(get_storage)]
SearchDep = Annotated[SearchBackend, Depends(get_search)]
SettingsDep = Annotated[LetitiaSettings, Depends(get_settings)]
