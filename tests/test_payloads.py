"""Typed payloads: a handler gets a model or a named error, never a KeyError."""

from uuid import uuid4

import pytest

from skyras.events import Event
from skyras.payloads import PayloadError, TaskAssigned, TaskStepFailed, payload_of


def _event(type_: str, data: dict[str, object]) -> Event:
    return Event(type=type_, source="/agents/marcus", data=data)


def test_an_assignment_reads_back_as_its_model_with_unknown_fields_kept() -> None:
    task_id = uuid4()
    sent = TaskAssigned(
        task_id=task_id, attempt=1, assignee="ari", action="master", inputs={"file_id": "f"}
    )
    event = _event(sent.TYPE, {**sent.model_dump(mode="json"), "added_later": 1})
    received = payload_of(event, TaskAssigned)
    assert received.task_id == task_id
    assert received.inputs == {"file_id": "f"}
    assert received.model_extra == {"added_later": 1}


def test_a_payload_missing_a_field_is_a_payload_error_naming_it() -> None:
    event = _event("task.step_failed", {"task_id": str(uuid4()), "attempt": 1})
    with pytest.raises(PayloadError, match="error"):
        payload_of(event, TaskStepFailed)


def test_an_event_of_another_type_is_refused() -> None:
    event = _event("task.created", {"task_id": str(uuid4()), "attempt": 1})
    with pytest.raises(PayloadError, match=r"not task\.assigned"):
        payload_of(event, TaskAssigned)
