"""Search behind one interface: Postgres full-text search (default) or Meilisearch.

Who fills it: `postgres.PostgresSearch` and `meilisearch.MeilisearchSearch`,
chosen by `open_search` from the settings. Who reads it: the search route and
chat (`search`), and the file routes after each committed change
(`index_file` / `remove_file`; a no-op for Postgres, whose index is the table).
Highlights are HTML-safe: text is escaped first, only <mark> is added.
"""

import html
import re
from typing import Any, Protocol

from skyras.db import Pool
from skyras_letitia.config import LetitiaSettings
from skyras_letitia.models import SearchRequest, SearchResults

_WORD = re.compile(r"\w{2,}")


class SearchBackend(Protocol):
    name: str

    async def search(self, request: SearchRequest) -> SearchResults: ...

    async def index_file(self, file: dict[str, Any]) -> None: ...

    async def remove_file(self, file_id: str) -> None: ...

    async def close(self) -> None: ...


def mark_terms(text: str, query: str) -> str:
    """`text` HTML-escaped, with each case-insensitive occurrence of a query word in <mark>."""
    words = sorted({w.lower() for w in _WORD.findall(query)}, key=len, reverse=True)
    if not words or not text:
        return html.escape(text, quote=False)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last : match.start()], quote=False))
        out.append(f"<mark>{html.escape(match.group(0), quote=False)}</mark>")
        last = match.end()
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


async def open_search(settings: LetitiaSettings, pool: Pool) -> SearchBackend:
    from skyras_letitia.search import postgres

    fallback = postgres.PostgresSearch(pool)
    if settings.meilisearch_url:
        from skyras_letitia.search import meilisearch

        return await meilisearch.MeilisearchSearch.open(settings, pool, fallback)
    return fallback
