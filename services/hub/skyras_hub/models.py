"""The hub's API schemas: registry bodies and records, status, events, chat.

Registrations are validated here (names, endpoints, route templates,
methods), so a bad body is a 422 in the shared JSON error shape before any
code sees it. The PUT body is exactly `skyras.manifests.AgentManifest.registration_body()`.
"""

import re
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from skyras_contract.routes import public_route_problem
from skyras_hub import templates

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
AGENT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# Names that would collide with the hub's own paths under /api/v2/agents/ and /api/v2/.
RESERVED_NAMES = frozenset({"status", "registry", "events", "chat", "health", "hub"})
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_*]*)+$")


def agent_name_problem(name: str) -> str | None:
    """Why `name` cannot name an agent, or None when it can."""
    if not AGENT_NAME.match(name):
        return "an agent name must be a DNS label: lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit"
    if name in RESERVED_NAMES:
        return f"{name!r} is reserved for the hub's own paths"
    return None


class RouteSpec(BaseModel):
    """One route an agent declares: the hub path under /api/v2/agents/<name>, and where it goes."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        description="Path template under the agent's prefix", examples=["/tasks/{id}"]
    )
    methods: list[str] = Field(min_length=1, examples=[["GET", "PUT"]])
    target: str = Field(description="Path template on the agent", examples=["/api/tasks/{id}"])
    public: bool = Field(
        default=False,
        description="Served without an API key in every auth mode (GET/HEAD only), "
        "still rate-limited per client address: feeds, enclosures, calendars",
    )

    @field_validator("methods", mode="before")
    @classmethod
    def _known_methods(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        methods: list[str] = []
        for method in value:
            if not isinstance(method, str) or method.upper() not in HTTP_METHODS:
                raise ValueError(f"unknown HTTP method {method!r}; use {', '.join(HTTP_METHODS)}")
            if method.upper() not in methods:
                methods.append(method.upper())
        return methods

    @field_validator("path", "target")
    @classmethod
    def _template(cls, value: str) -> str:
        try:
            templates.parse_template(value)
        except templates.TemplateError as exc:
            raise ValueError(f"{value!r} {exc}") from None
        return value

    @model_validator(mode="after")
    def _target_params_known(self) -> "RouteSpec":
        path_params = templates.params_of(templates.parse_template(self.path))
        target_params = templates.params_of(templates.parse_template(self.target))
        missing = sorted(target_params - path_params)
        if missing:
            raise ValueError(
                f"target {self.target!r} uses {', '.join('{' + m + '}' for m in missing)} "
                f"which path {self.path!r} does not declare"
            )
        return self

    @model_validator(mode="after")
    def _public_reads_only(self) -> "RouteSpec":
        problem = public_route_problem(self.path, self.methods) if self.public else None
        if problem:
            raise ValueError(problem)
        return self


class ChatSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keywords: list[str] = Field(default_factory=list, max_length=200)
    description: str = Field(default="", max_length=500)

    @field_validator("keywords")
    @classmethod
    def _lowercase_words(cls, value: list[str]) -> list[str]:
        words: list[str] = []
        for word in value:
            word = word.strip().lower()
            if not word or len(word) > 50:
                raise ValueError("keywords must be non-empty words of at most 50 characters")
            if word not in words:
                words.append(word)
        return words


class AgentRegistration(BaseModel):
    """What the local runner and the operator PUT for an agent."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "endpoint": "http://127.0.0.1:8001",
                    "routes": [
                        {"path": "/task", "methods": ["POST"], "target": "/api/tasks"},
                        {
                            "path": "/tasks/{id}",
                            "methods": ["GET", "PUT"],
                            "target": "/api/tasks/{id}",
                        },
                    ],
                    "publishes": ["task.created"],
                    "subscribes": ["file.uploaded"],
                    "chat": {"keywords": ["task", "todo"], "description": "Tasks and scheduling"},
                    "version": "0.1.0",
                    "description": "Tasks and scheduling",
                }
            ]
        },
    )

    endpoint: str = Field(max_length=500, description="Base URL the agent is served at")
    routes: list[RouteSpec] = Field(default_factory=list, max_length=200)
    publishes: list[str] = Field(default_factory=list, max_length=100)
    subscribes: list[str] = Field(default_factory=list, max_length=100)
    chat: ChatSpec = Field(default_factory=ChatSpec)
    version: str = Field(default="", max_length=100)
    description: str = Field(default="", max_length=500)

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("endpoint must be an http:// or https:// URL with a host")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("endpoint must not carry credentials, a query or a fragment")
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise ValueError("endpoint has an invalid port") from None
        return value.strip().rstrip("/")

    @field_validator("publishes", "subscribes")
    @classmethod
    def _event_types(cls, value: list[str]) -> list[str]:
        for event_type in value:
            if not _EVENT_TYPE.match(event_type):
                raise ValueError(f"{event_type!r} is not an event type such as task.created")
        return value

    @model_validator(mode="after")
    def _no_duplicate_routes(self) -> "AgentRegistration":
        seen: dict[tuple[str, str], str] = {}
        for route in self.routes:
            shape = templates.shape_of(templates.parse_template(route.path))
            for method in route.methods:
                if (shape, method) in seen:
                    raise ValueError(
                        f"route {method} {route.path} is declared twice "
                        f"(also as {method} {seen[(shape, method)]})"
                    )
                seen[(shape, method)] = route.path
        return self


