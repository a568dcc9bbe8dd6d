"""Marcus's SQL: every query on tasks and the delivery tables.

Links between tasks and files (`task_files`) are Letitia's (`skyras.linking`);
Marcus only reads them, for `GET /api/tasks/{id}/files`.

Who calls it: the routes, the chat and the event handlers, always with the
connection of the caller's transaction. Functions that change a task also
write its event (`task.created|updated|deleted`) through the outbox on that
same connection, so the change and its event commit together or not at all.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import uuid6
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from skyras import cursors, outbox
from skyras.linking import MIN_STEM_LENGTH, file_stem
from skyras.sqlfilter import Where
from skyras_marcus.models import TaskBase, TaskPublic

Conn = AsyncConnection[DictRow]

EVENT_SOURCE = "/agents/marcus"
TASK_COLUMNS = (
    "id, title, description, priority, status, due_date, assignee, tags, version, "
    "created_at, updated_at"
)
_PRIORITY_RANK = (
    "(CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END)"
)

# Each sort is a keyset: (SQL expression, direction, SQL type of its value in a cursor).
# NULL due dates sort last both ways, through +/-infinity, so keys are never NULL.
_SORTS: dict[str, list[tuple[str, str, str]]] = {
    "-created_at": [("created_at", "DESC", "timestamptz"), ("id", "DESC", "uuid")],
    "created_at": [("created_at", "ASC", "timestamptz"), ("id", "ASC", "uuid")],
    "due_date": [
        ("COALESCE(due_date, 'infinity'::timestamptz)", "ASC", "timestamptz"),
        ("id", "ASC", "uuid"),
    ],
    "-due_date": [
        ("COALESCE(due_date, '-infinity'::timestamptz)", "DESC", "timestamptz"),
        ("id", "DESC", "uuid"),
    ],
    "priority": [
        (_PRIORITY_RANK, "ASC", "integer"),
        ("created_at", "DESC", "timestamptz"),
        ("id", "DESC", "uuid"),
    ],
    "-priority": [
        (_PRIORITY_RANK, "DESC", "integer"),
        ("created_at", "ASC", "timestamptz"),
        ("id", "ASC", "uuid"),
    ],
}


class TaskNotFound(LookupError):
    pass


class VersionConflict(Exception):
    def __init__(self, current: int) -> None:
        super().__init__(f"the task is at version {current}")
        self.current = current


InvalidCursor = cursors.InvalidCursor


def task_json(row: dict[str, Any]) -> dict[str, Any]:
    """The task as every API response and event carries it."""
    return TaskPublic.model_validate(row).model_dump(mode="json")


async def _publish(
    conn: Conn, event_type: str, row: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    task = task_json(row)
    await outbox.add_event(
        conn,
        type=event_type,
        source=EVENT_SOURCE,
        subject=f"tasks/{task['id']}",
        data={"task": task, **extra},
    )
    return task


async def create_task(*, conn: Conn, task_in: TaskBase) -> dict[str, Any]:
    """Insert a task and its `task.created` event; returns the row."""
    cur = await conn.execute(
        f"""INSERT INTO tasks (id, title, description, priority, status, due_date, assignee, tags)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            RETURNING {TASK_COLUMNS}""",
        (
            UUID(str(uuid6.uuid7())),
            task_in.title,
            task_in.description,
            task_in.priority,
            task_in.status,
            task_in.due_date,
            task_in.assignee,
            task_in.tags,
        ),
    )
    row = await cur.fetchone()
    assert row is not None
    await _publish(conn, "task.created", row)
    return dict(row)


async def get_task(*, conn: Conn, task_id: UUID, for_update: bool = False) -> dict[str, Any]:
    lock = " FOR UPDATE" if for_update else ""
    cur = await conn.execute(f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = %s{lock}", (task_id,))
    row = await cur.fetchone()
    if row is None:
        raise TaskNotFound(str(task_id))
    return dict(row)


async def update_task(
    *,
    conn: Conn,
    task_id: UUID,
    changes: dict[str, Any],
    expected_version: int | None = None,
    event_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Apply `changes`, bump the version and publish `task.updated`.

    With `expected_version`, a task at another version raises VersionConflict
    (optimistic concurrency); without it the last write wins.
    """
    current = await get_task(conn=conn, task_id=task_id, for_update=True)
    if expected_version is not None and expected_version != current["version"]:
        raise VersionConflict(current["version"])
    allowed = {"title", "description", "priority", "status", "due_date", "assignee", "tags"}
    fields = {k: v for k, v in changes.items() if k in allowed}
    sets = "".join(f"{name} = %s, " for name in fields)
    cur = await conn.execute(
        f"""UPDATE tasks SET {sets}version = version + 1, updated_at = now()
            WHERE id = %s RETURNING {TASK_COLUMNS}""",
        (*fields.values(), task_id),
    )
    row = await cur.fetchone()
    assert row is not None
    await _publish(conn, "task.updated", row, **(event_extra or {}))
    return dict(row)


