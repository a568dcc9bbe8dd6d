"""Marcus's request and response schemas, named by role (Base/Create/Update/Public).

Validation lives here so that every way in (REST, chat, tests) normalizes a
task the same way: titles trimmed to 1-200 characters, tags lowercased and
deduplicated, due dates timezone-aware. A bare date (`2026-12-01`) means the
end of that day in UTC (23:59:59), which is also how the calendar recognizes
an all-day task.
"""

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from skyras import tags as skyras_tags

Priority = Literal["low", "medium", "high", "urgent"]
Status = Literal["pending", "in_progress", "completed", "cancelled"]
SortKey = Literal["created_at", "-created_at", "due_date", "-due_date", "priority", "-priority"]

PRIORITIES: tuple[str, ...] = ("low", "medium", "high", "urgent")
STATUSES: tuple[str, ...] = ("pending", "in_progress", "completed", "cancelled")
MAX_TAGS = 20
MAX_TAG_LENGTH = skyras_tags.MAX_TAG_LENGTH
END_OF_DAY = time(23, 59, 59, tzinfo=UTC)
_BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def end_of_day(day: date) -> datetime:
    """The instant a date-only due date stands for: 23:59:59 UTC that day."""
    return datetime.combine(day, END_OF_DAY)


def is_end_of_day(moment: datetime) -> bool:
    utc = moment.astimezone(UTC)
    return (utc.hour, utc.minute, utc.second) == (23, 59, 59)


def _due_date(value: Any) -> Any:
    if isinstance(value, str) and _BARE_DATE.match(value.strip()):
        return end_of_day(date.fromisoformat(value.strip()))
    if isinstance(value, date) and not isinstance(value, datetime):
        return end_of_day(value)
    return value


def normalize_tags(value: Any) -> list[str]:
    """The shared tag rules (`skyras.tags`), at most MAX_TAGS per task."""
    return skyras_tags.normalize_tags(value, max_tags=MAX_TAGS)


Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Assignee = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
DueDate = Annotated[AwareDatetime, BeforeValidator(_due_date)]
Tags = Annotated[list[str], BeforeValidator(normalize_tags)]


class TaskBase(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: Title
    description: Description = ""
    priority: Priority = "medium"
    status: Status = "pending"
    due_date: DueDate | None = None
    assignee: Assignee | None = None
    tags: Tags = Field(default_factory=list)

    @field_validator("description", mode="before")
    @classmethod
    def _null_description(cls, value: Any) -> Any:
        return "" if value is None else value


class TaskCreate(TaskBase):
    """POST /api/tasks and PUT /api/tasks/{id} (a full replacement)."""

    # Optional on PUT: the version the client last read (like If-Match).
    version: int | None = Field(default=None, ge=1)


class TaskUpdate(BaseModel):
    """PATCH /api/tasks/{id}: only the fields given change."""

    model_config = ConfigDict(extra="ignore")

    title: Title | None = None
    description: Description | None = None
    priority: Priority | None = None
    status: Status | None = None
    due_date: DueDate | None = None
    assignee: Assignee | None = None
    tags: Tags | None = None
    version: int | None = Field(default=None, ge=1)

    @field_validator("title", "priority", "status", "tags", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # These columns always have a value: null is a mistake, not "clear it".
        if value is None:
            raise ValueError("may not be null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (explicit nulls included), without `version`."""
        data = self.model_dump(exclude_unset=True)
        data.pop("version", None)
        if "description" in data and data["description"] is None:
            data["description"] = ""
        return data


class TaskPublic(BaseModel):
    id: UUID
    title: str
    description: str
    priority: Priority
    status: Status
    due_date: datetime | None
    assignee: str | None
    tags: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class TasksPublic(BaseModel):
    items: list[TaskPublic]
    next_cursor: str | None = None


class TaskFilePublic(BaseModel):
    id: UUID
    filename: str
    file_type: str
    file_size: int
    tags: list[str]
    uploaded_at: datetime
    reason: str
    linked_at: datetime


class TaskFilesPublic(BaseModel):
    items: list[TaskFilePublic]


class CalendarEvent(BaseModel):
    id: str
    title: str
    start: datetime | date
    end: datetime | date
    all_day: bool
    source: Literal["skyras", "calcom"]
    task_id: UUID | None = None
    status: str
    priority: Priority | None = None
    url: str | None = None


class CalendarEventsPublic(BaseModel):
    items: list[CalendarEvent]
    calcom: dict[str, Any] = Field(default_factory=dict)


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]


class Attendee(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: Email
    timeZone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "UTC"


class BookingCreate(BaseModel):
    task_id: UUID
    start: AwareDatetime
    event_type_id: int = Field(ge=1)
    attendee: Attendee
    length_in_minutes: int | None = Field(default=None, ge=1, le=24 * 60)


class ChatRequest(BaseModel):
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class ChatResponse(BaseModel):
    agent: Literal["marcus"] = "marcus"
    reply: str
    data: dict[str, Any] = Field(default_factory=dict)


class WebhookDeliveryPublic(BaseModel):
    id: UUID
    event_id: UUID
    event_type: str | None
    url: str
    attempt: int
    status_code: int | None
    error: str | None
    duration_ms: int
    delivered_at: datetime


class WebhookDeliveriesPublic(BaseModel):
    items: list[WebhookDeliveryPublic]
    configured: bool = False
