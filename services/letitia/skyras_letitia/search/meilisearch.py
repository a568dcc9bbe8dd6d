"""Search through Meilisearch (optional; on when SKYRAS_MEILISEARCH_URL is set).

Wire contract (Meilisearch v1): `Authorization: Bearer <key>`; writes
(`POST /indexes`, `PATCH /indexes/{uid}/settings`, `POST
/indexes/{uid}/documents`, `DELETE /indexes/{uid}/documents/{id}`) answer 202
with a task `{taskUid, indexUid, status: "enqueued", type, enqueuedAt}` whose
progress is `GET /tasks/{uid}`; `POST /indexes/{uid}/search` answers `{hits,
estimatedTotalHits, query, processingTimeMs, limit, offset}`; errors are
`{message, code, type, link}`.

Postgres stays the source of truth: hits are ids, the records come from the
`files` table (so a deleted file never shows), and an empty query, or
Meilisearch being unreachable, falls back to Postgres search.
"""

import asyncio
import html
import logging
import re
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx

from skyras.backoff import Backoff
from skyras.db import Pool
from skyras_letitia import store
from skyras_letitia.config import LetitiaSettings
from skyras_letitia.models import SearchHit, SearchRequest, SearchResults
from skyras_letitia.search import SearchBackend, mark_terms

log = logging.getLogger("skyras_letitia.search.meilisearch")

# Highlight markers that cannot occur in escaped text; replaced by <mark> after escaping.
_PRE, _POST = "\x02", "\x03"

INDEX_SETTINGS = {
    "searchableAttributes": ["filename_words", "filename", "title", "tags", "description"],
    "filterableAttributes": ["file_type", "tags", "uploaded_at_ts"],
    "sortableAttributes": ["uploaded_at_ts"],
}


class MeilisearchError(RuntimeError):
    pass


