"""The event envelope: round trip, and one named error for every kind of bad input."""

import json
from datetime import datetime

import pytest

from skyras.events import EnvelopeError, Event, decode, encode


def test_an_event_round_trips_through_its_wire_encoding() -> None:
    event = Event(
        type="task.created",
        source="/agents/marcus",
        subject="tasks/42",
        data={"task": {"title": "Mix track 3", "tags": ["mix"]}},
        correlationid="req-1",
    )

    decoded = decode(encode(event))

    assert decoded == event
    assert decoded.channel == "tasks"
    assert json.loads(encode(event))["specversion"] == "1.0"


def test_event_ids_are_time_ordered_uuid7() -> None:
    first, second = Event(type="a.b", source="/x"), Event(type="a.b", source="/x")
    assert first.id.version == 7
    assert str(first.id) < str(second.id)


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        "[]",
        "{}",
        json.dumps({"type": "Task Created", "source": "/agents/marcus"}),
        json.dumps({"type": "task.created", "source": "marcus"}),
        json.dumps({"type": "task.created", "source": "/m", "specversion": "0.3"}),
        json.dumps({"type": "task.created", "source": "/m", "time": "2026-01-01T00:00:00"}),
        json.dumps({"type": "task.created", "source": "/m", "data": "a string"}),
        json.dumps({"type": "task.created", "source": "/m", "unexpected": 1}),
        json.dumps({"type": "task.created", "source": "/m", "id": "not-a-uuid"}),
    ],
)
def test_bad_input_raises_envelope_error(raw: str | bytes) -> None:
    with pytest.raises(EnvelopeError):
        decode(raw)


def test_event_times_are_timezone_aware() -> None:
    assert Event(type="a.b", source="/x").time.tzinfo is not None
    with pytest.raises(ValueError):
        Event(type="a.b", source="/x", time=datetime(2026, 1, 1))
