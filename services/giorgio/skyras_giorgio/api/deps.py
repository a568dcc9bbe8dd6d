"""Giorgio's injection points: the pool (shared) and the runtime (Letitia, the model)."""

from typing import Annotated

from fastapi import Depends, Request

from skyras.deps import PoolDep
from skyras_giorgio.generations import Runtime

__all__ = ["PoolDep", "RuntimeDep"]


def get_runtime(request: Request) -> Runtime:
    return request.app.state.giorgio


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
