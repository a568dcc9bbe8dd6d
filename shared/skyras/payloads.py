"""Typed event payloads: the `data` of an event, one pydantic model per type.

Who fills it: a producer builds the model and passes it to `add_payload`
(which writes it to the outbox in the caller's transaction). Who reads it: a
handler calls `payload_of(event, Model)`, which raises `PayloadError` (the
consumer dead-letters it after its retries) instead of a KeyError deep in the
handler. Unknown fields are kept, so a newer producer does not break an
older consumer.

Pipeline steps (DESIGN §11): Marcus publishes `task.assigned` when a step's
dependencies are done; the assignee reports `task.progress` while it works
and ends with exactly one of `task.step_completed` (with its outputs) or
`task.step_failed` (with the reason). `attempt` ties a report to one
assignment, so a late report of an earlier attempt is recognised and ignored.
"""

from typing import Any, ClassVar, TypeVar
from uuid import UUID

from psycopg import AsyncConnection
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from skyras.events import Event
from skyras.outbox import add_event


class PayloadError(ValueError):
    """An event's data does not match the payload model of its type."""


class Payload(BaseModel):
    """Base of every typed payload; `TYPE` is the event type it travels as."""

    model_config = ConfigDict(extra="allow", frozen=True)
    TYPE: ClassVar[str]


class StepPayload(Payload):
    task_id: UUID
    attempt: int = Field(ge=1)


class TaskAssigned(StepPayload):
    """Marcus → the assignee: do `action` with `inputs` (outputs of earlier steps resolved)."""

    TYPE: ClassVar[str] = "task.assigned"
    pipeline_id: UUID | None = None
    assignee: str = Field(min_length=1, max_length=100)
    action: str = Field(min_length=1, max_length=100)
    inputs: dict[str, Any] = Field(default_factory=dict)


class TaskProgress(StepPayload):
    """The assignee → Marcus: how far the step is (0.0 to 1.0), for progress bars."""

    TYPE: ClassVar[str] = "task.progress"
    progress: float = Field(ge=0.0, le=1.0)
    message: str = Field(default="", max_length=500)


class TaskStepCompleted(StepPayload):
    """The assignee → Marcus: the step is done; `outputs` feed the steps after it."""

    TYPE: ClassVar[str] = "task.step_completed"
    outputs: dict[str, Any] = Field(default_factory=dict)


class TaskStepFailed(StepPayload):
    """The assignee → Marcus: the step failed; `retryable` False means retrying cannot help."""

    TYPE: ClassVar[str] = "task.step_failed"
    error: str = Field(min_length=1, max_length=2000)
    retryable: bool = True


PAYLOADS: dict[str, type[Payload]] = {
    model.TYPE: model for model in (TaskAssigned, TaskProgress, TaskStepCompleted, TaskStepFailed)
}

P = TypeVar("P", bound=Payload)


def payload_of(event: Event, model: type[P]) -> P:
    """The event's data as `model`; raises PayloadError when the type or the fields do not fit."""
    if event.type != model.TYPE:
        raise PayloadError(f"event {event.id} is {event.type}, not {model.TYPE}")
    try:
        return model.model_validate(event.data)
    except ValidationError as exc:
        raise PayloadError(f"event {event.id} ({event.type}): {exc}") from exc


async def add_payload(
    conn: AsyncConnection[Any],
    payload: Payload,
    *,
    source: str,
    subject: str | None = None,
    correlation_id: str | None = None,
) -> Event:
    """Write the payload's event to the outbox in the caller's transaction."""
    return await add_event(
        conn,
        type=payload.TYPE,
        source=source,
        subject=subject,
        data=payload.model_dump(mode="json"),
        correlation_id=correlation_id,
    )
