"""The event envelope (CloudEvents 1.0 attributes) and its one wire encoding.

Who fills it: `outbox.add_event` when a service records a change. Who reads
it: the relay (publishes it), consumers (`decode`), the hub's events API and
its live stream. Bad input to `decode` raises `EnvelopeError`, and nothing else.
"""

import json
import re
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import uuid6
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from skyras.constants import channel_for_type

_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_SOURCE = re.compile(r"^/[A-Za-z0-9._~/-]*$")


class EnvelopeError(ValueError):
    """The bytes or fields given are not a valid SkyRas event."""


def new_event_id() -> UUID:
    """UUIDv7: time-ordered, so ids sort the way events happened."""
    return UUID(str(uuid6.uuid7()))


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID = Field(default_factory=new_event_id)
    specversion: Literal["1.0"] = "1.0"
    type: str = Field(min_length=3, max_length=100)
    source: str = Field(min_length=1, max_length=200)
    subject: str | None = Field(default=None, max_length=300)
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any] = Field(default_factory=dict)
    correlationid: str | None = Field(default=None, max_length=128)

    @field_validator("type")
    @classmethod
    def _dotted_type(cls, value: str) -> str:
        if not _TYPE.match(value):
            raise ValueError("type must be dotted lowercase words, e.g. task.created")
        return value

    @field_validator("source")
    @classmethod
    def _path_source(cls, value: str) -> str:
        if not _SOURCE.match(value):
            raise ValueError("source must be a path such as /agents/marcus")
        return value

    @field_validator("time")
    @classmethod
    def _aware_time(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("time must carry a timezone")
        return value

    @property
    def channel(self) -> str:
        return channel_for_type(self.type)


def encode(event: Event) -> str:
    """The JSON text that travels on Redis streams and pub/sub."""
    return event.model_dump_json()


def decode(raw: str | bytes | dict[str, Any]) -> Event:
    """Parse an event from JSON text or a dict; raises EnvelopeError on anything invalid."""
    try:
        payload = json.loads(raw) if isinstance(raw, (str, bytes, bytearray)) else raw
        if not isinstance(payload, dict):
            raise EnvelopeError("an event must be a JSON object")
        return Event.model_validate(payload)
    except EnvelopeError:
        raise
    except (ValueError, TypeError, ValidationError) as exc:
        raise EnvelopeError(f"invalid event: {exc}") from exc
