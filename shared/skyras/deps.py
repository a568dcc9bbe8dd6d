"""FastAPI injection points shared by every service (see each service's api/deps.py)."""

from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis

from skyras.db import Pool


def get_pool(request: Request) -> Pool:
    return request.app.state.pool


def get_redis(request: Request) -> Redis:
    return request.app.state.redis


PoolDep = Annotated[Pool, Depends(get_pool)]
RedisDep = Annotated[Redis, Depends(get_redis)]
