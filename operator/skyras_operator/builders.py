"""Pure functions: an Agent in, Kubernetes objects, hub registrations and
status out. No I/O; most of the operator's tests live against this module.

Filled by handlers/agent.py with the Agent's body (and what it observed);
the objects it returns are applied by kube.py, registrations sent by hub.py.
"""

from __future__ import annotations

import copy
import dataclasses
import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import Any

import kopf
from kubernetes.utils import quantity

from skyras_contract.images import image_version
from skyras_contract.routes import PUBLIC_METHODS
from skyras_operator import constants, scaling

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_PATH = re.compile(r"^/[^\s?#]*$")
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.([a-z][a-z0-9_]*|\*))+$")
_ENV_NAME = re.compile(constants.ENV_NAME_PATTERN)
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
# Volume names: DNS labels that may start with a digit (RFC 1123), as Kubernetes has them.
_VOLUME_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_INT_OR_PERCENT = re.compile(r"^[0-9]+%$")
# The operator's own writable place on the read-only root: name and path are taken.
TMP_VOLUME = "tmp"
TMP_PATH = "/tmp"
STRATEGIES = ("RollingUpdate", "Recreate")


class InvalidAgentSpec(ValueError):
    """The Agent's spec cannot be deployed (the message says which field and why)."""


@dataclasses.dataclass(frozen=True)
class Route:
    path: str
    methods: tuple[str, ...]
    target: str
    public: bool = False

    def to_registry(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "methods": list(self.methods),
            "target": self.target,
            "public": self.public,
        }


@dataclasses.dataclass(frozen=True)
class AgentSpec:
    """spec of an Agent, checked and with the CRD's defaults applied."""

    image: str
    port: int
    description: str = ""
    image_pull_policy: str = "IfNotPresent"
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    replicas: int = 1
    autoscaling: scaling.AutoscalingPolicy = dataclasses.field(
        default_factory=scaling.AutoscalingPolicy
    )
    routes: tuple[Route, ...] = ()
    publishes: tuple[str, ...] = ()
    subscribes: tuple[str, ...] = ()
    chat_keywords: tuple[str, ...] = ()
    chat_description: str = ""
    env: tuple[Mapping[str, Any], ...] = ()
    resources: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    service_account_name: str | None = None
    env_from: tuple[Mapping[str, Any], ...] = ()
    volumes: tuple[Mapping[str, Any], ...] = ()
    volume_mounts: tuple[Mapping[str, Any], ...] = ()
    # The Deployment's strategy; None: RollingUpdate with Kubernetes' defaults.
    strategy: Mapping[str, Any] | None = None

    @property
    def version(self) -> str:
        return image_version(self.image)


def parse_spec(spec: Mapping[str, Any] | None) -> AgentSpec:
    """Checks an Agent's spec (what the CRD checks, for bodies that bypassed it,
    plus what it cannot say) and returns it typed. Raises InvalidAgentSpec."""
    if not isinstance(spec, Mapping):
        raise InvalidAgentSpec("spec is missing")
    image = spec.get("image")
    if not isinstance(image, str) or not image.strip() or any(c.isspace() for c in image):
        raise InvalidAgentSpec("spec.image is required (a container image reference)")
    port = spec.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidAgentSpec(f"spec.port must be an integer in 1..65535, got {port!r}")
    try:
        replicas = scaling.manual_replicas(spec)
        policy = scaling.AutoscalingPolicy.from_spec(spec.get("autoscaling"))
    except ValueError as exc:
        raise InvalidAgentSpec(f"spec.{exc}") from exc
    pull = spec.get("imagePullPolicy", "IfNotPresent")
    if pull not in ("Always", "IfNotPresent", "Never"):
        raise InvalidAgentSpec(
            f"spec.imagePullPolicy must be Always, IfNotPresent or Never, got {pull!r}"
        )
    events = _mapping(spec, "events")
    chat = _mapping(spec, "chat")
    description = spec.get("description") or ""
    chat_description = chat.get("description") or description
    if not isinstance(description, str) or not isinstance(chat_description, str):
        raise InvalidAgentSpec("spec.description and spec.chat.description must be strings")
    account = spec.get("serviceAccountName")
    if account is not None and not isinstance(account, str):
        raise InvalidAgentSpec("spec.serviceAccountName must be a string")
    resources = spec.get("resources") or {}
    if not isinstance(resources, Mapping):
        raise InvalidAgentSpec("spec.resources must be an object (ResourceRequirements)")
    volumes = _volumes(spec.get("volumes"))
    return AgentSpec(
        image=image,
        port=port,
        description=description,
        image_pull_policy=pull,
        command=_strings(spec, "command"),
        args=_strings(spec, "args"),
        replicas=replicas,
        autoscaling=policy,
        routes=_routes(spec.get("routes")),
        publishes=_event_types(events, "publishes"),
        subscribes=_event_types(events, "subscribes"),
        chat_keywords=_strings(chat, "keywords", where="spec.chat."),
        chat_description=chat_description,
        env=_env(spec.get("env")),
        resources=copy.deepcopy(dict(resources)),
        service_account_name=account or None,
        env_from=_env_from(spec.get("envFrom")),
        volumes=volumes,
        volume_mounts=_volume_mounts(spec.get("volumeMounts"), {v["name"] for v in volumes}),
        strategy=_strategy(spec.get("strategy")),
    )


