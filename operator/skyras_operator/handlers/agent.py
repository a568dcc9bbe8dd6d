"""Handlers of the Agent resource (and of the Deployments made for it).

Registered with kopf when skyras_operator.main is imported; they read the
Runtime (runtime.py) from kopf's memo and converge every Agent to:
a Deployment and a Service it owns, a registration with the hub, and a
truthful status. Three triggers share one `converge`:

- create/update/resume: the spec (or the operator) changed. Replicas follow
  spec.replicas (autoscaling off) and the registration is PUT.
- the timer (every SKYRAS_OPERATOR_RECONCILE_INTERVAL s): repairs drift,
  verifies the hub still has the registration, and autoscales from lag.
- a watch on the Deployments: readiness shows in status at once, and a
  Deployment deleted by hand is recreated at once.
Deletion: a finalizer waits for the hub to forget the agent; the children go
by garbage collection (owner references).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import logging
import time
from collections.abc import Mapping
from typing import Any, cast

import kopf

from skyras_operator import builders, config, constants, hub, kube, lag, runtime, scaling

RECONCILE_INTERVAL = config.reconcile_interval_from_env()


class Replicas(enum.Enum):
    FROM_SPEC = "spec"  # set spec.replicas (autoscaling off) or keep the autoscaler's choice
    KEEP = "keep"  # leave the running count (a hand-made scale while autoscaling is off)
    AUTOSCALE = "autoscale"  # keep, but decide from lag when autoscaling is on


class Registration(enum.Enum):
    PUT = "put"
    VERIFY = "verify"  # GET, and PUT when the hub's record differs or is gone
    KEEP = "keep"  # do not call the hub; report the last known state


@dataclasses.dataclass
class Outcome:
    status: dict[str, Any]
    invalid: builders.InvalidAgentSpec | None = None
    hub_unavailable: hub.HubUnavailable | None = None
    hub_rejected: hub.HubRejected | None = None
    not_owned: list[str] = dataclasses.field(default_factory=list)
    repaired: list[str] = dataclasses.field(default_factory=list)
    registered_now: bool = False
    scaled: tuple[int, int] | None = None  # (from, to)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def converge(
    rt: runtime.Runtime,
    body: Mapping[str, Any],
    *,
    replicas_mode: Replicas,
    registration_mode: Registration,
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> Outcome:
    """Brings the Agent's children and registration to its spec; returns the status to write."""
    meta = body.get("metadata") or {}
    name, namespace, uid = meta["name"], meta["namespace"], meta.get("uid", "")
    generation = meta.get("generation")
    old_status = body.get("status") or {}
    now = _now()

    try:
        builders.check_name(name)
        agent = builders.parse_spec(body.get("spec"))
    except builders.InvalidAgentSpec as exc:
        invalid = builders.ConditionUpdate("False", constants.REASON_INVALID_SPEC, str(exc))
        status = builders.build_status(
            name=name,
            agent=None,
            generation=generation,
            desired_replicas=0,
            deployment=None,
            available=invalid,
            registered=builders.ConditionUpdate("False", constants.REASON_INVALID_SPEC, str(exc)),
            scaling_condition=builders.ConditionUpdate(
                "False", constants.REASON_INVALID_SPEC, str(exc)
            ),
            endpoint=None,
            autoscaling=None,
            old_status=old_status,
            now=now,
        )
        return Outcome(status=status, invalid=exc)

    outcome = Outcome(status={})
    deployment = await rt.kube.read_child("Deployment", namespace, name)
    service = await rt.kube.read_child("Service", namespace, name)
    for kind, child in (("Deployment", deployment), ("Service", service)):
        if child is not None and not builders.is_owned_by(child, uid):
            outcome.not_owned.append(kind)

    current = (deployment or {}).get("spec", {}).get("replicas") if deployment else None
    replicas, scaling_condition, autoscaling_status = await _decide_replicas(
        rt,
        agent,
        name=name,
        current=current,
        old_status=old_status,
        mode=replicas_mode,
        logger=logger,
    )

    if "Deployment" not in outcome.not_owned:
        desired = builders.build_deployment(
            body, agent, replicas=replicas, platform_env=rt.settings.platform_env_for(namespace)
        )
        deployment = await _apply(
            rt, "Deployment", namespace, desired, deployment, uid, outcome, logger
        )
        if current is not None and deployment is not None and current != replicas:
            outcome.scaled = (current, replicas)
    if "Service" not in outcome.not_owned:
        desired = builders.build_service(body, agent)
        await _apply(rt, "Service", namespace, desired, service, uid, outcome, logger)

    endpoint = builders.render_endpoint(
        rt.settings.endpoint_template, name=name, namespace=namespace, port=agent.port
    )
    registered = await _register(
        rt,
        agent,
        name=name,
        endpoint=endpoint,
        mode=registration_mode,
        outcome=outcome,
        old_status=old_status,
        logger=logger,
    )

    if outcome.not_owned:
        available = builders.ConditionUpdate(
            "False",
            constants.REASON_CHILD_NOT_OWNED,
            f"{' and '.join(outcome.not_owned)} {name} exists but is not owned by this Agent; left alone",
        )
    else:
        available = builders.deployment_availability(deployment, replicas)
    outcome.status = builders.build_status(
        name=name,
        agent=agent,
        generation=generation,
        desired_replicas=replicas,
        deployment=None if "Deployment" in outcome.not_owned else deployment,
        available=available,
        registered=registered,
        scaling_condition=scaling_condition,
        endpoint=endpoint,
        autoscaling=autoscaling_status,
        old_status=old_status,
        now=now,
    )
    return outcome


