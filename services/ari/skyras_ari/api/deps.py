"""Ari's injection points: the pool (shared), the Letitia client and settings."""

from typing import Annotated

from fastapi import Depends, Request

from skyras.deps import PoolDep
from skyras_ari.config import AriSettings
from skyras_ari.letitia import LetitiaClient

__all__ = ["LetitiaDep", "PoolDep", "SettingsDep"]


def get_letitia(request: Request) -> LetitiaClient:
    return request.app.state.letitia


def get_settings(request: Request) -> AriSettings:
    return request.app.state.settings


LetitiaDep = Annotated[LetitiaClient, Depends(get_letitia)]
SettingsDep = Annotated[AriSettings, Depends(get_settings)]
