"""Events: the audit trail (`GET /api/v2/events`) and the live stream (server-sent events)."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from skyras import cursors, deadletter, outbox
from skyras.constants import CHANNELS
from skyras.errors import ApiError
from skyras_hub import store
from skyras_hub.api.deps import AuthDep, FanoutDep, PoolDep, RedisDep, SettingsDep
from skyras_hub.live import EventStream
from skyras_hub.models import EventPublic, EventsPublic

router = APIRouter(prefix="/api/v2/events", tags=["events"])


def encode_cursor(created_at: datetime, seq: int) -> str:
    return cursors.encode([created_at.isoformat(), seq])


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        created_at, seq = cursors.decode(cursor)
        parsed = datetime.fromisoformat(created_at)
        if parsed.tzinfo is None or not isinstance(seq, int):
            raise ValueError("bad cursor")
        return parsed, seq
    except (ValueError, TypeError):  # cursors.InvalidCursor is a ValueError
        raise ApiError(
            400,
            "Invalid cursor: pass next_cursor from a previous page unchanged",
            code="bad_cursor",
        ) from None


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ApiError(
            422, f"Invalid request: {name} must carry a timezone (e.g. 2025-06-01T12:00:00Z)"
        )
    return value


def _public(row: dict[str, Any]) -> EventPublic:
    event = outbox.event_from_row(row)
    return EventPublic(
        **event.model_dump(include={"type", "source", "subject", "time", "data", "correlationid"}),
        id=str(event.id),
        channel=row["channel"],
        published_at=row["published_at"],
    )


@router.get(
    "",
    response_model=EventsPublic,
    summary="Recent events from the audit trail",
    description=(
        "Events newest first, from the `events` table. Filters combine (AND); `type` may repeat. "
        "Pages: pass the response's `next_cursor` as `cursor` for the next page; it is null on "
        "the last page."
    ),
)
async def list_events(
    pool: PoolDep,
    _: AuthDep,
    type: Annotated[list[str] | None, Query(description="Event type(s), e.g. task.created")] = None,
    source: Annotated[str | None, Query(description="e.g. /agents/marcus")] = None,
    subject: Annotated[str | None, Query(description="e.g. tasks/<id>")] = None,
    channel: Annotated[str | None, Query(description="tasks, files or system")] = None,
    correlation_id: Annotated[str | None, Query(max_length=128)] = None,
    since: Annotated[datetime | None, Query(description="ISO time; events at or after it")] = None,
    until: Annotated[datetime | None, Query(description="ISO time; events before it")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> EventsPublic:
    """List events, newest first."""
    before = decode_cursor(cursor) if cursor else None
    async with pool.connection() as conn:
        rows = await store.list_events(
            conn=conn,
            types=type,
            source=source,
            subject=subject,
            channel=channel,
            correlation_id=correlation_id,
            since=_aware(since, "since"),
            until=_aware(until, "until"),
            before=before,
            limit=limit + 1,
        )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["seq"]) if more else None
    return EventsPublic(items=[_public(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/stream",
    summary="Live events (server-sent events)",
    description=(
        "Every event published on `skyras:tasks`, `skyras:files` and `skyras:system`, as it "
        "happens: `id: <event id>`, `event: <type>`, `data: <the JSON envelope>`. Filter with "
        "`?type=task.created&type=file.uploaded` and/or `?channel=tasks`. A comment line is "
        "sent every `SKYRAS_SSE_HEARTBEAT_SECONDS` (15 s) to keep proxies from closing the "
        "stream. Live only: for history use `GET /api/v2/events`."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "A text/event-stream that stays open",
            "content": {
                "text/event-stream": {
                    "example": (
                        "retry: 3000\n: connected\n\n"
                        "id: 0190a5c2-7d0e-7c3a-9b1e-3f2a1c4d5e6f\nevent: task.created\n"
                        'data: {"id":"0190a5c2-...","type":"task.created","source":"/agents/marcus",...}\n\n'
                        ": heartbeat\n\n"
                    )
                }
            },
        }
    },
)
async def stream_events(
    fanout: FanoutDep,
    settings: SettingsDep,
    _: AuthDep,
    type: Annotated[list[str] | None, Query(description="Only these event types")] = None,
    channel: Annotated[list[str] | None, Query(description="Only these channels")] = None,
) -> Response:
    """Stream events live."""
    unknown = sorted(set(channel or ()) - set(CHANNELS))
    if unknown:
        raise ApiError(
            422,
            f"Invalid request: unknown channel(s) {', '.join(unknown)}; use {', '.join(CHANNELS)}",
        )
    sub = fanout.subscribe(frozenset(type or ()), frozenset(channel or ()))
    return EventStream(fanout, sub, settings.sse_heartbeat_seconds)


@router.get(
    "/deadletter",
    summary="Events a consumer group gave up on",
    description=(
        "Entries of the `skyras:stream:deadletter` stream, newest first: the event, the group "
        "that failed it, how many deliveries it had and the last error. Page with `before` "
        "(an entry id from the previous page)."
    ),
)
async def list_dead_letters(
    redis: RedisDep,
    _: AuthDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[str | None, Query(pattern=r"^\d+-\d+$")] = None,
) -> dict[str, Any]:
    """List dead letters, newest first."""
    items = await deadletter.list_dead_letters(redis, limit=limit, before=before or "+")
    return {"items": items, "next_before": items[-1]["id"] if len(items) == limit else None}


@router.post(
    "/deadletter/{entry_id}/replay",
    summary="Deliver a dead-lettered event again",
    description=(
        "Puts the event back on its stream and removes the dead letter. Groups that handled it "
        "already skip it; the group that failed applies it once (after you fixed the cause)."
    ),
)
async def replay_dead_letter(
    entry_id: Annotated[str, Path(pattern=r"^\d+-\d+$")],
    redis: RedisDep,
    _: AuthDep,
) -> dict[str, Any]:
    """Replay one dead letter."""
    try:
        return await deadletter.replay_dead_letter(redis, entry_id)
    except deadletter.DeadLetterNotFound:
        raise ApiError(404, f"No dead letter {entry_id}") from None
    except ValueError as exc:
        raise ApiError(409, str(exc)) from None