async def _decide_replicas(
    rt: runtime.Runtime,
    agent: builders.AgentSpec,
    *,
    name: str,
    current: int | None,
    old_status: Mapping[str, Any],
    mode: Replicas,
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> tuple[int, builders.ConditionUpdate, dict[str, Any] | None]:
    policy = agent.autoscaling
    if not policy.enabled:
        if mode is Replicas.FROM_SPEC or current is None:
            replicas = agent.replicas
            message = f"autoscaling is off: {replicas} replicas from spec.replicas"
        else:
            # Never fight a hand-made scale while autoscaling is off; the
            # next change of spec.replicas wins again.
            replicas = current
            message = f"autoscaling is off: {replicas} replicas" + (
                ""
                if current == agent.replicas
                else f" (scaled by hand; spec.replicas is {agent.replicas})"
            )
        return replicas, builders.ConditionUpdate("False", constants.REASON_MANUAL, message), None

    old_autoscaling = old_status.get("autoscaling") or {}
    remembered = old_autoscaling.get("desiredReplicas")
    fallback = scaling.initial_replicas(
        policy, current=current, remembered=remembered if isinstance(remembered, int) else None
    )
    previous = builders.find_condition(old_status.get("conditions"), constants.CONDITION_SCALING)
    if mode is not Replicas.AUTOSCALE:
        condition = (
            previous
            if previous and previous.reason != constants.REASON_MANUAL
            else builders.ConditionUpdate(
                "True",
                constants.REASON_STEADY,
                f"autoscaling from consumer lag: {fallback} replicas",
            )
        )
        return fallback, condition, {**old_autoscaling, "desiredReplicas": fallback}
    if rt.redis is None:
        message = "no lag source (SKYRAS_REDIS_URL is not set): replicas held"
        return (
            fallback,
            builders.ConditionUpdate("False", constants.REASON_LAG_UNAVAILABLE, message),
            {
                **old_autoscaling,
                "desiredReplicas": fallback,
            },
        )
    try:
        lag_now = await lag.consumer_lag(rt.redis, name, agent.subscribes)
    except lag.LagUnavailable as exc:
        logger.warning("Consumer lag of %s unavailable: %s", name, exc)
        return (
            fallback,
            builders.ConditionUpdate("False", constants.REASON_LAG_UNAVAILABLE, str(exc)),
            {
                **old_autoscaling,
                "desiredReplicas": fallback,
            },
        )
    decision = scaling.decide_replicas(
        policy,
        lag=lag_now,
        current=current if current is not None else fallback,
        now=time.time(),
        state=scaling.state_from_status(old_autoscaling),
    )
    return (
        decision.replicas,
        builders.ConditionUpdate("True", decision.reason, decision.message),
        scaling.state_to_status(decision.state, lag=lag_now, desired=decision.replicas),
    )


async def _apply(
    rt: runtime.Runtime,
    kind: str,
    namespace: str,
    desired: dict[str, Any],
    actual: dict[str, Any] | None,
    uid: str,
    outcome: Outcome,
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> dict[str, Any] | None:
    """Creates the child, or patches only what differs; returns it as the server has it."""
    name = desired["metadata"]["name"]
    if actual is None:
        try:
            created = await rt.kube.create_child(kind, namespace, desired)
            logger.info("Created %s %s/%s", kind, namespace, name)
            return created
        except kube.AlreadyExists:
            actual = await rt.kube.read_child(kind, namespace, name)
            if actual is None:
                return None
            if not builders.is_owned_by(actual, uid):
                outcome.not_owned.append(kind)
                return actual
    patch = builders.merge_patch_for(desired, actual)
    if not patch:
        return actual
    changed = sorted(_leaf_paths(patch))
    logger.info("Patching %s %s/%s: %s", kind, namespace, name, ", ".join(changed))
    outcome.repaired.append(f"{kind}: {', '.join(changed)}")
    return await rt.kube.patch_child(kind, namespace, name, patch)


def _leaf_paths(patch: Mapping[str, Any], prefix: str = "") -> list[str]:
    paths: list[str] = []
    for key, value in patch.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping) and value:
            paths.extend(_leaf_paths(value, path))
        else:
            paths.append(path)
    return paths


async def _register(
    rt: runtime.Runtime,
    agent: builders.AgentSpec,
    *,
    name: str,
    endpoint: str,
    mode: Registration,
    outcome: Outcome,
    old_status: Mapping[str, Any],
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> builders.ConditionUpdate:
    previous = builders.find_condition(old_status.get("conditions"), constants.CONDITION_REGISTERED)
    if outcome.not_owned:
        return builders.ConditionUpdate(
            "False",
            constants.REASON_CHILD_NOT_OWNED,
            "not registered: the agent's children are not ours",
        )
    if mode is Registration.KEEP:
        return previous or builders.ConditionUpdate(
            "Unknown", "Pending", "registration not attempted yet"
        )
    registration = builders.build_registration(agent, endpoint=endpoint)
    try:
        if mode is Registration.VERIFY:
            stored = await rt.hub.get_agent(name)
            if builders.registration_matches(registration, stored):
                return builders.ConditionUpdate(
                    "True",
                    constants.REASON_REGISTERED,
                    f"{len(agent.routes)} routes registered at {rt.settings.hub_url} for {endpoint}",
                )
            logger.info(
                "The hub's record of %s is %s; registering again",
                name,
                "different" if stored else "gone",
            )
        await rt.hub.register_agent(name, registration)
    except hub.HubUnavailable as exc:
        outcome.hub_unavailable = exc
        return builders.ConditionUpdate("False", constants.REASON_HUB_UNREACHABLE, str(exc))
    except hub.HubRejected as exc:
        outcome.hub_rejected = exc
        detail = f"{exc} {exc.details}" if exc.details else str(exc)
        return builders.ConditionUpdate("False", constants.REASON_HUB_REJECTED, detail)
    outcome.registered_now = (
        previous is None or previous.status != "True" or mode is Registration.VERIFY
    )
    logger.info("Registered %s (%d routes, endpoint %s)", name, len(agent.routes), endpoint)
    return builders.ConditionUpdate(
        "True",
        constants.REASON_REGISTERED,
        f"{len(agent.routes)} routes registered at {rt.settings.hub_url} for {endpoint}",
    )


def _post(post: Any, body: Mapping[str, Any], *, reason: str, message: str) -> None:
    """A Kubernetes event about the Agent (kopf takes any body with apiVersion/kind/metadata)."""
    post(cast(kopf.Body, dict(body)), reason=reason, message=message)


def _report(body: Mapping[str, Any], outcome: Outcome, *, quiet_if_unchanged: bool) -> None:
    """Kubernetes events for what happened. The timer and the watcher report a
    problem only when its condition changes (no event every tick)."""
    old = (body.get("status") or {}).get("conditions")

    def changed(type_: str, reason: str) -> bool:
        previous = builders.find_condition(old, type_)
        return not quiet_if_unchanged or previous is None or previous.reason != reason

    raw = body
    if outcome.not_owned and changed(
        constants.CONDITION_AVAILABLE, constants.REASON_CHILD_NOT_OWNED
    ):
        _post(
            kopf.warn,
            raw,
            reason=constants.EVENT_CHILD_NOT_OWNED,
            message=f"{' and '.join(outcome.not_owned)} of this name exist(s) and is not owned by the Agent; left alone",
        )
    if outcome.hub_unavailable and changed(
        constants.CONDITION_REGISTERED, constants.REASON_HUB_UNREACHABLE
    ):
        _post(
            kopf.warn,
            raw,
            reason=constants.EVENT_HUB_UNREACHABLE,
            message=str(outcome.hub_unavailable),
        )
    if outcome.hub_rejected and changed(
        constants.CONDITION_REGISTERED, constants.REASON_HUB_REJECTED
    ):
        _post(
            kopf.warn, raw, reason=constants.EVENT_HUB_REJECTED, message=str(outcome.hub_rejected)
        )
    if outcome.registered_now:
        _post(
            kopf.info,
            raw,
            reason=constants.EVENT_REGISTERED,
            message=str(outcome.status.get("endpoint")),
        )
    if outcome.repaired and quiet_if_unchanged:
        _post(
            kopf.info,
            raw,
            reason=constants.EVENT_DRIFT_REPAIRED,
            message="; ".join(outcome.repaired)[:1000],
        )
    if outcome.scaled:
        before, after = outcome.scaled
        _post(
            kopf.info, raw, reason=constants.EVENT_SCALED, message=f"{before} -> {after} replicas"
        )


@kopf.on.resume(constants.GROUP, constants.VERSION, constants.PLURAL)
@kopf.on.create(constants.GROUP, constants.VERSION, constants.PLURAL)
@kopf.on.update(constants.GROUP, constants.VERSION, constants.PLURAL)
async def reconcile_agent(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    """The spec changed (or the operator started): apply children, register, write status."""
    rt = runtime.of(memo)
    meta = body["metadata"]
    async with rt.lock_for(meta["namespace"], meta["name"]):
        outcome = await converge(
            rt,
            body,
            replicas_mode=Replicas.FROM_SPEC,
            registration_mode=Registration.PUT,
            logger=logger,
        )
    patch.status.update(outcome.status)
    if outcome.invalid is not None:
        _post(kopf.warn, body, reason=constants.EVENT_INVALID_SPEC, message=str(outcome.invalid))
        raise kopf.PermanentError(f"invalid Agent: {outcome.invalid}")
    _report(body, outcome, quiet_if_unchanged=retry > 0)
    if outcome.hub_rejected is not None:
        raise kopf.PermanentError(f"the hub rejected the registration: {outcome.hub_rejected}")
    if outcome.hub_unavailable is not None:
        raise kopf.TemporaryError(str(outcome.hub_unavailable), delay=rt.settings.backoff(retry))


@kopf.timer(
    constants.GROUP,
    constants.VERSION,
    constants.PLURAL,
    interval=RECONCILE_INTERVAL,
    initial_delay=min(RECONCILE_INTERVAL, 5.0),
)
async def repair_agent(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    """Periodically: repair drift, verify the hub's record, autoscale from lag."""
    if body["metadata"].get("deletionTimestamp"):
        return
    rt = runtime.of(memo)
    meta = body["metadata"]
    async with rt.lock_for(meta["namespace"], meta["name"]):
        outcome = await converge(
            rt,
            body,
            replicas_mode=Replicas.AUTOSCALE,
            registration_mode=Registration.VERIFY,
            logger=logger,
        )
    if outcome.invalid is not None:
        return  # reported once by the change handler; nothing to repair until the spec changes
    _report(body, outcome, quiet_if_unchanged=True)
    if builders.status_differs(outcome.status, body.get("status")):
        patch.status.update(outcome.status)


@kopf.on.event(
    "apps", "v1", "deployments", labels={constants.LABEL_MANAGED_BY: constants.OPERATOR_NAME}
)
async def watch_agent_deployment(
    event: kopf.RawEvent,
    body: kopf.Body,
    memo: kopf.Memo,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    """A Deployment of ours changed: refresh the owner's status; recreate it if it was deleted."""
    owner = next(
        (
            ref
            for ref in body["metadata"].get("ownerReferences") or []
            if ref.get("kind") == constants.KIND and ref.get("apiVersion") == constants.API_VERSION
        ),
        None,
    )
    namespace = body["metadata"].get("namespace")
    if owner is None or not namespace:
        return
    rt = runtime.of(memo)
    async with rt.lock_for(namespace, owner["name"]):
        agent = await rt.kube.read_agent(namespace, owner["name"])
        if agent is None or agent["metadata"].get("uid") != owner.get("uid"):
            return
        if agent["metadata"].get("deletionTimestamp"):
            return
        if event.get("type") == "DELETED":
            logger.info("Deployment %s/%s was deleted; recreating it", namespace, owner["name"])
        outcome = await converge(
            rt,
            agent,
            replicas_mode=Replicas.KEEP,
            registration_mode=Registration.KEEP,
            logger=logger,
        )
        if outcome.invalid is None and builders.status_differs(outcome.status, agent.get("status")):
            await rt.kube.patch_agent_status(namespace, owner["name"], outcome.status)
    if outcome.invalid is None:
        _report(agent, outcome, quiet_if_unchanged=True)


@kopf.on.delete(constants.GROUP, constants.VERSION, constants.PLURAL)
async def deregister_agent(
    body: kopf.Body,
    memo: kopf.Memo,
    retry: int,
    runtime: datetime.timedelta,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    """Before the Agent goes: remove its routes from the hub (if the record is ours)."""
    rt = _runtime_of(memo)
    meta = body["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    port = int((body.get("spec") or {}).get("port") or 0)
    ours = builders.render_endpoint(
        rt.settings.endpoint_template, name=name, namespace=namespace, port=port
    )
    try:
        stored = await rt.hub.get_agent(name)
        if stored is None:
            logger.info("The hub has no record of %s; nothing to deregister", name)
        elif stored.get("endpoint") not in (None, ours):
            # Same name, another namespace (the registry is keyed by name): not ours to remove.
            logger.warning(
                "The hub's record of %s points at %s, not %s; left alone",
                name,
                stored.get("endpoint"),
                ours,
            )
        else:
            await rt.hub.deregister_agent(name)
            _post(
                kopf.info,
                body,
                reason=constants.EVENT_DEREGISTERED,
                message=f"{name} removed from the hub",
            )
    except hub.HubUnavailable as exc:
        if runtime.total_seconds() >= rt.settings.delete_timeout:
            _post(
                kopf.warn,
                body,
                reason=constants.EVENT_HUB_UNREACHABLE,
                message=f"gave up deregistering after {rt.settings.delete_timeout:.0f}s: {exc}",
            )
            return
        raise kopf.TemporaryError(str(exc), delay=rt.settings.backoff(retry)) from exc
    except hub.HubRejected as exc:
        _post(kopf.warn, body, reason=constants.EVENT_HUB_REJECTED, message=str(exc))
    finally:
        rt.forget(namespace, name)


_runtime_of = runtime.of  # `runtime` is also kopf's name for the handler's elapsed time
