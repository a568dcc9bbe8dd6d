"""Letitia's SQL: every query on `files` and `task_files` (both Letitia's), keyword-only.

Callers pass the connection, so a route can make a change and write its
event (`skyras.outbox.add_event`) in one transaction. Rows come back as dicts
shaped like `FilePublic` (`file_json` turns one into the event payload).
"""

import re
import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.errors import ForeignKeyViolation
from psycopg.rows import DictRow

from skyras import cursors
from skyras.errors import ApiError
from skyras_letitia.models import FilePublic

Conn = AsyncConnection[DictRow]

FILE_COLUMNS = """f.id, f.filename, f.file_type, f.file_size, f.content_type, f.sha256,
    f.storage_key, f.tags, f.title, f.description, f.uploaded_at, f.updated_at,
    (f.storage_key IS NOT NULL) AS has_content"""

# FILE_COLUMNS as named by a subquery `c` selecting them.
_C_COLUMNS = """c.id, c.filename, c.file_type, c.file_size, c.content_type, c.sha256,
    c.storage_key, c.tags, c.title, c.description, c.uploaded_at, c.updated_at, c.has_content"""


def file_json(row: dict[str, Any]) -> dict[str, Any]:
    """The public, JSON-ready form of a file row: what the API returns and events carry."""
    return FilePublic.model_validate(row).model_dump(mode="json")


async def create_file(
    *,
    conn: Conn,
    filename: str,
    file_type: str,
    file_size: int,
    tags: list[str],
    title: str = "",
    description: str = "",
    content_type: str | None = None,
    sha256: str | None = None,
    storage_key: str | None = None,
) -> dict[str, Any]:
    cur = await conn.execute(
        f"""INSERT INTO files AS f (id, filename, file_type, file_size, content_type, sha256,
                storage_key, tags, title, description)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            RETURNING {FILE_COLUMNS}""",
        (
            uuid.uuid4(),
            filename,
            file_type,
            file_size,
            content_type,
            sha256,
            storage_key,
            tags,
            title,
            description,
        ),
    )
    row = await cur.fetchone()
    assert row is not None
    return dict(row)


