"""Marcus's chat: deterministic understanding of task requests (no model needed).

Understood:
- "create a task to mix track 3, high priority, due friday" (also "tagged x",
  "assigned to sam", "due tomorrow", "due in 3 days", "due 2026-12-01")
- "what's due this week" (also "today", "tomorrow", "next week", "overdue")
- "mark mix track 3 done" (also "as in progress", "cancel ...", "complete ...")
- "list my tasks" (open ones; "list all tasks" for every task)
Anything else gets a reply with examples.

Dates are UTC days; a due day means 23:59:59 UTC that day. A bare weekday is
its next occurrence, today included; "next friday" is the first Friday after
today.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from skyras_marcus import store
from skyras_marcus.models import ChatResponse, TaskCreate, end_of_day
from skyras_marcus.store import Conn, task_json

_WEEKDAYS = {
    "monday": 0, "mon": 0,
    "tuesday": 1, "tues": 1, "tue": 1,
    "wednesday": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3,
    "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "ten": 10}  # fmt: skip
_WEEKDAY_RE = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
WHEN = (
    r"today|tonight|tomorrow|next\s+week|end\s+of\s+(?:the\s+)?week|"
    r"in\s+(?:\d{1,3}|a|an|one|two|three|four|five|six|seven|ten)\s+(?:days?|weeks?)|"
    rf"(?:(?:next|this)\s+)?(?:{_WEEKDAY_RE})|\d{{4}}-\d{{2}}-\d{{2}}"
)
_PRIORITY_WORDS = {"low": "low", "medium": "medium", "normal": "medium", "high": "high",
                   "urgent": "urgent", "asap": "urgent", "important": "high"}  # fmt: skip

_CREATE = re.compile(
    r"^\s*(?:please\s+)?(?:(?:can|could|would)\s+you\s+)?(?:create|add|make|new|open)\s+"
    r"(?:me\s+)?(?:a\s+|an\s+)?(?P<adj>urgent|important|high[- ]priority|low[- ]priority)?\s*"
    r"(?:new\s+)?(?:task|todo|to-do)\b[\s:,-]*(?:to\s+|called\s+|named\s+|titled\s+)?"
    r"(?P<rest>.*?)[.!]?\s*$",
    re.IGNORECASE,
)
_DUE = re.compile(rf"\b(?:due|by)\s+(?:on\s+|by\s+)?(?P<when>{WHEN})\b", re.IGNORECASE)
_PRIORITY = re.compile(
    r"\b(?:(?P<p1>low|medium|normal|high|urgent)\s+priority|"
    r"priority\s*(?:is\s+|of\s+|:\s*|=\s*)?(?P<p2>low|medium|normal|high|urgent))\b",
    re.IGNORECASE,
)
_TAGGED = re.compile(
    r"\btagged\s+(?:with\s+|as\s+)?(?P<tags>[a-z0-9_-]+(?:(?:\s+and\s+|\s+|/)[a-z0-9_-]+)*?)"
    r"(?=\s*(?:,|$|\.|\b(?:due|by|assigned|high|low|medium|urgent|priority)\b))",
    re.IGNORECASE,
)
_ASSIGNED = re.compile(r"\bassign(?:ed)?\s+(?:it\s+)?to\s+@?(?P<who>[a-z][\w.-]*)", re.IGNORECASE)
_DUE_QUERY = re.compile(
    rf"\b(?:due|deadlines?)\b.*?\b(?P<when>this\s+week|next\s+week|overdue|{WHEN})\b"
    r"|\b(?P<overdue>overdue|late)\b",
    re.IGNORECASE,
)
_STATUS_WORDS = (
    r"done|complete|completed|finished|in\s+progress|in-progress|started|pending|"
    r"todo|to\s+do|cancelled|canceled"
)
_MARK = re.compile(
    rf"^\s*(?:please\s+)?(?:mark|set|move)\s+(?P<title>.+?)\s+(?:as\s+|to\s+)?"
    rf"(?P<status>{_STATUS_WORDS})\s*[.!]?\s*$",
    re.IGNORECASE,
)
_VERB_STATUS = re.compile(
    r"^\s*(?:please\s+)?(?P<verb>complete|finish|close|cancel|start|begin)\s+"
    r"(?:working\s+on\s+)?(?P<title>.+?)\s*[.!]?\s*$",
    re.IGNORECASE,
)
_LIST = re.compile(
    r"\b(?:list|show|see|what\s+are|what's\s+on|get|view)\b.*\b(?:tasks?|todos?|to-dos?)\b"
    r"|^\s*(?:my\s+)?tasks\s*\??\s*$",
    re.IGNORECASE,
)
_STATUS_MAP = {
    "done": "completed", "complete": "completed", "completed": "completed",
    "finished": "completed", "in progress": "in_progress", "in-progress": "in_progress",
    "started": "in_progress", "pending": "pending", "todo": "pending", "to do": "pending",
    "cancelled": "cancelled", "canceled": "cancelled",
}  # fmt: skip
_VERB_MAP = {"complete": "completed", "finish": "completed", "close": "completed",
             "cancel": "cancelled", "start": "in_progress", "begin": "in_progress"}  # fmt: skip

HELP = (
    "I handle tasks and their schedule. Try:\n"
    '- "create a task to mix track 3, high priority, due friday, tagged album"\n'
    '- "what\'s due this week"\n'
    '- "mark mix track 3 done"\n'
    '- "list my tasks"'
)


def parse_when(text: str, today: date) -> date | None:
    """A day from chat words: today, tomorrow, in N days/weeks, a weekday, an ISO date."""
    words = " ".join(text.lower().split())
    if words in ("today", "tonight"):
        return today
    if words == "tomorrow":
        return today + timedelta(days=1)
    if words == "next week":
        return today + timedelta(days=7)
    if words.startswith("end of"):
        return today + timedelta(days=6 - today.weekday())
    match = re.fullmatch(r"in (\w+) (day|week)s?", words)
    if match:
        count = int(match[1]) if match[1].isdigit() else _NUMBERS.get(match[1], 1)
        return today + timedelta(days=count * (7 if match[2] == "week" else 1))
    match = re.fullmatch(rf"(?:(next|this) )?({_WEEKDAY_RE})", words)
    if match:
        ahead = (_WEEKDAYS[match[2]] - today.weekday()) % 7
        if match[1] == "next" and ahead == 0:
            ahead = 7
        return today + timedelta(days=ahead)
    try:
        return date.fromisoformat(words)
    except ValueError:
        return None


@dataclass
class CreateRequest:
    title: str
    priority: str | None = None
    due: date | None = None
    tags: list[str] = field(default_factory=list)
    assignee: str | None = None


def parse_create(rest: str, today: date, adjective: str | None = None) -> CreateRequest:
    """Pull priority, due day, tags and assignee out of the words; the rest is the title."""
    text = rest
    req = CreateRequest(title="")
    if adjective:
        req.priority = _PRIORITY_WORDS.get(adjective.lower().split()[0].split("-")[0])
    if m := _PRIORITY.search(text):
        req.priority = _PRIORITY_WORDS[(m["p1"] or m["p2"]).lower()]
        text = text[: m.start()] + text[m.end() :]
    if m := _DUE.search(text):
        req.due = parse_when(m["when"], today)
        text = text[: m.start()] + text[m.end() :]
    if m := _TAGGED.search(text):
        req.tags = [t for t in re.split(r"\s+and\s+|\s+|/", m["tags"].lower()) if t]
        text = text[: m.start()] + text[m.end() :]
    if m := _ASSIGNED.search(text):
        req.assignee = m["who"]
        text = text[: m.start()] + text[m.end() :]
    # A comma-separated segment that is only a priority word ("..., urgent").
    segments = [s.strip() for s in re.split(r"\s*,\s*", text)]
    kept = []
    for segment in segments:
        word = segment.lower().rstrip(".!")
        if word in _PRIORITY_WORDS and req.priority is None:
            req.priority = _PRIORITY_WORDS[word]
        elif segment and word not in ("and", "with"):
            kept.append(segment)
    title = ", ".join(kept).strip(" ,.;:-")
    title = re.sub(r"\s+(?:and|with)$", "", title, flags=re.IGNORECASE)
    title = re.sub(r"^(?:to|that i)\s+", "", title, flags=re.IGNORECASE)
    req.title = title[:1].upper() + title[1:]
    return req


def _describe(task: dict[str, Any]) -> str:
    parts = [f"{task['priority']} priority"]
    if task.get("due_date"):
        due = datetime.fromisoformat(task["due_date"]).astimezone(UTC)
        parts.append(f"due {due:%a %d %b %Y}")
    if task.get("tags"):
        parts.append("tagged " + ", ".join(task["tags"]))
    return f"“{task['title']}” ({', '.join(parts)}, {task['status'].replace('_', ' ')})"


def _bullets(tasks: list[dict[str, Any]]) -> str:
    return "\n".join(f"- {_describe(t)}" for t in tasks)


async def answer(message: str, *, conn: Conn, now: datetime | None = None) -> ChatResponse:
    """Understand one message and act on it; the caller commits the transaction."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    today = now.date()

    if m := _CREATE.match(message):
        req = parse_create(m["rest"], today, m["adj"])
        if not req.title:
            return ChatResponse(reply="What should the task be called? " + HELP)
        try:
            task_in = TaskCreate(
                title=req.title,
                priority=req.priority or "medium",  # type: ignore[arg-type]
                due_date=end_of_day(req.due) if req.due else None,
                tags=req.tags,
                assignee=req.assignee,
            )
        except ValidationError as exc:
            problem = exc.errors()[0]
            return ChatResponse(
                reply=f"I couldn't create that task: {problem['loc'][0]}: {problem['msg']}.",
                data={"error": "validation_error"},
            )
        task = task_json(await store.create_task(conn=conn, task_in=task_in))
        return ChatResponse(reply=f"Created {_describe(task)}.", data={"task": task})

    if m := _MARK.match(message):
        status = _STATUS_MAP[" ".join(m["status"].lower().split())]
        return await _set_status(conn, m["title"], status)
    if (m := _VERB_STATUS.match(message)) and not _LIST.search(message):
        return await _set_status(conn, m["title"], _VERB_MAP[m["verb"].lower()])

    if m := _DUE_QUERY.search(message):
        return await _due(conn, (m["when"] or m["overdue"] or "").lower(), now)

    if _LIST.search(message):
        show_all = bool(re.search(r"\ball\b", message, re.IGNORECASE))
        statuses: tuple[str, ...] = () if show_all else ("pending", "in_progress")
        rows, _ = await store.list_tasks(conn=conn, status=statuses, sort="due_date", limit=20)
        tasks = [task_json(r) for r in rows]
        if not tasks:
            return ChatResponse(reply="You have no open tasks.", data={"tasks": []})
        which = "tasks" if show_all else "open tasks"
        return ChatResponse(
            reply=f"Your {which} ({len(tasks)}):\n{_bullets(tasks)}", data={"tasks": tasks}
        )

    return ChatResponse(reply="I didn't catch that. " + HELP, data={"understood": False})


