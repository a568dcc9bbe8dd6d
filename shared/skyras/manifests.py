"""Agent manifests: `manifests/agents/<name>.yaml`, one `Agent` resource per agent.

The same file is applied to Kubernetes as a custom resource and read here by
the local runner, which starts `spec.command` on `spec.port` and registers the
agent's routes, events and chat keywords with the hub (`registration_body`).
"""

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from skyras_contract.images import image_version
from skyras_contract.routes import public_route_problem

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class ManifestError(ValueError):
    """A manifest file is missing, unreadable or not a valid Agent."""


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(pattern=r"^/")
    methods: list[HttpMethod] = Field(min_length=1)
    target: str = Field(pattern=r"^/")
    # Served by the hub without an API key (GET/HEAD only): feeds, enclosures, calendars.
    public: bool = False

    @model_validator(mode="after")
    def _public_reads_only(self) -> "Route":
        problem = public_route_problem(self.path, self.methods) if self.public else None
        if problem:
            raise ValueError(problem)
        return self


class Events(BaseModel):
    publishes: list[str] = Field(default_factory=list)
    subscribes: list[str] = Field(default_factory=list)


class Chat(BaseModel):
    keywords: list[str] = Field(default_factory=list)
    description: str = ""


class AgentSpec(BaseModel):
    model_config = ConfigDict(extra="allow")

    description: str = ""
    image: str
    command: list[str] = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    routes: list[Route] = Field(default_factory=list)
    events: Events = Field(default_factory=Events)
    chat: Chat = Field(default_factory=Chat)


class Metadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class AgentManifest(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    api_version: Literal["skyras.io/v1alpha1"] = Field(alias="apiVersion")
    kind: Literal["Agent"]
    metadata: Metadata
    spec: AgentSpec

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def version(self) -> str:
        """The image tag, which is the agent's version (as the operator reads it)."""
        return image_version(self.spec.image)

    def registration_body(self, endpoint: str) -> dict[str, Any]:
        """The hub registry's PUT body for this agent served at `endpoint`."""
        return {
            "endpoint": endpoint,
            "routes": [route.model_dump() for route in self.spec.routes],
            "publishes": self.spec.events.publishes,
            "subscribes": self.spec.events.subscribes,
            "chat": self.spec.chat.model_dump(),
            "version": self.version,
            "description": self.spec.description,
        }


def load_manifest(path: Path) -> AgentManifest:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read it ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: not valid YAML ({exc})") from exc
    try:
        return AgentManifest.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ManifestError(f"{path}: {where}: {first['msg']}") from exc


def load_manifests(directory: Path) -> list[AgentManifest]:
    if not directory.is_dir():
        raise ManifestError(f"{directory}: no such directory of agent manifests")
    manifests = [load_manifest(p) for p in sorted(directory.glob("*.y*ml"))]
    names = [m.name for m in manifests]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ManifestError(f"{directory}: agents defined twice: {', '.join(sorted(duplicated))}")
    return manifests
