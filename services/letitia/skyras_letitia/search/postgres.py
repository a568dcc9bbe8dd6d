"""Search with Postgres alone: the weighted tsvector and trigram indexes of migration 0030."""

from typing import Any

from skyras.db import Pool
from skyras_letitia import store
from skyras_letitia.models import SearchHit, SearchRequest, SearchResults
from skyras_letitia.search import mark_terms


class PostgresSearch:
    name = "postgres"

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def search(self, request: SearchRequest) -> SearchResults:
        async with self.pool.connection() as conn:
            if not request.query:
                rows, next_cursor = await store.list_files(
                    conn=conn,
                    limit=request.limit,
                    file_type=request.file_type,
                    tags=request.tags,
                    uploaded_after=request.uploaded_after,
                    uploaded_before=request.uploaded_before,
                )
                total, exact = len(rows), True
                if next_cursor is not None:  # more than one page: count (up to a cap)
                    total, exact = await store.count_files_capped(
                        conn=conn,
                        file_type=request.file_type,
                        tags=request.tags,
                        uploaded_after=request.uploaded_after,
                        uploaded_before=request.uploaded_before,
                    )
                items = [_hit(row, 0.0, "") for row in rows]
                return SearchResults(items=items, total=total, total_exact=exact, query="")
            rows, total, exact = await store.search_files(
                conn=conn,
                query=request.query,
                limit=request.limit,
                file_type=request.file_type,
                tags=request.tags,
                uploaded_after=request.uploaded_after,
                uploaded_before=request.uploaded_before,
            )
        items = []
        for row in rows:
            highlight = row["headline"] if "<mark>" in row["headline"] else ""
            if not highlight:
                highlight = mark_terms(row["filename"], request.query)
            items.append(_hit(row, float(row["rank"]), highlight))
        return SearchResults(items=items, total=total, total_exact=exact, query=request.query)

    async def index_file(self, file: dict[str, Any]) -> None:
        return None  # the trigger keeps the index in the row itself

    async def remove_file(self, file_id: str) -> None:
        return None

    async def close(self) -> None:
        return None


def _hit(row: dict[str, Any], rank: float, highlight: str) -> SearchHit:
    return SearchHit.model_validate(
        {**store.file_json(row), "rank": round(rank, 6), "highlight": highlight}
    )
