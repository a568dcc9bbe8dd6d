"""handlers.agent.converge against an in-memory stand-in of the two API calls it
makes (read/create/patch a child) and the registry stand-in of test_hub.

These check the reconcile logic quickly; the same behaviour is tested against
a real API server in tests/cluster (marker `kube`).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from typing import Any

import pytest
from test_hub import TOKEN, registry  # noqa: F401  (fixture)

from skyras_operator import builders, config, constants, hub, runtime
from skyras_operator.handlers import agent as handlers

LOG = logging.getLogger("test")


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class MemoryKube:
    """Children in a dict, as an API server would keep them (generation bumps on spec change)."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.writes: list[tuple[str, str, dict[str, Any]]] = []

    async def read_child(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        found = self.objects.get((kind, namespace, name))
        return copy.deepcopy(found) if found else None

    async def create_child(self, kind: str, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        stored = copy.deepcopy(body)
        stored["metadata"]["generation"] = 1
        self.objects[(kind, namespace, body["metadata"]["name"])] = stored
        self.writes.append(("create", kind, body))
        return copy.deepcopy(stored)

    async def patch_child(
        self, kind: str, namespace: str, name: str, patch: dict[str, Any]
    ) -> dict[str, Any]:
        stored = self.objects[(kind, namespace, name)]
        before = copy.deepcopy(stored.get("spec"))
        _merge(stored, patch)
        if stored.get("spec") != before:
            stored["metadata"]["generation"] += 1
        self.writes.append(("patch", kind, patch))
        return copy.deepcopy(stored)

    def roll_out(self, name: str, *, available: int) -> None:
        """What the Deployment controller (and kwok's pods) would report."""
        deployment = self.objects[("Deployment", "skyras", name)]
        deployment["status"] = {
            "observedGeneration": deployment["metadata"]["generation"],
            "replicas": available,
            "readyReplicas": available,
            "availableReplicas": available,
            "updatedReplicas": available,
        }


@pytest.fixture
async def rt(registry: Any) -> Any:  # noqa: F811
    state, url = registry
    settings = config.Settings(
        hub_url=url, hub_token=TOKEN, endpoint_template="http://127.0.0.1:{port}"
    )
    runtime_ = runtime.Runtime(
        settings=settings,
        hub=hub.HubClient(url, TOKEN, timeout=2.0),
        kube=MemoryKube(),  # type: ignore[arg-type]
    )
    yield runtime_, state
    await runtime_.hub.aclose()


async def _converge(rt: runtime.Runtime, body: dict[str, Any], **modes: Any) -> handlers.Outcome:
    modes.setdefault("replicas_mode", handlers.Replicas.FROM_SPEC)
    modes.setdefault("registration_mode", handlers.Registration.PUT)
    outcome = await handlers.converge(rt, body, logger=LOG, **modes)
    body["status"] = {**(body.get("status") or {}), **outcome.status}
    return outcome


def _condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


async def test_a_new_agent_gets_children_registration_and_a_truthful_status(
    rt: Any, agent_body: Any
) -> None:
    runtime_, registry_state = rt
    kube = runtime_.kube
    body = agent_body("marcus")
    outcome = await _converge(runtime_, body)
    assert [(w[0], w[1]) for w in kube.writes] == [("create", "Deployment"), ("create", "Service")]
    record = registry_state.agents["marcus"]
    assert record["endpoint"] == "http://127.0.0.1:8001"
    assert len(record["routes"]) == 10
    # Registered, but the pods are not available yet: not Ready.
    assert outcome.status["phase"] == constants.PHASE_PROGRESSING
    assert _condition(outcome.status, "Registered")["status"] == "True"
    assert outcome.status["routes"] == 10

    kube.roll_out("marcus", available=1)
    again = await _converge(
        runtime_,
        body,
        replicas_mode=handlers.Replicas.KEEP,
        registration_mode=handlers.Registration.KEEP,
    )
    assert again.status["phase"] == constants.PHASE_READY
    assert again.status["readyReplicas"] == 1
    assert len(kube.writes) == 2  # nothing differed, nothing written


async def test_a_deleted_or_edited_deployment_is_repaired(rt: Any, agent_body: Any) -> None:
    runtime_, _ = rt
    kube = runtime_.kube
    body = agent_body("letitia")
    await _converge(runtime_, body)
    kube.objects[("Deployment", "skyras", "letitia")]["spec"]["template"]["spec"]["containers"][0][
        "image"
    ] = "x:1"
    outcome = await _converge(
        runtime_,
        body,
        replicas_mode=handlers.Replicas.KEEP,
        registration_mode=handlers.Registration.VERIFY,
    )
    assert any("spec.template.spec.containers" in r for r in outcome.repaired)
    assert (
        kube.objects[("Deployment", "skyras", "letitia")]["spec"]["template"]["spec"]["containers"][
            0
        ]["image"]
        == "skyras/letitia:0.1.0"
    )
    del kube.objects[("Deployment", "skyras", "letitia")]
    await _converge(runtime_, body, replicas_mode=handlers.Replicas.KEEP)
    assert ("Deployment", "skyras", "letitia") in kube.objects


async def test_the_hub_losing_a_registration_is_repaired(rt: Any, agent_body: Any) -> None:
    runtime_, registry_state = rt
    body = agent_body("marcus")
    await _converge(runtime_, body)
    registry_state.agents.clear()
    outcome = await _converge(runtime_, body, registration_mode=handlers.Registration.VERIFY)
    assert "marcus" in registry_state.agents
    assert outcome.registered_now
    puts = [c for c in registry_state.calls if c[0] == "PUT"]
    await _converge(runtime_, body, registration_mode=handlers.Registration.VERIFY)
    assert [c for c in registry_state.calls if c[0] == "PUT"] == puts  # in sync: GET only


async def test_hub_down_says_why_and_comes_back(rt: Any, agent_body: Any) -> None:
    runtime_, registry_state = rt
    body = agent_body("marcus")
    registry_state.fail_with = 503
    outcome = await _converge(runtime_, body)
    assert outcome.hub_unavailable is not None
    registered = _condition(outcome.status, "Registered")
    assert (registered["status"], registered["reason"]) == (
        "False",
        constants.REASON_HUB_UNREACHABLE,
    )
    assert "503" in registered["message"]
    assert outcome.status["routes"] == 0
    registry_state.fail_with = None
    outcome = await _converge(runtime_, body)
    assert outcome.hub_unavailable is None
    assert _condition(outcome.status, "Registered")["status"] == "True"


async def test_a_child_owned_by_someone_else_is_left_alone(rt: Any, agent_body: Any) -> None:
    runtime_, registry_state = rt
    kube = runtime_.kube
    foreign = {
        "metadata": {"name": "marcus", "namespace": "skyras", "generation": 1},
        "spec": {"replicas": 7},
    }
    kube.objects[("Deployment", "skyras", "marcus")] = copy.deepcopy(foreign)
    outcome = await _converge(runtime_, agent_body("marcus"))
    assert outcome.not_owned == ["Deployment"]
    assert kube.objects[("Deployment", "skyras", "marcus")] == foreign
    assert outcome.status["phase"] == constants.PHASE_DEGRADED
    assert _condition(outcome.status, "Available")["reason"] == constants.REASON_CHILD_NOT_OWNED
    assert "marcus" not in registry_state.agents


async def test_an_invalid_spec_is_reported_not_applied(rt: Any, agent_body: Any) -> None:
    runtime_, _ = rt
    outcome = await _converge(runtime_, agent_body("marcus", port=0))
    assert isinstance(outcome.invalid, builders.InvalidAgentSpec)
    assert outcome.status["phase"] == constants.PHASE_DEGRADED
    assert runtime_.kube.writes == []


async def test_a_hand_scale_stands_while_autoscaling_is_off(rt: Any, agent_body: Any) -> None:
    runtime_, _ = rt
    kube = runtime_.kube
    body = agent_body("marcus")
    await _converge(runtime_, body)
    kube.objects[("Deployment", "skyras", "marcus")]["spec"]["replicas"] = 3
    outcome = await _converge(
        runtime_,
        body,
        replicas_mode=handlers.Replicas.AUTOSCALE,
        registration_mode=handlers.Registration.KEEP,
    )
    assert kube.objects[("Deployment", "skyras", "marcus")]["spec"]["replicas"] == 3
    assert outcome.status["replicas"] == 3
    assert "by hand" in _condition(outcome.status, "Scaling")["message"]
    body["spec"]["replicas"] = 2  # the next spec change wins
    await _converge(runtime_, body)
    assert kube.objects[("Deployment", "skyras", "marcus")]["spec"]["replicas"] == 2


async def test_autoscaling_without_a_lag_source_holds_and_says_so(rt: Any, agent_body: Any) -> None:
    runtime_, _ = rt
    body = agent_body("ari")
    await _converge(runtime_, body)
    assert runtime_.kube.objects[("Deployment", "skyras", "ari")]["spec"]["replicas"] == 1
    outcome = await _converge(
        runtime_,
        body,
        replicas_mode=handlers.Replicas.AUTOSCALE,
        registration_mode=handlers.Registration.KEEP,
    )
    scaling_condition = _condition(outcome.status, "Scaling")
    assert (scaling_condition["status"], scaling_condition["reason"]) == (
        "False",
        constants.REASON_LAG_UNAVAILABLE,
    )
    assert outcome.status["replicas"] == 1


def test_handlers_are_registered_with_kopf() -> None:
    import kopf

    from skyras_operator import main  # noqa: F401

    registry_ = kopf.get_default_registry()
    resource = kopf.Resource(constants.GROUP, constants.VERSION, constants.PLURAL)
    names = {
        h.id
        for h in registry_._changing.get_all_handlers()
        if h.selector and h.selector.check(resource)
    }
    names |= {
        h.id
        for h in registry_._spawning.get_all_handlers()
        if h.selector and h.selector.check(resource)
    }
    assert {"reconcile_agent", "deregister_agent", "repair_agent"} <= names


async def test_only_agents_in_the_operators_namespace_get_the_platform_env(
    rt: Any, agent_body: Any
) -> None:
    runtime_, _ = rt
    kube = runtime_.kube
    platform = ({"name": "SKYRAS_DATABASE_URL", "value": "postgresql://db/skyras"},)
    runtime_.settings = dataclasses.replace(
        runtime_.settings, agent_env=platform, namespace="skyras"
    )
    home = agent_body("marcus")
    away = agent_body("letitia")
    away["metadata"]["namespace"] = "elsewhere"
    await _converge(runtime_, home)
    await _converge(runtime_, away)

    def env(namespace: str, name: str) -> list[str]:
        pod = kube.objects[("Deployment", namespace, name)]["spec"]["template"]["spec"]
        return [e["name"] for e in pod["containers"][0]["env"]]

    assert env("skyras", "marcus")[0] == "SKYRAS_DATABASE_URL"
    assert "SKYRAS_DATABASE_URL" not in env("elsewhere", "letitia")
    # Converging again changes nothing: the platform env is part of the desired state.
    writes = len(kube.writes)
    await _converge(runtime_, home, registration_mode=handlers.Registration.KEEP)
    assert len(kube.writes) == writes