async def delete_task(
    *, conn: Conn, task_id: UUID, expected_version: int | None = None
) -> dict[str, Any]:
    """Delete a task (its task_files rows go with it) and publish `task.deleted`."""
    current = await get_task(conn=conn, task_id=task_id, for_update=True)
    if expected_version is not None and expected_version != current["version"]:
        raise VersionConflict(current["version"])
    await conn.execute("DELETE FROM tasks WHERE id = %s", (task_id,))
    await _publish(conn, "task.deleted", current)
    return current


def encode_cursor(sort: str, keys: Sequence[str]) -> str:
    return cursors.encode({"s": sort, "k": list(keys)})


def decode_cursor(cursor: str, sort: str) -> list[str]:
    try:
        payload = cursors.decode(cursor)
        keys = payload["k"]
        if payload["s"] != sort or len(keys) != len(_SORTS[sort]):
            raise InvalidCursor("the cursor belongs to another sort order")
        if not all(isinstance(k, str) for k in keys):
            raise InvalidCursor("malformed cursor")
        return list(keys)
    except InvalidCursor:
        raise
    except (KeyError, TypeError) as exc:
        raise InvalidCursor("malformed cursor") from exc


def _after_keyset(sort: str, keys: list[str]) -> tuple[str, list[Any]]:
    """`(a, b, c) > (va, vb, vc)` in the sort's own mixed directions, as OR-ed prefixes."""
    spec = _SORTS[sort]
    ors: list[str] = []
    params: list[Any] = []
    for i, (expr, direction, sql_type) in enumerate(spec):
        ands = [f"{spec[j][0]} = %s::{spec[j][2]}" for j in range(i)]
        params.extend(keys[:i])
        ands.append(f"{expr} {'>' if direction == 'ASC' else '<'} %s::{sql_type}")
        params.append(keys[i])
        ors.append("(" + " AND ".join(ands) + ")")
    return "(" + " OR ".join(ors) + ")", params


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def list_tasks(
    *,
    conn: Conn,
    status: Sequence[str] = (),
    priority: Sequence[str] = (),
    tag: Sequence[str] = (),
    assignee: str | None = None,
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    q: str | None = None,
    sort: str = "-created_at",
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of tasks and the cursor of the next page (None on the last)."""
    where = (
        Where()
        .given(list(status), "status = ANY(%s)")
        .given(list(priority), "priority = ANY(%s)")
        .given(list(tag), "tags @> %s")
        .given(assignee or None, "lower(assignee) = lower(%s)")
        .given(due_before, "due_date < %s")
        .given(due_after, "due_date >= %s")
    )
    if q:
        where.add("(title ILIKE %s OR description ILIKE %s)", _like(q), _like(q))
    if cursor:
        clause, cursor_params = _after_keyset(sort, decode_cursor(cursor, sort))
        where.add(clause, *cursor_params)
    spec = _SORTS[sort]
    keys_sql = ", ".join(f"({expr})::text AS _k{i}" for i, (expr, _, _) in enumerate(spec))
    order_sql = ", ".join(f"{expr} {direction}" for expr, direction, _ in spec)
    cur = await conn.execute(
        f"SELECT {TASK_COLUMNS}, {keys_sql} FROM tasks{where.sql()} ORDER BY {order_sql} LIMIT %s",
        (*where.params, limit + 1),
    )
    rows = [dict(r) for r in await cur.fetchall()]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(sort, [last[f"_k{i}"] for i in range(len(spec))])
    for row in rows:
        for i in range(len(spec)):
            row.pop(f"_k{i}", None)
    return rows, next_cursor


async def find_tasks_by_title(*, conn: Conn, text: str, limit: int = 5) -> list[dict[str, Any]]:
    """Tasks whose title is `text` (case-insensitive) first, then those containing it."""
    cur = await conn.execute(
        f"""SELECT {TASK_COLUMNS} FROM tasks
            WHERE lower(title) = lower(%s) OR title ILIKE %s
            ORDER BY (lower(title) = lower(%s)) DESC,
                     (status IN ('completed', 'cancelled')) ASC,
                     created_at DESC
            LIMIT %s""",
        (text, _like(text), text, limit),
    )
    return [dict(r) for r in await cur.fetchall()]


async def list_due_tasks(
    *, conn: Conn, start: datetime | None, end: datetime | None, limit: int = 5000
) -> list[dict[str, Any]]:
    """Tasks with a due date in [start, end) (either bound optional), earliest first."""
    where = Where("due_date IS NOT NULL").given(start, "due_date >= %s").given(end, "due_date < %s")
    cur = await conn.execute(
        f"SELECT {TASK_COLUMNS} FROM tasks{where.sql()} ORDER BY due_date, id LIMIT %s",
        (*where.params, limit),
    )
    return [dict(r) for r in await cur.fetchall()]


async def list_task_files(*, conn: Conn, task_id: UUID) -> list[dict[str, Any]]:
    await get_task(conn=conn, task_id=task_id)
    cur = await conn.execute(
        """SELECT f.id, f.filename, f.file_type, f.file_size, f.tags, f.uploaded_at,
                  tf.reason, tf.created_at AS linked_at
           FROM task_files tf JOIN files f ON f.id = tf.file_id
           WHERE tf.task_id = %s
           ORDER BY tf.created_at, f.id""",
        (task_id,),
    )
    return [dict(r) for r in await cur.fetchall()]


def _word_pattern(text: str) -> str:
    """A Postgres regex matching `text` literally, not inside a longer word."""
    escaped = "".join(ch if ch.isalnum() or ch in " _" else "\\" + ch for ch in text)
    return f"(^|[^[:alnum:]_]){escaped}($|[^[:alnum:]_])"


async def tasks_naming_or_tagged(
    *, conn: Conn, filename: str, tags: Sequence[str]
) -> list[dict[str, Any]]:
    """Candidate tasks for a file: sharing a tag, or naming it (or its stem) in title or description.

    A superset, found with the tags index and a whole-word regex; the caller
    decides with `skyras.linking.link_reason`.
    """
    names = [filename.strip()]
    stem = file_stem(filename)
    if len(stem) >= MIN_STEM_LENGTH and stem not in names:
        names.append(stem)
    patterns = [_word_pattern(n) for n in names if n]
    cur = await conn.execute(
        f"""SELECT {TASK_COLUMNS} FROM tasks
            WHERE tags && %s::text[] OR title ~* ANY(%s::text[]) OR description ~* ANY(%s::text[])
            ORDER BY created_at, id""",
        (list(tags), patterns, patterns),
    )
    return [dict(r) for r in await cur.fetchall()]


# Delivery of task events to outside sinks (webhook URLs, Plane): see workers.py.


async def register_sink(*, conn: Conn, sink: str) -> None:
    """A sink receives the task events recorded from its registration on."""
    await conn.execute(
        "INSERT INTO event_sinks (sink) VALUES (%s) ON CONFLICT (sink) DO NOTHING", (sink,)
    )


async def pending_sink_events(*, conn: Conn, sink: str, limit: int = 50) -> list[dict[str, Any]]:
    """Task events this sink has not settled yet, oldest first.

    Tracked per event rather than by a position, because events commit out of
    `seq` order: a slower transaction's event must not be skipped.
    """
    cur = await conn.execute(
        """SELECT e.seq, e.id, e.type, e.source, e.subject, e.data, e.correlation_id, e.created_at
           FROM events e JOIN event_sinks s ON s.sink = %s
           WHERE e.type IN ('task.created', 'task.updated', 'task.deleted')
             AND e.created_at >= s.registered_at
             AND NOT EXISTS (SELECT 1 FROM event_sink_progress p
                             WHERE p.sink = %s AND p.event_id = e.id)
           ORDER BY e.seq LIMIT %s""",
        (sink, sink, limit),
    )
    return [dict(r) for r in await cur.fetchall()]


async def settle_sink_event(
    *, conn: Conn, sink: str, event_id: UUID, state: str, attempts: int, error: str | None = None
) -> None:
    await conn.execute(
        """INSERT INTO event_sink_progress (sink, event_id, state, attempts, last_error)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (sink, event_id) DO UPDATE
             SET state = EXCLUDED.state, attempts = EXCLUDED.attempts,
                 last_error = EXCLUDED.last_error, updated_at = now()""",
        (sink, event_id, state, attempts, error),
    )


async def record_delivery(
    *,
    conn: Conn,
    event_id: UUID,
    url: str,
    attempt: int,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
) -> None:
    await conn.execute(
        """INSERT INTO webhook_deliveries
               (id, event_id, url, attempt, status_code, error, duration_ms)
           VALUES (%s, %s, %s, %s, %s, %s, %s)""",
        (UUID(str(uuid6.uuid7())), event_id, url, attempt, status_code, error, duration_ms),
    )


async def list_deliveries(
    *,
    conn: Conn,
    event_id: UUID | None = None,
    url: str | None = None,
    failed: bool | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    where: list[str] = []
    params: list[Any] = []
    if event_id is not None:
        where.append("d.event_id = %s")
        params.append(event_id)
    if url:
        where.append("d.url = %s")
        params.append(url)
    if failed is True:
        where.append("(d.status_code IS NULL OR d.status_code NOT BETWEEN 200 AND 299)")
    elif failed is False:
        where.append("d.status_code BETWEEN 200 AND 299")
    where_sql = f"WHERE {' AND '.join(where)}" if where else ""
    cur = await conn.execute(
        f"""SELECT d.id, d.event_id, e.type AS event_type, d.url, d.attempt, d.status_code,
                   d.error, d.duration_ms, d.delivered_at
            FROM webhook_deliveries d LEFT JOIN events e ON e.id = d.event_id
            {where_sql}
            ORDER BY d.delivered_at DESC, d.id DESC LIMIT %s""",
        (*params, limit),
    )
    return [dict(r) for r in await cur.fetchall()]


async def get_plane_link(*, conn: Conn, task_id: UUID) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT task_id, work_item_id, synced_version, synced_at FROM plane_work_items "
        "WHERE task_id = %s",
        (task_id,),
    )
    row = await cur.fetchone()
    return dict(row) if row else None


async def save_plane_link(
    *, conn: Conn, task_id: UUID, work_item_id: str, synced_version: int
) -> None:
    await conn.execute(
        """INSERT INTO plane_work_items (task_id, work_item_id, synced_version)
           VALUES (%s, %s, %s)
           ON CONFLICT (task_id) DO UPDATE
             SET work_item_id = EXCLUDED.work_item_id,
                 synced_version = GREATEST(plane_work_items.synced_version, EXCLUDED.synced_version),
                 synced_at = now()""",
        (task_id, work_item_id, synced_version),
    )


async def delete_plane_link(*, conn: Conn, task_id: UUID) -> None:
    await conn.execute("DELETE FROM plane_work_items WHERE task_id = %s", (task_id,))