def filename_words(name: str) -> str:
    """The same split as the SQL `letitia_filename_words`: punctuation and camel case."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return re.sub(r"[\W_]+", " ", spaced).strip().lower()


def document_for(file: dict[str, Any]) -> dict[str, Any]:
    uploaded = file["uploaded_at"]
    if isinstance(uploaded, str):
        uploaded = datetime.fromisoformat(uploaded)
    return {
        "id": str(file["id"]),
        "filename": file["filename"],
        "filename_words": filename_words(file["filename"]),
        "title": file["title"],
        "description": file["description"],
        "tags": list(file["tags"]),
        "file_type": file["file_type"],
        "uploaded_at_ts": int(uploaded.timestamp()),
    }


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _safe_highlight(formatted: str) -> str:
    escaped = html.escape(formatted, quote=False)
    return escaped.replace(_PRE, "<mark>").replace(_POST, "</mark>")


class MeilisearchSearch:
    name = "meilisearch"

    def __init__(
        self, client: httpx.AsyncClient, index: str, pool: Pool, fallback: SearchBackend
    ) -> None:
        self.client = client
        self.index = index
        self.pool = pool
        self.fallback = fallback

    @classmethod
    async def open(
        cls, settings: LetitiaSettings, pool: Pool, fallback: SearchBackend
    ) -> "MeilisearchSearch":
        headers = {}
        if settings.meilisearch_api_key:
            headers["Authorization"] = f"Bearer {settings.meilisearch_api_key.get_secret_value()}"
        client = httpx.AsyncClient(
            base_url=str(settings.meilisearch_url).rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(5.0, connect=2.0),
        )
        backend = cls(client, settings.meilisearch_index, pool, fallback)
        try:
            await backend.ensure_index()
        except (httpx.HTTPError, MeilisearchError) as exc:
            # Not fatal: searches fall back to Postgres until Meilisearch answers.
            log.warning("meilisearch index setup failed: %s", exc)
        return backend

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
                message = f"{body.get('code')}: {body.get('message')}"
            except ValueError:
                message = response.text[:200]
            raise MeilisearchError(f"{method} {path} -> {response.status_code} {message}")
        return response.json() if response.content else None

    async def ensure_index(self) -> int:
        """Create the index (if missing) and apply its settings; returns the settings task uid."""
        await self._request("POST", "/indexes", json={"uid": self.index, "primaryKey": "id"})
        task = await self._request("PATCH", f"/indexes/{self.index}/settings", json=INDEX_SETTINGS)
        return int(task["taskUid"])

    async def wait_for_task(self, task_uid: int, timeout: float = 10.0) -> dict[str, Any]:
        """Poll a task until it succeeds (or raise if it fails or takes too long)."""
        backoff = Backoff(0.02, 0.5)
        async with asyncio.timeout(timeout):
            while True:
                task = await self._request("GET", f"/tasks/{task_uid}")
                if task["status"] == "succeeded":
                    return dict(task)
                if task["status"] in {"failed", "canceled"}:
                    raise MeilisearchError(f"task {task_uid} {task['status']}: {task.get('error')}")
                await asyncio.sleep(backoff.next())

    async def add_documents(self, files: list[dict[str, Any]]) -> int:
        task = await self._request(
            "POST",
            f"/indexes/{self.index}/documents",
            params={"primaryKey": "id"},
            json=[document_for(f) for f in files],
        )
        return int(task["taskUid"])

    async def index_file(self, file: dict[str, Any]) -> None:
        try:
            await self.add_documents([file])
        except (httpx.HTTPError, MeilisearchError) as exc:
            log.warning("meilisearch: could not index file %s: %s", file.get("id"), exc)

    async def remove_file(self, file_id: str) -> None:
        try:
            await self._request("DELETE", f"/indexes/{self.index}/documents/{file_id}")
        except (httpx.HTTPError, MeilisearchError) as exc:
            log.warning("meilisearch: could not remove file %s: %s", file_id, exc)

    def _filter(self, request: SearchRequest) -> list[str]:
        parts = []
        if request.file_type:
            parts.append(f"file_type = {_quote(request.file_type)}")
        for tag in request.tags:
            parts.append(f"tags = {_quote(tag)}")
        if request.uploaded_after:
            parts.append(f"uploaded_at_ts >= {int(request.uploaded_after.timestamp())}")
        if request.uploaded_before:
            parts.append(f"uploaded_at_ts < {int(request.uploaded_before.timestamp())}")
        return parts

    async def search(self, request: SearchRequest) -> SearchResults:
        if not request.query:
            return await self.fallback.search(request)
        body: dict[str, Any] = {
            "q": request.query,
            "limit": request.limit,
            "attributesToRetrieve": ["id", "filename", "title", "description"],
            "attributesToHighlight": ["filename", "title", "description"],
            "attributesToCrop": ["description"],
            "cropLength": 30,
            "highlightPreTag": _PRE,
            "highlightPostTag": _POST,
            "showRankingScore": True,
        }
        filters = self._filter(request)
        if filters:
            body["filter"] = " AND ".join(filters)
        try:
            result = await self._request("POST", f"/indexes/{self.index}/search", json=body)
        except (httpx.HTTPError, MeilisearchError) as exc:
            log.warning("meilisearch search failed, using postgres: %s", exc)
            return await self.fallback.search(request)
        hits = result.get("hits", [])
        ids = [UUID(hit["id"]) for hit in hits]
        async with self.pool.connection() as conn:
            rows = await store.get_files_by_ids(conn=conn, ids=ids)
        items = []
        for hit in hits:
            row = rows.get(UUID(hit["id"]))
            if row is None:
                continue  # deleted since it was indexed
            formatted = hit.get("_formatted", {})
            highlight = ""
            for field in ("description", "title", "filename"):
                text = formatted.get(field) or ""
                if _PRE in text:
                    highlight = _safe_highlight(text)
                    break
            if not highlight:
                highlight = mark_terms(row["filename"], request.query)
            items.append(
                SearchHit.model_validate(
                    {
                        **store.file_json(row),
                        "rank": float(hit.get("_rankingScore", 0.0)),
                        "highlight": highlight,
                    }
                )
            )
        total = int(result.get("estimatedTotalHits", len(items)))
        return SearchResults(items=items, total=total, query=request.query)

    async def close(self) -> None:
        await self.client.aclose()