async def get_file(*, conn: Conn, file_id: UUID, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    cur = await conn.execute(
        f"SELECT {FILE_COLUMNS} FROM files f WHERE f.id = %s{lock}", (file_id,)
    )
    row = await cur.fetchone()
    return dict(row) if row else None


async def get_files_by_ids(*, conn: Conn, ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    cur = await conn.execute(f"SELECT {FILE_COLUMNS} FROM files f WHERE f.id = ANY(%s)", (ids,))
    return {row["id"]: dict(row) for row in await cur.fetchall()}


def encode_cursor(row: dict[str, Any]) -> str:
    return cursors.encode({"t": row["uploaded_at"].isoformat(), "id": str(row["id"])})


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        data = cursors.decode(cursor)
        return datetime.fromisoformat(data["t"]), UUID(data["id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(422, "Invalid cursor: pass back the next_cursor of a previous page") from exc


def _filters(
    *,
    file_type: str | None,
    tags: list[str],
    uploaded_after: datetime | None,
    uploaded_before: datetime | None,
) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if file_type:
        where.append("f.file_type = %(file_type)s")
        params["file_type"] = file_type
    if tags:
        where.append("f.tags @> %(tags)s::text[]")
        params["tags"] = tags
    if uploaded_after:
        where.append("f.uploaded_at >= %(after)s")
        params["after"] = uploaded_after
    if uploaded_before:
        where.append("f.uploaded_at < %(before)s")
        params["before"] = uploaded_before
    return where, params


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_files(
    *,
    conn: Conn,
    limit: int,
    cursor: str | None = None,
    file_type: str | None = None,
    tags: list[str] | None = None,
    q: str | None = None,
    uploaded_after: datetime | None = None,
    uploaded_before: datetime | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; returns a page and the cursor of the next one (None at the end)."""
    where, params = _filters(
        file_type=file_type,
        tags=tags or [],
        uploaded_after=uploaded_after,
        uploaded_before=uploaded_before,
    )
    if q:
        where.append("(f.filename ILIKE %(q)s OR f.title ILIKE %(q)s OR f.description ILIKE %(q)s)")
        params["q"] = _like_pattern(q)
    if cursor:
        after_time, after_id = decode_cursor(cursor)
        where.append("(f.uploaded_at, f.id) < (%(c_time)s, %(c_id)s)")
        params.update(c_time=after_time, c_id=after_id)
    params["limit"] = limit + 1
    sql = f"SELECT {FILE_COLUMNS} FROM files f"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY f.uploaded_at DESC, f.id DESC LIMIT %(limit)s"
    cur = await conn.execute(sql, params)
    rows = [dict(r) for r in await cur.fetchall()]
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def count_files(
    *,
    conn: Conn,
    file_type: str | None = None,
    tags: list[str] | None = None,
    uploaded_after: datetime | None = None,
    uploaded_before: datetime | None = None,
) -> int:
    where, params = _filters(
        file_type=file_type,
        tags=tags or [],
        uploaded_after=uploaded_after,
        uploaded_before=uploaded_before,
    )
    sql = "SELECT count(*) AS n FROM files f"
    if where:
        sql += " WHERE " + " AND ".join(where)
    cur = await conn.execute(sql, params)
    row = await cur.fetchone()
    return int(row["n"]) if row else 0


# Listing totals are counted exactly up to this many rows, estimated above.
COUNT_CAP = 1000


async def count_files_capped(
    *,
    conn: Conn,
    file_type: str | None = None,
    tags: list[str] | None = None,
    uploaded_after: datetime | None = None,
    uploaded_before: datetime | None = None,
) -> tuple[int, bool]:
    """(count, exact): exact up to COUNT_CAP files, else the planner's estimate."""
    where, params = _filters(
        file_type=file_type,
        tags=tags or [],
        uploaded_after=uploaded_after,
        uploaded_before=uploaded_before,
    )
    sql = "SELECT 1 FROM files f"
    if where:
        sql += " WHERE " + " AND ".join(where)
    cur = await conn.execute(
        f"SELECT count(*) AS n FROM ({sql} LIMIT %(cap)s) s", {**params, "cap": COUNT_CAP}
    )
    row = await cur.fetchone()
    counted = int(row["n"]) if row else 0
    if counted < COUNT_CAP:
        return counted, True
    return max(counted, await _estimate_rows(conn, sql, params)), False


# Search ranks a bounded set: the newest CANDIDATES matches (found through the
# GIN index, or by walking the uploaded_at index and testing each row, as the
# planner judges cheaper), then orders those by relevance. Counting every
# match of a common word would cost more than the search itself, so totals
# are exact up to this many matches and a planner estimate above.
CANDIDATES = 200
# Fuzzy filenames: a query word matches a filename word this alike (pg_trgm
# similarity): "mixdwn"/"mixdown" 0.5, "vocls"/"vocals" 0.44, "contrct"/"contract" 0.55.
FUZZY_WORD_THRESHOLD = 0.4
FUZZY_WORDS_PER_QUERY_WORD = 3

_HEADLINE = """ts_headline(
        'english',
        replace(replace(replace(
            concat_ws(' — ', nullif(c.title, ''), nullif(c.description, '')),
            '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
        %(tsq)s::tsquery,
        'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=10, MaxFragments=2'
    )"""


async def _estimate_rows(conn: Conn, sql: str, params: dict[str, Any]) -> int:
    """The planner's row estimate for `sql` (no execution)."""
    cur = await conn.execute(f"EXPLAIN (FORMAT JSON) {sql}", params, prepare=False)
    row = await cur.fetchone()
    assert row is not None
    plan = next(iter(row.values()))
    return int(plan[0]["Plan"]["Plan Rows"])


async def _ranked_candidates(
    conn: Conn,
    *,
    match_sql: str,
    where: list[str],
    params: dict[str, Any],
    rank_sql: str,
    limit: int,
) -> tuple[list[dict[str, Any]], int, bool]:
    """The best `limit` of the newest CANDIDATES rows matching; with the match count.

    Returns (rows, total, exact). The candidate query is planned with the
    tsquery as a constant (never a generic plan), so the planner can tell a
    common word (walk the newest rows) from a rare one (use the GIN index).
    """
    where_sql = " AND ".join([match_sql, *where])
    sql = f"""
        SELECT c.*, {_HEADLINE} AS headline
        FROM (
            SELECT {_C_COLUMNS}, {rank_sql} AS rank, count(*) OVER () AS matched
            FROM (
                SELECT {FILE_COLUMNS}, f.search_vector
                FROM files f
                WHERE {where_sql}
                ORDER BY f.uploaded_at DESC, f.id DESC
                LIMIT %(candidates)s
            ) c
            ORDER BY rank DESC, c.uploaded_at DESC, c.id DESC
            LIMIT %(limit)s
        ) c
        ORDER BY c.rank DESC, c.uploaded_at DESC, c.id DESC
    """
    cur = await conn.execute(
        sql, {**params, "candidates": CANDIDATES, "limit": limit}, prepare=False
    )
    rows = [dict(r) for r in await cur.fetchall()]
    matched = int(rows[0]["matched"]) if rows else 0
    if matched < CANDIDATES:
        return rows, matched, True
    estimate = await _estimate_rows(conn, f"SELECT 1 FROM files f WHERE {where_sql}", params)
    return rows, max(matched, estimate), False


async def _fuzzy_tsquery(conn: Conn, query: str) -> str:
    """A tsquery text for misspelled filenames, or "" when no query word is close to any.

    Each query word (3+ characters) becomes the filename words most like it
    (from the vocabulary, trigram similarity), OR'ed; the words are AND'ed,
    like full-text search's own words: "nigth drvie" -> (night | ...) & (drive | ...).
    """
    await conn.execute(
        "SELECT set_config('pg_trgm.similarity_threshold', %s, true)",
        (str(FUZZY_WORD_THRESHOLD),),
    )
    cur = await conn.execute(
        """SELECT q.w, array_agg(v.word ORDER BY v.word) AS near
           FROM (SELECT DISTINCT w FROM regexp_split_to_table(letitia_filename_words(%(q)s), ' ') w
                 WHERE char_length(w) >= 3) q,
           LATERAL (SELECT word FROM letitia_vocabulary
                    WHERE word %% q.w
                    ORDER BY similarity(word, q.w) DESC, word
                    LIMIT %(per_word)s) v
           GROUP BY q.w ORDER BY q.w""",
        {"q": query, "per_word": FUZZY_WORDS_PER_QUERY_WORD},
        prepare=False,
    )
    groups = [row["near"] for row in await cur.fetchall()]
    # Vocabulary words are letters and digits only: nothing to quote.
    return " & ".join("(" + " | ".join(f"{w}:A" for w in near) + ")" for near in groups)


async def search_files(
    *,
    conn: Conn,
    query: str,
    limit: int,
    file_type: str | None = None,
    tags: list[str] | None = None,
    uploaded_after: datetime | None = None,
    uploaded_before: datetime | None = None,
) -> tuple[list[dict[str, Any]], int, bool]:
    """Full-text plus fuzzy-filename search, best first; rows carry `rank` and `headline`.

    Returns (rows, total, total_exact). The query goes to
    `websearch_to_tsquery`, which accepts any text (quotes, operators,
    punctuation) without a syntax error; a query shaped like a filename
    ("night_drive_v2.wav") also matches its words as a phrase. Ranking is
    ts_rank (filename and title weigh most) plus the query's word similarity
    to the filename, over the newest CANDIDATES matches. Only when that finds
    fewer than `limit` files are misspelled filenames tried: query words are
    matched to filename words by trigram similarity, and files with those
    words in their name are ranked by word similarity. The headline is built
    from HTML-escaped text, only for the returned page, so the only markup
    that can come out is <mark>.
    """
    where, params = _filters(
        file_type=file_type,
        tags=tags or [],
        uploaded_after=uploaded_after,
        uploaded_before=uploaded_before,
    )
    cur = await conn.execute(
        """SELECT (websearch_to_tsquery('simple', %(q)s)
                   || websearch_to_tsquery('english', %(q)s)
                   || phraseto_tsquery('simple', letitia_filename_words(%(q)s)))::text AS tsq""",
        {"q": query},
        prepare=False,
    )
    row = await cur.fetchone()
    tsq = row["tsq"] if row else ""
    rows: list[dict[str, Any]] = []
    total, exact = 0, True
    if tsq:  # empty when the query has no searchable word (only punctuation, stop words)
        params.update(q=query, tsq=tsq)
        rows, total, exact = await _ranked_candidates(
            conn,
            match_sql="f.search_vector @@ %(tsq)s::tsquery",
            where=where,
            params=params,
            rank_sql="ts_rank(c.search_vector, %(tsq)s::tsquery) + word_similarity(%(q)s, c.filename)",
            limit=limit,
        )
    if total < limit:
        fuzzy = await _fuzzy_tsquery(conn, query)
        if fuzzy:
            fuzzy_params = {
                **params,
                "q": query,
                # Filename words carry weight A (titles too; the rank below is by filename).
                "fuzzy": fuzzy,
                "tsq": tsq or "",
            }
            fuzzy_where = list(where)
            if tsq:
                fuzzy_where.append("NOT (f.search_vector @@ %(tsq)s::tsquery)")
            fuzzy_rows, fuzzy_total, fuzzy_exact = await _ranked_candidates(
                conn,
                match_sql="f.search_vector @@ to_tsquery('simple', %(fuzzy)s)",
                where=fuzzy_where,
                params=fuzzy_params,
                rank_sql="word_similarity(%(q)s, c.filename)",
                limit=limit,
            )
            rows = sorted(
                [*rows, *fuzzy_rows],
                key=lambda r: (r["rank"], r["uploaded_at"], r["id"]),
                reverse=True,
            )[:limit]
            total += fuzzy_total
            exact = exact and fuzzy_exact
    return rows, total, exact


async def add_tags(
    *, conn: Conn, file_id: UUID, tags: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """Adds the tags not yet there (order kept); returns the row and what was added."""
    row = await get_file(conn=conn, file_id=file_id, for_update=True)
    if row is None:
        raise ApiError(404, f"No file with id {file_id}")
    added = [t for t in tags if t not in row["tags"]]
    if not added:
        return row, []
    merged = [*row["tags"], *added]
    if len(merged) > 50:
        raise ApiError(422, "A file can carry at most 50 tags", details={"tags": len(merged)})
    cur = await conn.execute(
        f"""UPDATE files AS f SET tags = %s, updated_at = now() WHERE f.id = %s
            RETURNING {FILE_COLUMNS}""",
        (merged, file_id),
    )
    updated = await cur.fetchone()
    assert updated is not None
    return dict(updated), added


async def remove_tag(*, conn: Conn, file_id: UUID, tag: str) -> tuple[dict[str, Any], bool]:
    row = await get_file(conn=conn, file_id=file_id, for_update=True)
    if row is None:
        raise ApiError(404, f"No file with id {file_id}")
    if tag not in row["tags"]:
        return row, False
    cur = await conn.execute(
        f"""UPDATE files AS f SET tags = array_remove(f.tags, %s), updated_at = now()
            WHERE f.id = %s RETURNING {FILE_COLUMNS}""",
        (tag, file_id),
    )
    updated = await cur.fetchone()
    assert updated is not None
    return dict(updated), True


async def lock_content(*, conn: Conn, storage_key: str) -> None:
    """Serialize writers of one content key (an upload's row vs. a delete's cleanup)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (storage_key,))


async def delete_file(*, conn: Conn, file_id: UUID) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"DELETE FROM files AS f WHERE f.id = %s RETURNING {FILE_COLUMNS}", (file_id,)
    )
    row = await cur.fetchone()
    return dict(row) if row else None


async def content_referenced(*, conn: Conn, storage_key: str) -> bool:
    cur = await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM files WHERE storage_key = %s) AS used", (storage_key,)
    )
    row = await cur.fetchone()
    return bool(row and row["used"])


async def tasks_for_file(*, conn: Conn, file_id: UUID) -> list[dict[str, Any]]:
    cur = await conn.execute(
        """SELECT t.id, t.title, t.status, t.priority, t.due_date, t.tags, tf.reason
           FROM task_files tf JOIN tasks t ON t.id = tf.task_id
           WHERE tf.file_id = %s
           ORDER BY tf.created_at DESC, t.id""",
        (file_id,),
    )
    return [dict(r) for r in await cur.fetchall()]


def names_in_text(text: str, *, max_words: int = 12) -> list[str]:
    """Every stretch of `text` that starts and ends on a word boundary, lower-cased.

    A file is "named" in a task when its filename (or stem) is one of these,
    which the indexes on lower(filename) and its stem can look up directly.
    """
    runs = [m.span() for m in re.finditer(r"\w+", text)]
    names = {
        text[start : runs[j][1]].lower()
        for i, (start, _) in enumerate(runs)
        for j in range(i, min(i + max_words, len(runs)))
        if runs[j][1] - start <= 255
    }
    return sorted(names)


async def files_matching_task(*, conn: Conn, tags: list[str], text: str) -> list[dict[str, Any]]:
    """Candidates for a task: files sharing a tag, or whose name (or stem) the text names.

    Index lookups only (tags GIN, lower(filename) and stem expression indexes),
    so a task costs the same whatever the size of the library. Stems shorter
    than 3 characters are ignored (too many false hits); the caller re-checks.
    """
    cur = await conn.execute(
        f"""SELECT {FILE_COLUMNS},
                   regexp_replace(f.filename, '\\.[^.]*$', '') AS stem
            FROM files f
            WHERE (cardinality(%(tags)s::text[]) > 0 AND f.tags && %(tags)s::text[])
               OR lower(f.filename) = ANY(%(names)s::text[])
               OR (lower(regexp_replace(f.filename, '\\.[^.]*$', '')) = ANY(%(names)s::text[])
                   AND char_length(regexp_replace(f.filename, '\\.[^.]*$', '')) >= 3)
            ORDER BY f.uploaded_at DESC, f.id DESC
            LIMIT 500""",
        {"tags": tags, "names": names_in_text(text)},
    )
    return [dict(r) for r in await cur.fetchall()]


class LinkTargetGone(Exception):
    """The task (or file) of a link does not exist: Marcus deleted it, or never had it."""


async def link_task_file(*, conn: Conn, task_id: UUID, file_id: UUID, reason: str) -> bool:
    """True when the link is new; LinkTargetGone when its task or file does not exist.

    The foreign keys answer that, so Letitia never reads Marcus's `tasks`; the
    savepoint keeps the caller's transaction usable after a refused insert.
    """
    try:
        async with conn.transaction():
            cur = await conn.execute(
                """INSERT INTO task_files (task_id, file_id, reason) VALUES (%s, %s, %s)
                   ON CONFLICT (task_id, file_id) DO NOTHING
                   RETURNING task_id""",
                (task_id, file_id, reason),
            )
            return await cur.fetchone() is not None
    except ForeignKeyViolation as exc:
        raise LinkTargetGone(f"no task {task_id} or file {file_id}") from exc


async def find_file_by_name(*, conn: Conn, name: str) -> dict[str, Any] | None:
    """The newest file with this name (case-insensitive), else the closest fuzzy match."""
    cur = await conn.execute(
        f"""SELECT {FILE_COLUMNS} FROM files f WHERE lower(f.filename) = lower(%s)
            ORDER BY f.uploaded_at DESC, f.id DESC LIMIT 1""",
        (name,),
    )
    row = await cur.fetchone()
    if row:
        return dict(row)
    cur = await conn.execute(
        f"""SELECT {FILE_COLUMNS} FROM files f
            WHERE similarity(%(n)s, f.filename) >= 0.5
            ORDER BY similarity(%(n)s, f.filename) DESC, f.uploaded_at DESC LIMIT 1""",
        {"n": name},
    )
    row = await cur.fetchone()
    return dict(row) if row else None
