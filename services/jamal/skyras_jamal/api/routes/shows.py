"""`/api/shows`: shows, and each show's podcast feed with conditional GET."""

import hashlib
from email.utils import parsedate_to_datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from skyras_jamal import podcast, releases, store
from skyras_jamal.api.deps import LetitiaDep, PoolDep, SettingsDep
from skyras_jamal.models import ShowCreate, ShowPublic, ShowsPublic, ShowUpdate

router = APIRouter(prefix="/api/shows", tags=["shows"])

FEED_TYPE = "application/rss+xml; charset=utf-8"


@router.post("", status_code=201, response_model=ShowPublic)
async def create_show(
    show_in: ShowCreate, pool: PoolDep, letitia: LetitiaDep, settings: SettingsDep
) -> dict[str, Any]:
    """Create a show (one podcast feed); its artwork must meet the directories' rules."""
    row = await releases.create_show(pool=pool, letitia=letitia, settings=settings, show_in=show_in)
    return releases.show_json(row, settings)


@router.get("", response_model=ShowsPublic)
async def list_shows(pool: PoolDep, settings: SettingsDep) -> dict[str, Any]:
    """Every show, oldest first."""
    async with pool.connection() as conn:
        rows = await store.list_shows(conn=conn)
    return {"items": [releases.show_json(r, settings) for r in rows]}


@router.get("/{slug}", response_model=ShowPublic)
async def get_show(slug: str, pool: PoolDep, settings: SettingsDep) -> dict[str, Any]:
    """One show, with its feed URL."""
    return releases.show_json(await releases.get_show(pool=pool, slug=slug), settings)


@router.patch("/{slug}", response_model=ShowPublic)
async def update_show(
    slug: str, show_in: ShowUpdate, pool: PoolDep, letitia: LetitiaDep, settings: SettingsDep
) -> dict[str, Any]:
    """Edit a show; the same rules as creating one apply to the result."""
    row = await releases.update_show(
        pool=pool, letitia=letitia, settings=settings, slug=slug, show_in=show_in
    )
    return releases.show_json(row, settings)


def _not_modified(request: Request, etag: str, last_modified: Any) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match wins; If-Modified-Since only without it."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return etag in tags or "*" in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


_FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/rss+xml": {}}},
    304: {"description": "Unchanged"},
}


@router.get("/{slug}/feed.xml", response_class=Response, responses=_FEED_RESPONSES)
@router.head("/{slug}/feed.xml", response_class=Response, responses=_FEED_RESPONSES)
async def show_feed(slug: str, request: Request, pool: PoolDep, settings: SettingsDep) -> Response:
    """The show's RSS 2.0 feed (iTunes + Podcasting 2.0); ETag, Last-Modified and 304."""
    show = await releases.get_show(pool=pool, slug=slug)
    async with pool.connection() as conn:
        items = await store.feed_items(conn=conn, show_id=show["id"])
        changed_at = await store.feed_changed_at(conn=conn, show_id=show["id"])
    body = podcast.render_feed(show, items, public_url=settings.public_url, changed_at=changed_at)
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {
        "ETag": etag,
        "Last-Modified": podcast.rfc2822(changed_at),
        "Cache-Control": "public, max-age=300",
    }
    if _not_modified(request, etag, changed_at):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=FEED_TYPE, headers=headers)
