"""Jamal's client of Letitia's HTTP API: file records, and their bytes (whole or ranged).

Paths are the hub's names for Letitia's routes (`/files/{id}`, `/files/{id}/content`),
under `settings.letitia_base`, so the same client talks through the hub or directly.

Who fills it: `main` opens one at startup (`app.state.letitia`). Who reads it:
`media` (measures audio and artwork when a release is written), the media
route (streams published bytes to podcast apps) and the bucket channel. Bytes
always live in Letitia (DESIGN section 10); Jamal keeps only what it measured.
"""

import contextlib
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import httpx

from skyras.errors import ApiError
from skyras.letitia import LetitiaHttp
from skyras_jamal.config import JamalSettings

# Request headers a ranged or conditional download passes on to Letitia.
FORWARDED_REQUEST_HEADERS = ("range", "if-range", "if-none-match")


class FileMissing(LookupError):
    """Letitia has no such file (or it holds only metadata, no bytes)."""


class LetitiaClient(LetitiaHttp):
    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 30.0) -> None:
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        super().__init__(base_url, headers=headers, timeout=timeout, agent="jamal")

    @classmethod
    def from_settings(cls, settings: JamalSettings) -> "LetitiaClient":
        key = settings.hub_api_key.get_secret_value() if settings.hub_api_key else None
        return cls(settings.letitia_base, api_key=key, timeout=settings.letitia_timeout_seconds)

    async def aclose(self) -> None:
        await self.close()

    async def get_file(self, file_id: UUID) -> dict[str, Any]:
        """The file's record (`filename, file_type, file_size, content_type, has_content` ...)."""
        try:
            response = await self.http.get(f"/files/{file_id}")
        except httpx.HTTPError as exc:
            raise self.unavailable(exc) from exc
        if response.status_code == 404:
            raise FileMissing(str(file_id))
        if response.status_code != 200:
            raise self.unavailable(status=response.status_code)
        record: dict[str, Any] = response.json()
        if not record.get("has_content"):
            raise FileMissing(str(file_id))
        return record

    @contextlib.asynccontextmanager
    async def open_content(
        self, file_id: UUID, headers: dict[str, str] | None = None, *, method: str = "GET"
    ) -> AsyncIterator[httpx.Response]:
        """Letitia's response for the file's bytes, body not yet read (stream it)."""
        request = self.http.build_request(
            method, f"/files/{file_id}/content", headers=headers or {}
        )
        try:
            response = await self.http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self.unavailable(exc) from exc
        try:
            if response.status_code == 404:
                raise FileMissing(str(file_id))
            if response.status_code >= 500:
                raise self.unavailable(status=response.status_code)
            yield response
        finally:
            await response.aclose()

    async def read_content(self, file_id: UUID, limit: int) -> AsyncIterator[bytes]:
        """The whole file's bytes in chunks; more than `limit` bytes is a 413."""
        async with self.open_content(file_id) as response:
            seen = 0
            async for chunk in response.aiter_bytes():
                seen += len(chunk)
                if seen > limit:
                    raise ApiError(413, f"The file is larger than the {limit} bytes allowed")
                yield chunk
