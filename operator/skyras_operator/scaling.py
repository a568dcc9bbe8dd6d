"""Consumer lag to replicas, the way KEDA (and the HPA under it) decide. Pure.

Filled by the timer in handlers/agent.py with the lag read from Redis and the
state kept in the Agent's status.autoscaling; read back by the same timer.

- active when lag > activationLag: desired = ceil(lag / targetLag), clamped to
  [max(minReplicas, 1), maxReplicas]; scaling up is immediate, scaling down
  takes the highest recommendation of the stabilization window (HPA's
  scale-down stabilization);
- inactive (lag <= activationLag): the replicas stay until the agent has been
  inactive for cooldownSeconds, then go to minReplicas (0 if it is 0: KEDA's
  scale to zero).
Autoscaling off: replicas are spec.replicas (`manual_replicas`).
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Mapping
from typing import Any

from skyras_operator import constants

MAX_REPLICAS = 50


@dataclasses.dataclass(frozen=True)
class AutoscalingPolicy:
    enabled: bool = False
    min_replicas: int = 1
    max_replicas: int = 5
    target_lag: int = 100
    activation_lag: int = 0
    cooldown_seconds: float = 120
    stabilization_seconds: float = 60

    @classmethod
    def from_spec(cls, autoscaling: Mapping[str, Any] | None) -> AutoscalingPolicy:
        """Reads spec.autoscaling (CRD defaults applied again for bodies that skipped them)."""
        raw = dict(autoscaling or {})
        policy = cls(
            enabled=bool(raw.get("enabled", cls.enabled)),
            min_replicas=_int(raw, "minReplicas", cls.min_replicas),
            max_replicas=_int(raw, "maxReplicas", cls.max_replicas),
            target_lag=_int(raw, "targetLag", cls.target_lag),
            activation_lag=_int(raw, "activationLag", cls.activation_lag),
            cooldown_seconds=_int(raw, "cooldownSeconds", int(cls.cooldown_seconds)),
            stabilization_seconds=_int(
                raw, "stabilizationWindowSeconds", int(cls.stabilization_seconds)
            ),
        )
        policy.check()
        return policy

    def check(self) -> None:
        if not 0 <= self.min_replicas <= MAX_REPLICAS:
            raise ValueError(f"autoscaling.minReplicas must be in 0..{MAX_REPLICAS}")
        if not 1 <= self.max_replicas <= MAX_REPLICAS:
            raise ValueError(f"autoscaling.maxReplicas must be in 1..{MAX_REPLICAS}")
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                "autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas"
                f" ({self.min_replicas} > {self.max_replicas})"
            )
        if self.target_lag < 1:
            raise ValueError("autoscaling.targetLag must be at least 1")
        if self.activation_lag < 0:
            raise ValueError("autoscaling.activationLag must not be negative")
        if self.cooldown_seconds < 0 or self.stabilization_seconds < 0:
            raise ValueError("autoscaling windows must not be negative")

    def clamp(self, replicas: int) -> int:
        return max(self.min_replicas, min(self.max_replicas, replicas))


def _int(raw: Mapping[str, Any], key: str, default: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"autoscaling.{key} must be an integer, got {value!r}")
    return value


@dataclasses.dataclass(frozen=True)
class ScalingState:
    """What the autoscaler remembers between ticks (kept in status.autoscaling)."""

    last_active_at: float | None = None
    # (time, recommended replicas) of the active ticks within the window.
    recommendations: tuple[tuple[float, int], ...] = ()


@dataclasses.dataclass(frozen=True)
class ScalingDecision:
    replicas: int
    active: bool
    reason: str
    message: str
    state: ScalingState


def recommended_replicas(policy: AutoscalingPolicy, lag: int) -> int:
    """ceil(lag / targetLag) clamped; an active agent never recommends 0."""
    raw = math.ceil(max(lag, 0) / policy.target_lag)
    return max(max(policy.min_replicas, 1), min(policy.max_replicas, raw))


def decide_replicas(
    policy: AutoscalingPolicy,
    *,
    lag: int,
    current: int,
    now: float,
    state: ScalingState,
) -> ScalingDecision:
    """The replicas for this tick, and the state to remember for the next."""
    window_start = now - policy.stabilization_seconds
    kept = tuple((t, r) for t, r in state.recommendations if t > window_start)
    held = policy.clamp(current)

    if lag > policy.activation_lag:
        recommended = recommended_replicas(policy, lag)
        recommendations = (*kept, (now, recommended))
        new_state = ScalingState(last_active_at=now, recommendations=recommendations)
        if recommended >= held:
            replicas = recommended
        else:
            # Scale down no lower than the highest recommendation in the window.
            replicas = min(held, max(r for _, r in recommendations))
        if replicas > current:
            reason = constants.REASON_SCALED_UP
        elif replicas < current:
            reason = constants.REASON_SCALED_DOWN
        elif replicas > recommended:
            reason = constants.REASON_STABILIZING
        else:
            reason = constants.REASON_STEADY
        message = (
            f"lag {lag} > activation {policy.activation_lag}: "
            f"ceil({lag}/{policy.target_lag}) -> {recommended} recommended, {replicas} replicas"
        )
        return ScalingDecision(replicas, True, reason, message, new_state)

    new_state = ScalingState(last_active_at=state.last_active_at, recommendations=kept)
    inactive_for = None if state.last_active_at is None else now - state.last_active_at
    if (
        inactive_for is not None
        and inactive_for < policy.cooldown_seconds
        and held > policy.min_replicas
    ):
        remaining = math.ceil(policy.cooldown_seconds - inactive_for)
        message = (
            f"lag {lag} <= activation {policy.activation_lag}: holding {held} replicas,"
            f" {policy.min_replicas} in {remaining}s"
        )
        return ScalingDecision(held, False, constants.REASON_COOLING_DOWN, message, new_state)
    replicas = policy.min_replicas
    reason = constants.REASON_SCALED_DOWN if replicas < current else constants.REASON_INACTIVE
    message = f"lag {lag} <= activation {policy.activation_lag}: {replicas} replicas (minimum)"
    return ScalingDecision(replicas, False, reason, message, new_state)


def manual_replicas(spec: Mapping[str, Any]) -> int:
    """Replicas when autoscaling is off: spec.replicas (default 1)."""
    value = spec.get("replicas", 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_REPLICAS:
        raise ValueError(f"replicas must be an integer in 0..{MAX_REPLICAS}, got {value!r}")
    return value


def initial_replicas(
    policy: AutoscalingPolicy, *, current: int | None, remembered: int | None
) -> int:
    """Replicas for an autoscaled agent outside the timer (create, update, repair).

    Keeps what the autoscaler last decided (or what runs now), within the
    bounds; a new agent starts at minReplicas.
    """
    for value in (remembered, current):
        if value is not None:
            return policy.clamp(value)
    return policy.min_replicas


# Status round trip (times as RFC 3339 strings in status.autoscaling).


def state_from_status(autoscaling_status: Mapping[str, Any] | None) -> ScalingState:
    raw = autoscaling_status or {}
    recommendations = []
    for item in raw.get("recommendations") or []:
        when = _parse_time(item.get("time"))
        if when is not None and isinstance(item.get("replicas"), int):
            recommendations.append((when, item["replicas"]))
    return ScalingState(
        last_active_at=_parse_time(raw.get("lastActiveTime")),
        recommendations=tuple(recommendations),
    )


def state_to_status(state: ScalingState, *, lag: int | None, desired: int) -> dict[str, Any]:
    return {
        "lag": lag,
        "desiredReplicas": desired,
        "lastActiveTime": _format_time(state.last_active_at),
        "recommendations": [
            {"time": _format_time(t), "replicas": r} for t, r in state.recommendations
        ],
    }


def _parse_time(value: object) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp()


def _format_time(value: float | None) -> str | None:
    if value is None:
        return None
    moment = datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
