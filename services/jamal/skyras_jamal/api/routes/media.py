"""`/api/media/{file_id}/{name}`: the bytes a feed links to, for podcast apps.

Only public files are served: a show's artwork, and the audio and artwork of
releases published on the feed (anything else is 404, as if it did not
exist). The bytes come from Letitia, streamed; `Range`, `If-Range` and
`If-None-Match` pass through, so apps get 206 partial content and 304s. The
name is only for the apps (directories read the extension); the id decides.
"""

from collections.abc import AsyncIterator
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from skyras.errors import ApiError
from skyras_jamal import store
from skyras_jamal.api.deps import LetitiaDep, PoolDep
from skyras_jamal.letitia import FORWARDED_REQUEST_HEADERS, FileMissing
from skyras_jamal.media import PODCAST_AUDIO_TYPES

router = APIRouter(prefix="/api/media", tags=["media"])

PASSED_RESPONSE_HEADERS = ("content-length", "content-range", "accept-ranges", "etag")

_RESPONSES: dict[int | str, dict[str, str]] = {
    200: {"description": "The bytes"},
    206: {"description": "The requested range"},
    304: {"description": "Unchanged (If-None-Match)"},
    416: {"description": "The range is outside the file"},
}


@router.get("/{file_id}/{name}", response_class=StreamingResponse, responses=_RESPONSES)
@router.head("/{file_id}/{name}", response_class=StreamingResponse, responses=_RESPONSES)
async def get_media(
    file_id: UUID, name: str, request: Request, pool: PoolDep, letitia: LetitiaDep
) -> Response:
    """A published file's bytes, streamed from Letitia (Range: 206/416, If-None-Match: 304)."""
    async with pool.connection() as conn:
        public = await store.is_public_file(conn=conn, file_id=file_id)
    if not public:
        raise ApiError(404, f"No published media {file_id}", code="media_not_found")
    wanted = {h: request.headers[h] for h in FORWARDED_REQUEST_HEADERS if h in request.headers}
    opened = letitia.open_content(file_id, wanted, method=request.method)
    try:
        upstream = await opened.__aenter__()
    except FileMissing as exc:
        raise ApiError(404, f"No published media {file_id}", code="media_not_found") from exc
    headers = {h: upstream.headers[h] for h in PASSED_RESPONSE_HEADERS if h in upstream.headers}
    headers["Cache-Control"] = "public, max-age=86400"
    # Enclosures are served with the type the feed states (audio/mpeg, audio/x-m4a).
    content_type = upstream.headers.get("content-type", "application/octet-stream")
    media_type = PODCAST_AUDIO_TYPES.get(content_type.split(";")[0], (content_type,))[0]
    if request.method == "HEAD" or upstream.status_code in (304, 416):
        status = upstream.status_code
        body = await upstream.aread() if status == 416 else b""
        await opened.__aexit__(None, None, None)
        if status == 416:
            return Response(body, status_code=416, headers=headers, media_type="application/json")
        return Response(status_code=status, headers=headers, media_type=media_type)

    async def stream() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        finally:
            await opened.__aexit__(None, None, None)

    return StreamingResponse(
        stream(), status_code=upstream.status_code, headers=headers, media_type=media_type
    )