def _mapping(spec: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = spec.get(key) or {}
    if not isinstance(value, Mapping):
        raise InvalidAgentSpec(f"spec.{key} must be an object")
    return value


def _strings(raw: Mapping[str, Any], key: str, *, where: str = "spec.") -> tuple[str, ...]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidAgentSpec(f"{where}{key} must be a list of strings")
    return tuple(value)


def _routes(raw: object) -> tuple[Route, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidAgentSpec("spec.routes must be a list")
    routes: list[Route] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"spec.routes[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidAgentSpec(f"{where} must be an object with path, methods and target")
        path, target, methods = item.get("path"), item.get("target"), item.get("methods")
        if not isinstance(path, str) or not _PATH.match(path):
            raise InvalidAgentSpec(f"{where}.path must start with / (got {path!r})")
        if not isinstance(target, str) or not _PATH.match(target):
            raise InvalidAgentSpec(f"{where}.target must start with / (got {target!r})")
        if not isinstance(methods, list) or not methods:
            raise InvalidAgentSpec(f"{where}.methods must be a non-empty list")
        bad = [m for m in methods if m not in HTTP_METHODS]
        if bad:
            raise InvalidAgentSpec(f"{where}.methods: {bad} not in {sorted(HTTP_METHODS)}")
        public = item.get("public", False)
        if not isinstance(public, bool):
            raise InvalidAgentSpec(f"{where}.public must be true or false (got {public!r})")
        writes = sorted(set(methods) - PUBLIC_METHODS)
        if public and writes:
            raise InvalidAgentSpec(
                f"{where} is public (no API key), so its methods must be GET/HEAD only, "
                f"not {', '.join(writes)}"
            )
        if path in seen:
            raise InvalidAgentSpec(f"{where}.path {path} appears twice (one route per path)")
        seen.add(path)
        routes.append(
            Route(path=path, methods=tuple(dict.fromkeys(methods)), target=target, public=public)
        )
    return tuple(routes)


def _event_types(events: Mapping[str, Any], key: str) -> tuple[str, ...]:
    types = _strings(events, key, where="spec.events.")
    bad = [t for t in types if not _EVENT_TYPE.match(t)]
    if bad:
        raise InvalidAgentSpec(f"spec.events.{key}: {bad} are not event types like task.created")
    return tuple(dict.fromkeys(types))


def _env(raw: object) -> tuple[Mapping[str, Any], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidAgentSpec("spec.env must be a list of {name, value} or {name, valueFrom}")
    entries = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping) or not _ENV_NAME.match(str(item.get("name", ""))):
            raise InvalidAgentSpec(f"spec.env[{index}] needs a valid name")
        if "value" in item and "valueFrom" in item:
            raise InvalidAgentSpec(f"spec.env[{index}] takes value or valueFrom, not both")
        if "value" in item and not isinstance(item["value"], str):
            raise InvalidAgentSpec(f"spec.env[{index}].value must be a string")
        entries.append(copy.deepcopy(dict(item)))
    return tuple(entries)


def _objects(raw: object, key: str, shape: str) -> list[Mapping[str, Any]]:
    """spec.<key> as a list of objects (None: empty)."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, Mapping) for item in raw):
        raise InvalidAgentSpec(f"spec.{key} must be a list of {shape}")
    return raw


def _env_from(raw: object) -> tuple[Mapping[str, Any], ...]:
    entries = _objects(raw, "envFrom", "{secretRef} or {configMapRef} objects")
    for index, item in enumerate(entries):
        where = f"spec.envFrom[{index}]"
        refs = [key for key in ("configMapRef", "secretRef") if key in item]
        if len(refs) != 1:
            raise InvalidAgentSpec(f"{where} takes exactly one of configMapRef or secretRef")
        ref = item[refs[0]]
        if not isinstance(ref, Mapping) or not isinstance(ref.get("name"), str) or not ref["name"]:
            raise InvalidAgentSpec(f"{where}.{refs[0]}.name must name the {refs[0][:-3]}")
        prefix = item.get("prefix", "")
        if not isinstance(prefix, str) or (prefix and not _ENV_NAME.match(prefix)):
            raise InvalidAgentSpec(f"{where}.prefix must be a valid variable name prefix")
        unknown = set(item) - {"prefix", "configMapRef", "secretRef"}
        if unknown:
            raise InvalidAgentSpec(f"{where}: unknown fields {sorted(unknown)}")
    return tuple(copy.deepcopy(dict(item)) for item in entries)


def _volumes(raw: object) -> tuple[Mapping[str, Any], ...]:
    entries = _objects(raw, "volumes", "Volume objects (name plus one source)")
    seen: set[str] = set()
    for index, item in enumerate(entries):
        where = f"spec.volumes[{index}]"
        name = item.get("name")
        if not isinstance(name, str) or not _VOLUME_NAME.match(name) or len(name) > 63:
            raise InvalidAgentSpec(f"{where}.name must be a DNS label (got {name!r})")
        if name == TMP_VOLUME:
            raise InvalidAgentSpec(f"{where}: the name tmp is reserved (the operator's /tmp)")
        if name in seen:
            raise InvalidAgentSpec(f"{where}: the name {name} appears twice")
        seen.add(name)
        sources = [key for key in item if key != "name"]
        if len(sources) != 1 or not isinstance(item[sources[0]], Mapping):
            raise InvalidAgentSpec(
                f"{where} ({name}) needs exactly one source object (persistentVolumeClaim, "
                f"secret, configMap, emptyDir, ...), got {sources or 'none'}"
            )
    return tuple(copy.deepcopy(dict(item)) for item in entries)


def _volume_mounts(raw: object, declared: set[str]) -> tuple[Mapping[str, Any], ...]:
    entries = _objects(raw, "volumeMounts", "{name, mountPath} objects")
    paths: set[str] = set()
    for index, item in enumerate(entries):
        where = f"spec.volumeMounts[{index}]"
        name, path = item.get("name"), item.get("mountPath")
        if name not in declared:
            raise InvalidAgentSpec(
                f"{where}.name {name!r} names no entry of spec.volumes ({sorted(declared)})"
            )
        if not isinstance(path, str) or not path.startswith("/") or len(path) < 2:
            raise InvalidAgentSpec(f"{where}.mountPath must be an absolute path (got {path!r})")
        clean = posixpath.normpath(path)
        if clean == TMP_PATH:
            raise InvalidAgentSpec(f"{where}.mountPath: /tmp is the operator's own emptyDir")
        if clean in paths:
            raise InvalidAgentSpec(f"{where}.mountPath {path} is mounted twice")
        paths.add(clean)
        if not isinstance(item.get("readOnly", False), bool):
            raise InvalidAgentSpec(f"{where}.readOnly must be true or false")
        sub = item.get("subPath", "")
        if not isinstance(sub, str) or sub.startswith("/") or ".." in sub.split("/"):
            raise InvalidAgentSpec(f"{where}.subPath must be a relative path inside the volume")
        unknown = set(item) - {"name", "mountPath", "readOnly", "subPath"}
        if unknown:
            raise InvalidAgentSpec(f"{where}: unknown fields {sorted(unknown)}")
    return tuple(copy.deepcopy(dict(item)) for item in entries)


def _strategy(raw: object) -> Mapping[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidAgentSpec("spec.strategy must be an object ({type: RollingUpdate|Recreate})")
    kind = raw.get("type", "RollingUpdate")
    if kind not in STRATEGIES:
        raise InvalidAgentSpec(
            f"spec.strategy.type must be RollingUpdate or Recreate, got {kind!r}"
        )
    rolling = raw.get("rollingUpdate")
    if rolling is not None:
        if kind != "RollingUpdate":
            raise InvalidAgentSpec("spec.strategy.rollingUpdate applies to type RollingUpdate only")
        if not isinstance(rolling, Mapping):
            raise InvalidAgentSpec("spec.strategy.rollingUpdate must be an object")
        for key, value in rolling.items():
            ok = (isinstance(value, int) and not isinstance(value, bool) and value >= 0) or (
                isinstance(value, str) and _INT_OR_PERCENT.match(value)
            )
            if key not in ("maxSurge", "maxUnavailable") or not ok:
                raise InvalidAgentSpec(
                    f"spec.strategy.rollingUpdate.{key}: maxSurge and maxUnavailable take a count "
                    f"or a percentage like 25%, got {value!r}"
                )
    unknown = set(raw) - {"type", "rollingUpdate"}
    if unknown:
        raise InvalidAgentSpec(f"spec.strategy: unknown fields {sorted(unknown)}")
    return {"type": kind, **({"rollingUpdate": dict(rolling)} if rolling is not None else {})}


def check_name(name: str) -> None:
    if not _DNS_LABEL.match(name) or len(name) > 63:
        raise InvalidAgentSpec(f"metadata.name {name!r} must be a DNS label (it names the Service)")


# Labels.


def selector_labels(name: str) -> dict[str, str]:
    """The pods' selector: immutable on a Deployment, so nothing that changes."""
    return {
        constants.LABEL_NAME: name,
        constants.LABEL_INSTANCE: name,
        constants.LABEL_COMPONENT: constants.COMPONENT_AGENT,
    }


def agent_labels(name: str, agent: AgentSpec) -> dict[str, str]:
    return {
        **selector_labels(name),
        constants.LABEL_PART_OF: constants.PART_OF,
        constants.LABEL_VERSION: _label_value(agent.version),
        constants.LABEL_MANAGED_BY: constants.OPERATOR_NAME,
    }


def selector_string(name: str) -> str:
    return ",".join(f"{k}={v}" for k, v in selector_labels(name).items())


def _label_value(value: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", value)[:63].strip("-._")
    return cleaned or "unknown"


# Children.


def build_deployment(
    body: Mapping[str, Any],
    agent: AgentSpec,
    *,
    replicas: int,
    platform_env: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The agent's Deployment: one hardened container, probed on /health, adopted by the Agent.

    `platform_env` (the operator's SKYRAS_OPERATOR_AGENT_ENV for Agents in its
    own namespace: database, Redis, logging) comes first in the env.
    """
    name = body["metadata"]["name"]
    labels = agent_labels(name, agent)
    container: dict[str, Any] = {
        "name": constants.CONTAINER_NAME,
        "image": agent.image,
        "imagePullPolicy": agent.image_pull_policy,
        "ports": [{"name": constants.PORT_NAME, "containerPort": agent.port, "protocol": "TCP"}],
        "env": _container_env(name, agent, platform_env),
        # Always present (an empty list too), so that removing the last entry is drift.
        "envFrom": [copy.deepcopy(dict(e)) for e in agent.env_from],
        "resources": copy.deepcopy(dict(agent.resources))
        or copy.deepcopy(constants.DEFAULT_RESOURCES),
        "startupProbe": _probe(period=2, failures=30),
        "readinessProbe": _probe(period=5, failures=3),
        "livenessProbe": _probe(period=10, failures=3),
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        # Read-only root: the one writable place is an emptyDir (then the Agent's own).
        "volumeMounts": [
            {"name": TMP_VOLUME, "mountPath": TMP_PATH},
            *(copy.deepcopy(dict(m)) for m in agent.volume_mounts),
        ],
    }
    if agent.command:
        container["command"] = list(agent.command)
    if agent.args:
        container["args"] = list(agent.args)
    pod_spec: dict[str, Any] = {
        "containers": [container],
        "volumes": [
            {"name": TMP_VOLUME, "emptyDir": {}},
            *(copy.deepcopy(dict(v)) for v in agent.volumes),
        ],
        # Agents do not talk to the API server; no token unless an account is named.
        "automountServiceAccountToken": agent.service_account_name is not None,
        # Service links would inject e.g. REDIS_PORT=tcp://... and confuse settings.
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": constants.RUN_AS_USER,
            "runAsGroup": constants.RUN_AS_USER,
            "fsGroup": constants.RUN_AS_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    if agent.service_account_name:
        pod_spec["serviceAccountName"] = agent.service_account_name
    deployment: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "strategy": _deployment_strategy(agent),
            "selector": {"matchLabels": selector_labels(name)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": pod_spec,
            },
        },
    }
    kopf.adopt(deployment, owner=dict(body))  # type: ignore[arg-type]
    return deployment


def _deployment_strategy(agent: AgentSpec) -> dict[str, Any]:
    strategy = copy.deepcopy(dict(agent.strategy or {"type": "RollingUpdate"}))
    if strategy["type"] == "Recreate":
        # The API server keeps rollingUpdate's defaults from an earlier
        # RollingUpdate and refuses them beside Recreate: the patch removes them.
        strategy["rollingUpdate"] = None
    return strategy


def _probe(*, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": constants.HEALTH_PATH, "port": constants.PORT_NAME},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def _container_env(
    name: str, agent: AgentSpec, platform_env: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The platform's entries, the operator's, then the Agent's; an Agent's name wins.

    Order matters: Kubernetes expands $(VAR) only from entries above it.
    """
    own = {entry["name"] for entry in agent.env}
    builtin: list[dict[str, Any]] = [
        *(copy.deepcopy(dict(e)) for e in platform_env if e["name"] not in own),
        {"name": constants.ENV_AGENT_NAME, "value": name},
        {
            "name": constants.ENV_CONSUMER_NAME,
            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
        },
    ]
    return [e for e in builtin if e["name"] not in own] + [
        copy.deepcopy(dict(e)) for e in agent.env
    ]


def build_service(body: Mapping[str, Any], agent: AgentSpec) -> dict[str, Any]:
    """The agent's ClusterIP Service on spec.port (what the endpoint template names)."""
    name = body["metadata"]["name"]
    service: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": agent_labels(name, agent)},
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(name),
            "ports": [
                {
                    "name": constants.PORT_NAME,
                    "port": agent.port,
                    "targetPort": constants.PORT_NAME,
                    "protocol": "TCP",
                }
            ],
        },
    }
    kopf.adopt(service, owner=dict(body))  # type: ignore[arg-type]
    return service


def is_owned_by(child: Mapping[str, Any], owner_uid: str) -> bool:
    refs = (child.get("metadata") or {}).get("ownerReferences") or []
    return any(ref.get("uid") == owner_uid and ref.get("controller") for ref in refs)


# Drift.


def merge_patch_for(desired: Mapping[str, Any], actual: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON merge patch that brings `actual` to `desired`, holding only what differs.

    What the API server adds (defaults, status, fields others own) is not a
    difference; a list that differs is replaced whole. Empty: in sync.
    """
    return _merge_patch(desired, actual, ())


def _merge_patch(
    desired: Mapping[str, Any], actual: Mapping[str, Any], path: tuple[str, ...]
) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for key, want in desired.items():
        have = actual.get(key)
        if isinstance(want, Mapping) and isinstance(have, Mapping):
            sub = _merge_patch(want, have, (*path, key))
            if sub:
                patch[key] = sub
        elif not _covers(want, have, (*path, key)):
            patch[key] = copy.deepcopy(want)
    return patch


def _covers(want: Any, have: Any, path: tuple[str, ...]) -> bool:
    """Whether `have` holds everything `want` says (and maybe server defaults besides)."""
    if isinstance(want, Mapping):
        return isinstance(have, Mapping) and all(
            _covers(v, have.get(k), (*path, k)) for k, v in want.items()
        )
    if isinstance(want, list):
        if not want and have is None:
            return True  # the API server leaves empty lists out
        return (
            isinstance(have, list)
            and len(want) == len(have)
            and all(_covers(w, h, path) for w, h in zip(want, have, strict=True))
        )
    if "resources" in path and isinstance(want, str | int) and isinstance(have, str | int):
        # The API server writes quantities canonically ("0.5" comes back "500m").
        try:
            return bool(quantity.parse_quantity(want) == quantity.parse_quantity(have))
        except ValueError:
            return bool(want == have)
    return bool(want == have)


# The hub.


def render_endpoint(template: str, *, name: str, namespace: str, port: int) -> str:
    return template.format(name=name, namespace=namespace, port=port)


def build_registration(agent: AgentSpec, *, endpoint: str) -> dict[str, Any]:
    """The body of PUT /api/v2/registry/agents/{name}."""
    return {
        "endpoint": endpoint,
        "routes": [route.to_registry() for route in agent.routes],
        "publishes": list(agent.publishes),
        "subscribes": list(agent.subscribes),
        "chat": {"keywords": list(agent.chat_keywords), "description": agent.chat_description},
        "version": agent.version,
        "description": agent.description,
    }


def registration_matches(desired: Mapping[str, Any], stored: Mapping[str, Any] | None) -> bool:
    """Whether the hub's record says what we would register (extra fields ignored;
    methods and event lists compared as sets, routes by path)."""
    if not stored:
        return False
    if stored.get("endpoint") != desired["endpoint"] or stored.get("version") != desired["version"]:
        return False
    for key in ("publishes", "subscribes"):
        if set(stored.get(key) or []) != set(desired[key]):
            return False
    chat = stored.get("chat") or {}
    if set(chat.get("keywords") or []) != set(desired["chat"]["keywords"]):
        return False
    if (chat.get("description") or "") != desired["chat"]["description"]:
        return False

    def by_path(
        routes: Sequence[Mapping[str, Any]],
    ) -> dict[str, tuple[frozenset[str], str, bool]]:
        return {
            r.get("path", ""): (
                frozenset(m.upper() for m in r.get("methods") or []),
                r.get("target", ""),
                bool(r.get("public", False)),
            )
            for r in routes
        }

    return by_path(stored.get("routes") or []) == by_path(desired["routes"])


# Status.


@dataclasses.dataclass(frozen=True)
class ConditionUpdate:
    status: str  # "True" | "False" | "Unknown"
    reason: str
    message: str


def deployment_availability(deployment: Mapping[str, Any] | None, desired: int) -> ConditionUpdate:
    """Available: True only once the Deployment's controller reports `desired`
    updated and available replicas for the current generation."""
    if deployment is None:
        return ConditionUpdate(
            "False", constants.REASON_DEPLOYMENT_MISSING, "the Deployment does not exist"
        )
    status = deployment.get("status") or {}
    for condition in status.get("conditions") or []:
        if (
            condition.get("type") == "Progressing"
            and condition.get("reason") == constants.REASON_DEADLINE_EXCEEDED
        ):
            return ConditionUpdate(
                "False", constants.REASON_DEADLINE_EXCEEDED, condition.get("message", "")
            )
    generation = (deployment.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    available = status.get("availableReplicas") or 0
    updated = status.get("updatedReplicas") or 0
    if generation is not None and (observed is None or observed < generation):
        return ConditionUpdate(
            "False",
            constants.REASON_PROGRESSING,
            f"the Deployment's generation {generation} is not observed yet ({available}/{desired} available)",
        )
    if available >= desired and updated >= desired:
        return ConditionUpdate(
            "True", constants.REASON_AVAILABLE, f"{available}/{desired} replicas available"
        )
    return ConditionUpdate(
        "False",
        constants.REASON_PROGRESSING,
        f"{available}/{desired} replicas available, {updated} updated",
    )


def compute_phase(
    *, available: ConditionUpdate, registered: ConditionUpdate, deployment_exists: bool
) -> str:
    if available.reason in (
        constants.REASON_INVALID_SPEC,
        constants.REASON_CHILD_NOT_OWNED,
        constants.REASON_DEADLINE_EXCEEDED,
    ):
        return constants.PHASE_DEGRADED
    if not deployment_exists:
        return constants.PHASE_PENDING
    if available.status == "True":
        return constants.PHASE_READY if registered.status == "True" else constants.PHASE_DEGRADED
    return constants.PHASE_PROGRESSING


def set_condition(
    conditions: Sequence[Mapping[str, Any]],
    type_: str,
    update: ConditionUpdate,
    *,
    now: str,
    generation: int | None = None,
) -> list[dict[str, Any]]:
    """conditions with `type_` set; lastTransitionTime moves only when status changes."""
    result: list[dict[str, Any]] = []
    found = False
    for condition in conditions:
        if condition.get("type") != type_:
            result.append(dict(condition))
            continue
        found = True
        changed = condition.get("status") != update.status
        result.append(
            _condition(
                type_,
                update,
                now if changed else condition.get("lastTransitionTime") or now,
                generation,
            )
        )
    if not found:
        result.append(_condition(type_, update, now, generation))
    order = {
        constants.CONDITION_AVAILABLE: 0,
        constants.CONDITION_REGISTERED: 1,
        constants.CONDITION_SCALING: 2,
    }
    return sorted(result, key=lambda c: order.get(c["type"], 99))


def _condition(
    type_: str, update: ConditionUpdate, when: str, generation: int | None
) -> dict[str, Any]:
    condition: dict[str, Any] = {
        "type": type_,
        "status": update.status,
        "reason": update.reason,
        "message": update.message,
        "lastTransitionTime": when,
    }
    if generation is not None:
        condition["observedGeneration"] = generation
    return condition


def find_condition(
    conditions: Sequence[Mapping[str, Any]] | None, type_: str
) -> ConditionUpdate | None:
    for condition in conditions or []:
        if condition.get("type") == type_:
            return ConditionUpdate(
                str(condition.get("status", "Unknown")),
                str(condition.get("reason", "")),
                str(condition.get("message", "")),
            )
    return None


def build_status(
    *,
    name: str,
    agent: AgentSpec | None,
    generation: int | None,
    desired_replicas: int,
    deployment: Mapping[str, Any] | None,
    available: ConditionUpdate,
    registered: ConditionUpdate,
    scaling_condition: ConditionUpdate,
    endpoint: str | None,
    autoscaling: Mapping[str, Any] | None,
    old_status: Mapping[str, Any] | None,
    now: str,
) -> dict[str, Any]:
    """The Agent's whole status (a merge patch: None removes a field)."""
    old_status = old_status or {}
    deployment_status = (deployment or {}).get("status") or {}
    conditions: list[dict[str, Any]] = list(old_status.get("conditions") or [])
    conditions = set_condition(
        conditions, constants.CONDITION_AVAILABLE, available, now=now, generation=generation
    )
    conditions = set_condition(
        conditions, constants.CONDITION_REGISTERED, registered, now=now, generation=generation
    )
    conditions = set_condition(
        conditions, constants.CONDITION_SCALING, scaling_condition, now=now, generation=generation
    )
    routes = len(agent.routes) if agent is not None and registered.status == "True" else 0
    return {
        "phase": compute_phase(
            available=available, registered=registered, deployment_exists=deployment is not None
        ),
        "replicas": desired_replicas,
        "readyReplicas": deployment_status.get("readyReplicas") or 0,
        "availableReplicas": deployment_status.get("availableReplicas") or 0,
        "selector": selector_string(name),
        "endpoint": endpoint,
        "routes": routes,
        "version": agent.version if agent is not None else None,
        "observedGeneration": generation,
        "autoscaling": dict(autoscaling) if autoscaling is not None else None,
        "conditions": conditions,
    }


def status_differs(new: Mapping[str, Any], old: Mapping[str, Any] | None) -> bool:
    """Whether writing `new` would change anything (a None in `new` removes a field)."""
    old = old or {}
    return any(_without_nones(value) != _without_nones(old.get(key)) for key, value in new.items())


def _without_nones(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nones(v) for v in value]
    return value
