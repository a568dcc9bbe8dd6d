"""Marcus's injection points, as aliases the routes annotate their parameters with."""

from typing import Annotated

from fastapi import Depends, Request

from skyras.deps import PoolDep, RedisDep
from skyras_marcus.config import MarcusSettings
from skyras_marcus.integrations.calcom import CalcomClient
from skyras_marcus.integrations.plane import PlaneClient

__all__ = ["CalcomDep", "PlaneDep", "PoolDep", "RedisDep", "SettingsDep"]


def get_settings(request: Request) -> MarcusSettings:
    return request.app.state.settings


def get_calcom(request: Request) -> CalcomClient | None:
    return getattr(request.app.state, "calcom", None)


def get_plane(request: Request) -> PlaneClient | None:
    return getattr(request.app.state, "plane", None)


SettingsDep = Annotated[MarcusSettings, Depends(get_settings)]
CalcomDep = Annotated[CalcomClient | None, Depends(get_calcom)]
PlaneDep = Annotated[PlaneClient | None, Depends(get_plane)]
