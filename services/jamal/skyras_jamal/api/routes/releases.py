"""`/api/releases`: create, list, edit (until published), withdraw, and the delivery log."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from skyras_jamal import releases, store
from skyras_jamal.api.deps import LetitiaDep, PoolDep, SettingsDep, WakeDep
from skyras_jamal.models import (
    DeliveriesPublic,
    ReleaseCreate,
    ReleasePublic,
    ReleasesPublic,
    ReleaseUpdate,
)

router = APIRouter(prefix="/api/releases", tags=["releases"])


@router.post("", status_code=201, response_model=ReleasePublic)
async def create_release(
    release_in: ReleaseCreate,
    pool: PoolDep,
    letitia: LetitiaDep,
    settings: SettingsDep,
    wake: WakeDep,
) -> dict[str, Any]:
    """Schedule a release on its channels (a past or missing publish_at publishes now)."""
    release = await releases.create_release(
        pool=pool, letitia=letitia, settings=settings, release_in=release_in
    )
    wake.set()
    return release


@router.get("", response_model=ReleasesPublic)
async def list_releases(
    pool: PoolDep,
    settings: SettingsDep,
    show: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Releases, latest publish time first (filter: show)."""
    async with pool.connection() as conn:
        rows = await store.list_releases(conn=conn, show=show, limit=limit)
    return {"items": [releases.release_json(r, settings) for r in rows]}


@router.get("/{release_id}", response_model=ReleasePublic)
async def get_release(release_id: UUID, pool: PoolDep, settings: SettingsDep) -> dict[str, Any]:
    """One release with each channel's status."""
    row = await releases.get_release(pool=pool, release_id=release_id)
    return releases.release_json(row, settings)


@router.patch("/{release_id}", response_model=ReleasePublic)
async def update_release(
    release_id: UUID,
    release_in: ReleaseUpdate,
    pool: PoolDep,
    letitia: LetitiaDep,
    settings: SettingsDep,
    wake: WakeDep,
) -> dict[str, Any]:
    """Edit a release until it is published (409 after); the GUID never changes."""
    release = await releases.update_release(
        pool=pool, letitia=letitia, settings=settings, release_id=release_id, release_in=release_in
    )
    wake.set()
    return release


@router.post("/{release_id}/withdraw", response_model=ReleasePublic)
async def withdraw_release(
    release_id: UUID, pool: PoolDep, settings: SettingsDep
) -> dict[str, Any]:
    """Withdraw from every channel: off the feed, and nothing scheduled goes out."""
    return await releases.withdraw_release(pool=pool, settings=settings, release_id=release_id)


@router.get("/{release_id}/deliveries", response_model=DeliveriesPublic)
async def list_deliveries(release_id: UUID, pool: PoolDep) -> dict[str, Any]:
    """Every webhook delivery attempt for the release, oldest first."""
    await releases.get_release(pool=pool, release_id=release_id)
    async with pool.connection() as conn:
        return {"items": await store.list_deliveries(conn=conn, release_id=release_id)}
