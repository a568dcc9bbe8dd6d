"""Letitia's HTTP API as Giorgio uses it: store a generated file, delete it.

Bytes live in Letitia (DESIGN section 10): every image and copy document is
uploaded as multipart to `<letitia_base>/files`, tagged, described with its
parameters and linked to the task it was made for (`task_id`). By default
the base is Letitia's routes on the hub (`/api/v2/agents/letitia`).
"""

from typing import Any
from uuid import UUID

import httpx

from skyras.letitia import LetitiaHttp
from skyras_giorgio.config import GiorgioSettings


class LetitiaError(RuntimeError):
    """Letitia refused or could not be reached; the message says which and why."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase


class LetitiaClient(LetitiaHttp):
    def __init__(self, settings: GiorgioSettings) -> None:
        super().__init__(
            settings.letitia_base,
            headers=settings.letitia_auth_headers,
            timeout=settings.letitia_timeout_seconds,
            agent="giorgio",
        )
        self.base = self.base_url

    async def upload(
        self,
        *,
        filename: str,
        content: bytes,
        content_type: str,
        tags: list[str],
        title: str,
        description: str,
        task_id: UUID | None,
    ) -> dict[str, Any]:
        """Store the bytes; returns Letitia's file record."""
        fields: list[tuple[str, str]] = [
            ("tags", ",".join(tags)),
            ("title", title),
            ("description", description),
        ]
        if task_id is not None:
            fields.append(("task_id", str(task_id)))
        try:
            response = await self.http.post(
                "/files", data=dict(fields), files={"file": (filename, content, content_type)}
            )
        except httpx.HTTPError as exc:
            raise LetitiaError(f"Letitia at {self.base} could not be reached: {exc!r}") from exc
        if response.status_code != 201:
            raise LetitiaError(
                f"Letitia refused {filename} ({response.status_code}): {_reason(response)}",
                response.status_code,
            )
        record: dict[str, Any] = response.json()
        return record

    async def delete(self, file_id: str) -> None:
        """Delete a stored file; one already gone is fine."""
        try:
            response = await self.http.delete(f"/files/{file_id}")
        except httpx.HTTPError as exc:
            raise LetitiaError(f"Letitia at {self.base} could not be reached: {exc!r}") from exc
        if response.status_code not in (204, 404):
            raise LetitiaError(
                f"Letitia did not delete file {file_id} ({response.status_code}): {_reason(response)}",
                response.status_code,
            )
