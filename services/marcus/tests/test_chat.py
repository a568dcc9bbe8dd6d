"""Chat: the deterministic understanding of task requests, and its effects over HTTP."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import psycopg
from psycopg.rows import DictRow

from skyras_marcus.chat import parse_create, parse_when

from .conftest import count

WEDNESDAY = date(2026, 12, 2)


def test_parse_when_understands_days() -> None:
    assert parse_when("today", WEDNESDAY) == WEDNESDAY
    assert parse_when("tomorrow", WEDNESDAY) == date(2026, 12, 3)
    assert parse_when("friday", WEDNESDAY) == date(2026, 12, 4)
    assert parse_when("wed", WEDNESDAY) == WEDNESDAY
    assert parse_when("next wednesday", WEDNESDAY) == date(2026, 12, 9)
    assert parse_when("monday", WEDNESDAY) == date(2026, 12, 7)
    assert parse_when("in 3 days", WEDNESDAY) == date(2026, 12, 5)
    assert parse_when("in two weeks", WEDNESDAY) == date(2026, 12, 16)
    assert parse_when("2027-01-15", WEDNESDAY) == date(2027, 1, 15)
    assert parse_when("someday", WEDNESDAY) is None


def test_parse_create_pulls_out_attributes() -> None:
    req = parse_create("mix track 3, high priority, due friday", WEDNESDAY)
    assert (req.title, req.priority, req.due) == ("Mix track 3", "high", date(2026, 12, 4))
    req = parse_create("book the studio due in 3 days tagged album and vocals, urgent", WEDNESDAY)
    assert (req.title, req.priority, req.due, req.tags) == (
        "Book the studio", "urgent", date(2026, 12, 5), ["album", "vocals"],
    )  # fmt: skip
    req = parse_create("call the label by 2026-12-10 assigned to sam, priority low", WEDNESDAY)
    assert (req.title, req.priority, req.due, req.assignee) == (
        "Call the label", "low", date(2026, 12, 10), "sam",
    )  # fmt: skip


async def test_chat_creates_lists_and_completes_tasks(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[DictRow]
) -> None:
    async def say(message: str) -> dict[str, Any]:
        response = await client.post("/api/chat", json={"message": message})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["agent"] == "marcus" and body["reply"]
        return body

    today = datetime.now(UTC).date()
    created = await say("create a task to mix track 3, high priority, due friday")
    task = created["data"]["task"]
    assert task["title"] == "Mix track 3" and task["priority"] == "high"
    friday = today + timedelta(days=(4 - today.weekday()) % 7)
    assert task["due_date"] == f"{friday.isoformat()}T23:59:59Z"
    assert "Mix track 3" in created["reply"]
    today_task = (await say("add a task to send stems due today tagged mix"))["data"]["task"]
    assert today_task["tags"] == ["mix"]
    await say("create an urgent task to fix the bass")

    due = await say("what's due this week?")
    titles = {t["title"] for t in due["data"]["tasks"]}
    assert "Send stems" in titles and "Fix the bass" not in titles
    monday = today - timedelta(days=today.weekday())
    assert ("Mix track 3" in titles) == (friday < monday + timedelta(days=7))

    listed = await say("list my tasks")
    assert {t["title"] for t in listed["data"]["tasks"]} == {
        "Mix track 3",
        "Send stems",
        "Fix the bass",
    }

    done = await say("mark mix track 3 done")
    assert done["data"]["task"]["id"] == task["id"]
    assert done["data"]["task"]["status"] == "completed" and done["data"]["task"]["version"] == 2
    assert "Mix track 3" not in {t["title"] for t in (await say("list my tasks"))["data"]["tasks"]}
    assert len((await say("list all tasks"))["data"]["tasks"]) == 3
    started = await say("mark the fix the bass task as in progress")
    assert started["data"]["task"]["status"] == "in_progress"

    missing = await say("mark master the universe done")
    assert missing["data"]["task"] is None and "couldn't find" in missing["reply"]
    unknown = await say("sing me a song")
    assert unknown["data"] == {"understood": False} and "create a task" in unknown["reply"]
    too_long = await say("create a task to " + "x" * 300)
    assert too_long["data"] == {"error": "validation_error"}

    # Chat changes go through the same path as the API: each one has its event.
    assert await count(db, "tasks") == 3
    assert await count(db, "events", "type = 'task.created'") == 3
    assert await count(db, "events", "type = 'task.updated'") == 2
    empty = await client.post("/api/chat", json={"message": "   "})
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "validation_error"
