"""Letitia over HTTP: where Ari reads its sources and stores what it makes.

Ari owns no bytes (DESIGN section 10): a job downloads its source to a
temporary file, and uploads each master, waveform and report back as a new
file, linked to the source by the tag `source:<file id>`. Each output also
carries `ari-job:<job id>` and `ari-output:<name>`, so a re-run of the same
job finds what an earlier attempt already stored instead of storing it twice,
and a cancelled job finds what to take back.
"""

from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
import httpx

from skyras.errors import ApiError
from skyras.letitia import LetitiaHttp, LetitiaUnavailable

SOURCE_TAG = "source:{file_id}"
JOB_TAG = "ari-job:{job_id}"
OUTPUT_TAG = "ari-output:{name}"
DOWNLOAD_CHUNK = 1 << 20


class SourceMissing(ApiError):
    def __init__(self, file_id: UUID | str, message: str | None = None) -> None:
        super().__init__(
            404,
            message or f"No file with id {file_id} in Letitia",
            code="source_not_found",
            details={"file_id": str(file_id)},
        )


def is_ari_output(tags: list[str]) -> bool:
    return any(t.startswith("ari-job:") for t in tags)


class LetitiaClient(LetitiaHttp):
    """Letitia's own server (`letitia_url`, its root): `/api/files...` below it."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        super().__init__(base_url, timeout=timeout, agent="ari")

    def content_url(self, file_id: UUID | str) -> str:
        return f"{self.base_url}/api/files/{file_id}/content"

    async def get_file(self, file_id: UUID | str) -> dict[str, Any]:
        """The record; SourceMissing when there is none (or the id is not one)."""
        response = await self.request("GET", f"/api/files/{file_id}")
        if response.status_code in (404, 422):
            raise SourceMissing(file_id)
        response.raise_for_status()
        record: dict[str, Any] = response.json()
        return record

    async def find_by_name(self, filename: str) -> dict[str, Any] | None:
        """The newest file of exactly this name (case-insensitive)."""
        response = await self.request("GET", "/api/files", params={"q": filename, "limit": 100})
        response.raise_for_status()
        for item in response.json()["items"]:
            if item["filename"].lower() == filename.lower():
                found: dict[str, Any] = item
                return found
        return None

    async def find_by_tags(self, tags: list[str]) -> list[dict[str, Any]]:
        response = await self.request(
            "GET", "/api/files", params=[("tag", t) for t in tags] + [("limit", "100")]
        )
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def download(self, file_id: UUID | str, dest: Path, *, max_bytes: int) -> int:
        """Stream the content to `dest`; returns its size."""
        size = 0
        try:
            async with self.http.stream("GET", f"/api/files/{file_id}/content") as response:
                if response.status_code == 404:
                    raise SourceMissing(file_id, f"File {file_id} has no content in Letitia")
                if response.status_code >= 500:
                    raise self.unavailable(status=response.status_code)
                response.raise_for_status()
                async with await anyio.open_file(dest, "wb") as out:
                    async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
                        size += len(chunk)
                        if size > max_bytes:
                            raise ApiError(
                                413,
                                f"The source is larger than Ari's limit of {max_bytes} bytes",
                                code="source_too_large",
                            )
                        await out.write(chunk)
        except httpx.HTTPError as exc:
            raise self.unavailable(exc) from exc
        return size

    async def upload(
        self,
        path: Path,
        *,
        filename: str,
        content_type: str,
        tags: list[str],
        title: str = "",
        description: str = "",
    ) -> dict[str, Any]:
        # httpx streams a file part in chunks; the open itself is the only blocking call.
        with path.open("rb") as body:
            response = await self.request(
                "POST",
                "/api/files",
                files={"file": (filename, body, content_type)},
                data={"tags": ",".join(tags), "title": title, "description": description},
            )
        if response.status_code != 201:
            raise LetitiaUnavailable(
                self.base_url, f"upload answered {response.status_code}: {response.text[:200]}"
            )
        record: dict[str, Any] = response.json()
        return record

    async def delete(self, file_id: UUID | str) -> None:
        response = await self.request("DELETE", f"/api/files/{file_id}")
        if response.status_code not in (204, 404):
            response.raise_for_status()
