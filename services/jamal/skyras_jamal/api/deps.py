"""Jamal's injection points, as aliases the routes annotate their parameters with."""

import asyncio
from typing import Annotated

from fastapi import Depends, Request

from skyras.deps import PoolDep
from skyras_jamal.config import JamalSettings
from skyras_jamal.letitia import LetitiaClient

__all__ = ["LetitiaDep", "PoolDep", "SettingsDep", "WakeDep"]


def get_settings(request: Request) -> JamalSettings:
    return request.app.state.settings


def get_letitia(request: Request) -> LetitiaClient:
    return request.app.state.letitia


def get_wake(request: Request) -> asyncio.Event:
    """Set it after a write, so the scheduler looks at once instead of at its next poll."""
    return request.app.state.scheduler_wake


SettingsDep = Annotated[JamalSettings, Depends(get_settings)]
LetitiaDep = Annotated[LetitiaClient, Depends(get_letitia)]
WakeDep = Annotated[asyncio.Event, Depends(get_wake)]
