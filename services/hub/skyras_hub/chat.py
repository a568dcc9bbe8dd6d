"""Chat routing: which agent a message is for, and the call to its `/api/chat`.

Pure choice (`choose_agent`) apart from the call (`ask_agent`), so that the
rules are easy to read and test: an `agent` field wins, then an `@name`
prefix, then the agent whose chat keywords match the most words of the
message (ties go to the first by name). No keyword at all: no agent.
"""

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

from skyras.errors import ApiError
from skyras_hub.proxy import FORWARD_ERRORS, Proxy, transport_error
from skyras_hub.registry import RegisteredAgent

_MENTION = re.compile(r"^\s*@([A-Za-z0-9-]{1,63})\b[\s,:;]*")
_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")


@dataclass(frozen=True)
class Choice:
    agent: RegisteredAgent | None
    message: str  # without the @mention
    how: str  # field | mention | keywords | none


def keyword_score(agent: RegisteredAgent, words: list[str]) -> int:
    keywords = set(agent.record.chat.keywords)
    return sum(1 for w in words if w in keywords)


def choose_agent(agents: list[RegisteredAgent], message: str, addressed: str | None) -> Choice:
    """Raises a 404 ApiError when the message addresses an agent that is not registered."""
    by_name = {a.name: a for a in agents}
    mention = _MENTION.match(message)
    text = message[mention.end() :] if mention else message
    name = addressed or (mention.group(1).lower() if mention else None)
    if name is not None:
        if name not in by_name:
            raise ApiError(
                404,
                f"No agent named {name!r} is registered; agents: {', '.join(sorted(by_name)) or 'none'}",
                code="agent_not_found",
                details={"agent": name, "agents": sorted(by_name)},
            )
        return Choice(by_name[name], text.strip() or text, "field" if addressed else "mention")
    words = _WORD.findall(text.lower())
    best: RegisteredAgent | None = None
    best_score = 0
    for agent in sorted(agents, key=lambda a: a.name):
        score = keyword_score(agent, words)
        if score > best_score:
            best, best_score = agent, score
    return Choice(best, text.strip(), "keywords" if best else "none")


def help_reply(agents: list[RegisteredAgent]) -> dict[str, Any]:
    if not agents:
        return {
            "agent": None,
            "reply": "No agents are registered yet, so there is no one to ask.",
            "data": {"agents": []},
        }
    lines = [
        f"- @{a.name}: {a.record.chat.description or a.record.description or 'no description'}"
        for a in agents
    ]
    return {
        "agent": None,
        "reply": "I'm not sure who should handle that. Start your message with @name to ask "
        "one of them:\n" + "\n".join(lines),
        "data": {
            "agents": [
                {
                    "name": a.name,
                    "description": a.record.chat.description or a.record.description,
                    "keywords": a.record.chat.keywords,
                }
                for a in agents
            ]
        },
    }


async def ask_agent(
    proxy: Proxy, agent: RegisteredAgent, message: str, request_id: str, timeout: float
) -> dict[str, Any]:
    """POST the message to the agent's /api/chat; errors become 502/503/504 ApiErrors."""
    breaker = proxy.check_breaker(agent.name)
    try:
        async with (
            asyncio.timeout(timeout),
            proxy.session.post(
                f"{agent.endpoint}/api/chat",
                data=json.dumps({"message": message}),
                headers={"x-request-id": request_id, "content-type": "application/json"},
            ) as reply,
        ):
            status_code, raw = reply.status, await reply.read()
    except FORWARD_ERRORS as exc:
        breaker.failure()
        error = transport_error(agent.name, exc)
        if error.status_code == 503:
            error.message = f"Agent {agent.name} is not answering right now (it may be down)"
        raise error from None
    except BaseException:
        breaker.release()
        raise
    breaker.success()
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if status_code >= 400 or not isinstance(body, dict) or "reply" not in body:
        message_text = (
            body.get("error", {}).get("message")
            if isinstance(body, dict) and isinstance(body.get("error"), dict)
            else None
        )
        raise ApiError(
            502,
            f"Agent {agent.name} could not answer the chat message"
            + (f": {message_text}" if message_text else f" (status {status_code})"),
            code="bad_gateway",
            details={"agent": agent.name, "status": status_code},
        )
    return {"agent": agent.name, "reply": str(body["reply"]), "data": body.get("data")}
