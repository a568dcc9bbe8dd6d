"""Tasks as calendar events: the JSON events list and the iCalendar (RFC 5545) feed.

A due date at 23:59:59 UTC (what a bare date like `2026-12-01` becomes) is an
all-day event on that day; any other due date is a point in time (DTSTART
alone, which RFC 5545 reads as ending when it starts). Pure functions: rows
in, events or bytes out.
"""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from icalendar import Calendar
from icalendar import Event as ICalEvent

from skyras_marcus import __version__
from skyras_marcus.models import CalendarEvent, is_end_of_day

PRODID = f"-//SkyRas//Marcus {__version__}//EN"
# RFC 5545 PRIORITY: 1 highest .. 9 lowest.
_ICAL_PRIORITY = {"urgent": 1, "high": 3, "medium": 5, "low": 9}


def task_url(public_url: str, task_id: UUID | str) -> str:
    return f"{public_url.rstrip('/')}/tasks/{task_id}"


def task_event(task: dict[str, Any], public_url: str) -> CalendarEvent:
    due: datetime = task["due_date"]
    if is_end_of_day(due):
        day = due.astimezone(UTC).date()
        start: Any = day
        end: Any = day + timedelta(days=1)
        all_day = True
    else:
        start = end = due.astimezone(UTC)
        all_day = False
    return CalendarEvent(
        id=f"task:{task['id']}",
        title=task["title"],
        start=start,
        end=end,
        all_day=all_day,
        source="skyras",
        task_id=task["id"],
        status=task["status"],
        priority=task["priority"],
        url=task_url(public_url, task["id"]),
    )


def booking_event(booking: dict[str, Any]) -> CalendarEvent | None:
    """A Cal.com booking (API v2 shape) as an event; None when it has no times."""
    try:
        start = datetime.fromisoformat(str(booking["start"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(booking["end"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    metadata = booking.get("metadata") or {}
    task_id = metadata.get("skyras_task_id") if isinstance(metadata, dict) else None
    try:
        task_uuid = UUID(str(task_id)) if task_id else None
    except ValueError:
        task_uuid = None
    return CalendarEvent(
        id=f"calcom:{booking.get('uid') or booking.get('id')}",
        title=str(booking.get("title") or "Cal.com booking"),
        start=start,
        end=end,
        all_day=False,
        source="calcom",
        task_id=task_uuid,
        status=str(booking.get("status") or "accepted"),
        url=booking.get("meetingUrl") or None,
    )


def ics_feed(tasks: list[dict[str, Any]], *, public_url: str, now: datetime | None = None) -> bytes:
    """An RFC 5545 VCALENDAR with one VEVENT per task that has a due date.

    The icalendar library writes CRLF line endings and folds lines at 75 octets.
    """
    stamp = now or datetime.now(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "SkyRas tasks")
    for task in tasks:
        if task.get("due_date") is None:
            continue
        event = task_event(task, public_url)
        vevent = ICalEvent()
        vevent.add("uid", f"task-{task['id']}@skyras")
        vevent.add("dtstamp", stamp)
        vevent.add("created", task["created_at"].astimezone(UTC))
        vevent.add("last-modified", task["updated_at"].astimezone(UTC))
        vevent.add("sequence", max(0, int(task["version"]) - 1))
        vevent.add("dtstart", event.start)
        if event.all_day:
            vevent.add("dtend", event.end)
            vevent.add("transp", "TRANSPARENT")
        summary = task["title"]
        if task["status"] == "completed":
            summary = f"✓ {summary}"
        vevent.add("summary", summary)
        if task.get("description"):
            vevent.add("description", task["description"])
        vevent.add("status", "CANCELLED" if task["status"] == "cancelled" else "CONFIRMED")
        vevent.add("priority", _ICAL_PRIORITY.get(task["priority"], 5))
        if task.get("tags"):
            vevent.add("categories", list(task["tags"]))
        vevent.add("url", event.url)
        cal.add_component(vevent)
    return cal.to_ical()