class AgentPublic(AgentRegistration):
    """A registered agent as stored."""

    model_config = ConfigDict(extra="ignore")

    name: str
    registered_at: datetime
    updated_at: datetime


class AgentsPublic(BaseModel):
    items: list[AgentPublic]
    count: int


class RouteSummary(BaseModel):
    path: str
    methods: list[str]
    public: bool = False


class AgentHealth(BaseModel):
    name: str
    status: Literal["healthy", "unhealthy", "down"]
    endpoint: str
    version: str
    latency_ms: float | None
    routes: list[RouteSummary]
    description: str
    error: str | None = None


class StatusPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "agents": [
                        {
                            "name": "marcus",
                            "status": "healthy",
                            "endpoint": "http://127.0.0.1:8001",
                            "version": "0.1.0",
                            "latency_ms": 2.1,
                            "routes": [{"path": "/task", "methods": ["POST"]}],
                            "description": "Tasks and scheduling",
                        }
                    ],
                }
            ]
        }
    )

    status: Literal["ok", "degraded", "down"]
    agents: list[AgentHealth]


class EventPublic(BaseModel):
    id: str
    type: str
    source: str
    subject: str | None
    time: datetime
    data: dict[str, Any]
    correlationid: str | None
    channel: str
    published_at: datetime | None


class EventsPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": "0190a5c2-7d0e-7c3a-9b1e-3f2a1c4d5e6f",
                            "type": "task.created",
                            "source": "/agents/marcus",
                            "subject": "tasks/4f1c0e2a-1b2c-4d5e-8f90-123456789abc",
                            "time": "2025-06-01T12:00:00Z",
                            "data": {"title": "Mix track 3"},
                            "correlationid": "3e5b0f",
                            "channel": "tasks",
                            "published_at": "2025-06-01T12:00:00.004Z",
                        }
                    ],
                    "next_cursor": "WyIyMDI1LTA2LTAxVDEyOjAwOjAwKzAwOjAwIiwgNDJd",
                }
            ]
        }
    )

    items: list[EventPublic]
    next_cursor: str | None


class ChatRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"message": "@letitia find vocals files tagged final"},
                {"message": "create a task to mix track 3, high priority"},
                {"message": "what is due friday?", "agent": "marcus"},
            ]
        },
    )

    message: str = Field(min_length=1, max_length=4000)
    agent: str | None = Field(
        default=None, description="Send to this agent, whatever the message says"
    )


class ChatReply(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "agent": "marcus",
                    "reply": "Created task 'mix track 3' (high).",
                    "data": {"task": {"id": "..."}},
                },
                {
                    "agent": None,
                    "reply": "I'm not sure who should handle that. ...",
                    "data": {"agents": []},
                },
            ]
        }
    )

    agent: str | None
    reply: str
    data: Any = None