async def _set_status(conn: Conn, title: str, status: str) -> ChatResponse:
    wanted = re.sub(r"^(?:the\s+)?(?:task\s+)?", "", title.strip(), flags=re.IGNORECASE)
    wanted = re.sub(r"\s+task$", "", wanted, flags=re.IGNORECASE).strip("“”\"' ")
    matches = await store.find_tasks_by_title(conn=conn, text=wanted)
    if not matches:
        return ChatResponse(
            reply=f'I couldn\'t find a task called “{wanted}”. Say "list my tasks" to see them.',
            data={"task": None},
        )
    row = await store.update_task(conn=conn, task_id=matches[0]["id"], changes={"status": status})
    task = task_json(row)
    reply = f"Marked “{task['title']}” {status.replace('_', ' ')}."
    if len(matches) > 1 and matches[1]["title"].lower() != wanted.lower():
        others = ", ".join(f"“{m['title']}”" for m in matches[1:])
        reply += f" (Other matches: {others}.)"
    return ChatResponse(reply=reply, data={"task": task})


async def _due(conn: Conn, when: str, now: datetime) -> ChatResponse:
    today = now.date()
    words = " ".join(when.split())
    if words in ("overdue", "late"):
        start, end, label = None, now, "overdue"
    elif words == "this week":
        monday = today - timedelta(days=today.weekday())
        start = datetime.combine(monday, datetime.min.time(), UTC)
        end, label = start + timedelta(days=7), "due this week"
    elif words == "next week":
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        start = datetime.combine(monday, datetime.min.time(), UTC)
        end, label = start + timedelta(days=7), "due next week"
    else:
        day = parse_when(words, today) or today
        start = datetime.combine(day, datetime.min.time(), UTC)
        end, label = start + timedelta(days=1), f"due {day:%a %d %b}"
    rows, _ = await store.list_tasks(
        conn=conn,
        status=("pending", "in_progress"),
        due_after=start,
        due_before=end,
        sort="due_date",
        limit=50,
    )
    tasks = [task_json(r) for r in rows]
    if not tasks:
        return ChatResponse(reply=f"Nothing {label}.", data={"tasks": []})
    return ChatResponse(
        reply=f"{len(tasks)} task(s) {label}:\n{_bullets(tasks)}", data={"tasks": tasks}
    )
