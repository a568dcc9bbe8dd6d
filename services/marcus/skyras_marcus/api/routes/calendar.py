"""Calendar: tasks with due dates as events (JSON and an iCalendar feed), Cal.com bookings.

Cal.com is optional: without an API key the bookings endpoints say
`configured: false` (and creating one is a 503), and the events list holds
the tasks alone. A Cal.com outage never breaks the events list: it reports
the error under `calcom` and lists the tasks.
"""

import logging
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from skyras.errors import ApiError
from skyras_marcus import store
from skyras_marcus.api.deps import CalcomDep, PoolDep, SettingsDep
from skyras_marcus.api.routes.tasks import _due_param
from skyras_marcus.calendar_feed import booking_event, ics_feed, task_event
from skyras_marcus.integrations.calcom import CalcomError
from skyras_marcus.models import BookingCreate, CalendarEventsPublic

log = logging.getLogger("skyras_marcus.calendar")

router = APIRouter(prefix="/api", tags=["calendar"])

FromParam = Annotated[str | None, Query(alias="from", description="ISO date or date-time")]
ToParam = Annotated[str | None, Query(alias="to", description="ISO date or date-time")]


def _window(from_: str | None, to: str | None) -> tuple[datetime | None, datetime | None]:
    start = _due_param("from", from_)
    end = _due_param("to", to)
    # A bare date means the whole day: `from` starts at its midnight, `to` ends at the next.
    if from_ and len(from_.strip()) == 10 and start is not None:
        start = start.replace(hour=0, minute=0, second=0)
    if to and len(to.strip()) == 10 and end is not None:
        end = end.replace(hour=0, minute=0, second=0) + timedelta(days=1)
    if start and end and end <= start:
        raise ApiError(422, "Invalid request: `to` must be after `from`")
    return start, end


@router.get("/calendar/events", response_model=CalendarEventsPublic)
async def calendar_events(
    pool: PoolDep,
    settings: SettingsDep,
    calcom: CalcomDep,
    from_: FromParam = None,
    to: ToParam = None,
) -> CalendarEventsPublic:
    """Tasks with due dates in the window as events, plus Cal.com bookings when configured."""
    start, end = _window(from_, to)
    async with pool.connection() as conn:
        tasks = await store.list_due_tasks(conn=conn, start=start, end=end)
    items = [task_event(t, settings.public_url) for t in tasks]
    calcom_info: dict[str, Any] = {"configured": calcom is not None}
    if calcom is not None:
        try:
            bookings = await calcom.list_bookings(after_start=start, before_end=end)
            events = [e for e in (booking_event(b) for b in bookings) if e is not None]
            items.extend(events)
            calcom_info["bookings"] = len(events)
        except CalcomError as exc:
            log.warning("Cal.com bookings unavailable: %s", exc.message)
            calcom_info["error"] = exc.message
    items.sort(key=lambda e: (str(e.start)[:10], str(e.start)))
    return CalendarEventsPublic(items=items, calcom=calcom_info)


@router.get("/calendar.ics", response_class=Response)
async def calendar_feed(
    pool: PoolDep, settings: SettingsDep, from_: FromParam = None, to: ToParam = None
) -> Response:
    """The tasks with due dates as an iCalendar (RFC 5545) feed to subscribe to."""
    start, end = _window(from_, to)
    async with pool.connection() as conn:
        tasks = await store.list_due_tasks(conn=conn, start=start, end=end)
    return Response(
        ics_feed(tasks, public_url=settings.public_url),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="skyras-tasks.ics"'},
    )


@router.get("/calendar/bookings")
async def list_bookings(
    calcom: CalcomDep, from_: FromParam = None, to: ToParam = None
) -> dict[str, Any]:
    """Cal.com bookings in the window (`configured: false` without Cal.com credentials)."""
    if calcom is None:
        return {"configured": False, "items": []}
    start, end = _window(from_, to)
    try:
        bookings = await calcom.list_bookings(after_start=start, before_end=end)
    except CalcomError as exc:
        raise ApiError(502, f"Cal.com: {exc.message}", details=exc.details) from None
    return {"configured": True, "items": bookings}


@router.post("/calendar/bookings", status_code=status.HTTP_201_CREATED)
async def create_booking(
    booking_in: BookingCreate, pool: PoolDep, calcom: CalcomDep
) -> dict[str, Any]:
    """Book a Cal.com event type for a task; the booking's metadata names the task."""
    if calcom is None:
        raise ApiError(
            503,
            "Cal.com is not configured (set SKYRAS_CALCOM_API_KEY)",
            code="not_configured",
        )
    async with pool.connection() as conn:
        try:
            task = await store.get_task(conn=conn, task_id=booking_in.task_id)
        except store.TaskNotFound:
            raise ApiError(404, f"No task with id '{booking_in.task_id}'") from None
    try:
        booking = await calcom.create_booking(
            start=booking_in.start,
            event_type_id=booking_in.event_type_id,
            attendee=booking_in.attendee.model_dump(),
            metadata={"skyras_task_id": str(task["id"]), "skyras_task_title": task["title"][:200]},
            length_in_minutes=booking_in.length_in_minutes,
        )
    except CalcomError as exc:
        if exc.status_code is not None and 400 <= exc.status_code < 500 and exc.status_code != 401:
            raise ApiError(
                422, f"Cal.com refused the booking: {exc.message}", details=exc.details
            ) from None
        raise ApiError(502, f"Cal.com: {exc.message}", details=exc.details) from None
    return {"task_id": str(task["id"]), "booking": booking}
