"""scaling: lag to replicas with KEDA's semantics (activation, cooldown, clamp, stabilization)."""

from __future__ import annotations

import pytest

from skyras_operator import constants, scaling
from skyras_operator.scaling import AutoscalingPolicy, ScalingState, decide_replicas

POLICY = AutoscalingPolicy(
    enabled=True,
    min_replicas=1,
    max_replicas=5,
    target_lag=100,
    activation_lag=0,
    cooldown_seconds=120,
    stabilization_seconds=60,
)
NO_MEMORY = ScalingState()


@pytest.mark.parametrize(
    ("lag", "replicas"),
    [(1, 1), (100, 1), (101, 2), (250, 3), (500, 5), (501, 5), (10_000, 5)],
)
def test_desired_is_ceil_of_lag_over_target_clamped_to_max(lag: int, replicas: int) -> None:
    decision = decide_replicas(POLICY, lag=lag, current=1, now=1000.0, state=NO_MEMORY)
    assert decision.active
    assert decision.replicas == replicas


def test_min_replicas_is_a_floor_while_active() -> None:
    policy = AutoscalingPolicy(enabled=True, min_replicas=3, max_replicas=5, target_lag=100)
    assert decide_replicas(policy, lag=5, current=3, now=0.0, state=NO_MEMORY).replicas == 3


def test_an_active_agent_scaled_to_zero_wakes_up() -> None:
    policy = AutoscalingPolicy(enabled=True, min_replicas=0, max_replicas=3, target_lag=10)
    decision = decide_replicas(policy, lag=1, current=0, now=0.0, state=NO_MEMORY)
    assert decision.replicas == 1
    assert decision.reason == constants.REASON_SCALED_UP


def test_lag_at_or_below_activation_is_inactive() -> None:
    policy = AutoscalingPolicy(
        enabled=True, min_replicas=0, max_replicas=3, target_lag=10, activation_lag=20
    )
    for lag in (0, 20):
        decision = decide_replicas(policy, lag=lag, current=0, now=0.0, state=NO_MEMORY)
        assert not decision.active
        assert decision.replicas == 0
    woken = decide_replicas(policy, lag=21, current=0, now=0.0, state=NO_MEMORY)
    assert woken.active and woken.replicas == 3


def test_scale_up_is_immediate() -> None:
    first = decide_replicas(POLICY, lag=150, current=1, now=0.0, state=NO_MEMORY)
    second = decide_replicas(POLICY, lag=450, current=first.replicas, now=5.0, state=first.state)
    assert (first.replicas, second.replicas) == (2, 5)
    assert second.reason == constants.REASON_SCALED_UP


def test_inactive_agent_holds_replicas_through_the_cooldown_then_returns_to_min() -> None:
    busy = decide_replicas(POLICY, lag=400, current=1, now=0.0, state=NO_MEMORY)
    assert busy.replicas == 4
    drained = decide_replicas(POLICY, lag=0, current=4, now=30.0, state=busy.state)
    assert (drained.replicas, drained.reason) == (4, constants.REASON_COOLING_DOWN)
    assert "in 90s" in drained.message
    still = decide_replicas(POLICY, lag=0, current=4, now=119.0, state=drained.state)
    assert still.replicas == 4
    cooled = decide_replicas(POLICY, lag=0, current=4, now=120.0, state=still.state)
    assert (cooled.replicas, cooled.reason) == (1, constants.REASON_SCALED_DOWN)
    idle = decide_replicas(POLICY, lag=0, current=1, now=500.0, state=cooled.state)
    assert (idle.replicas, idle.reason) == (1, constants.REASON_INACTIVE)


def test_scale_to_zero_after_the_cooldown_when_min_is_zero() -> None:
    policy = AutoscalingPolicy(
        enabled=True, min_replicas=0, max_replicas=3, target_lag=5, cooldown_seconds=300
    )
    busy = decide_replicas(policy, lag=7, current=0, now=0.0, state=NO_MEMORY)
    assert busy.replicas == 2
    assert decide_replicas(policy, lag=0, current=2, now=299.0, state=busy.state).replicas == 2
    assert decide_replicas(policy, lag=0, current=2, now=300.0, state=busy.state).replicas == 0


def test_activity_restarts_the_cooldown() -> None:
    busy = decide_replicas(POLICY, lag=300, current=1, now=0.0, state=NO_MEMORY)
    again = decide_replicas(POLICY, lag=250, current=3, now=100.0, state=busy.state)
    drained = decide_replicas(POLICY, lag=0, current=3, now=200.0, state=again.state)
    assert drained.replicas == 3  # 100 s since the last activity, not 200
    assert decide_replicas(POLICY, lag=0, current=3, now=220.0, state=drained.state).replicas == 1


def test_never_active_agent_sits_at_min_without_waiting() -> None:
    decision = decide_replicas(POLICY, lag=0, current=3, now=0.0, state=NO_MEMORY)
    assert decision.replicas == 1


def test_scale_down_while_active_waits_for_the_stabilization_window() -> None:
    peak = decide_replicas(POLICY, lag=500, current=1, now=0.0, state=NO_MEMORY)
    assert peak.replicas == 5
    lower = decide_replicas(POLICY, lag=150, current=5, now=20.0, state=peak.state)
    assert (lower.replicas, lower.reason) == (5, constants.REASON_STABILIZING)
    later = decide_replicas(POLICY, lag=150, current=5, now=61.0, state=lower.state)
    assert (later.replicas, later.reason) == (2, constants.REASON_SCALED_DOWN)


def test_scale_down_takes_the_highest_recommendation_in_the_window() -> None:
    state = ScalingState(last_active_at=50.0, recommendations=((10.0, 5), (40.0, 4), (50.0, 3)))
    decision = decide_replicas(POLICY, lag=100, current=5, now=75.0, state=state)
    # (10, 5) left the 60 s window; (40, 4) is the highest left.
    assert decision.replicas == 4
    assert [t for t, _ in decision.state.recommendations] == [40.0, 50.0, 75.0]


def test_no_stabilization_window_scales_down_at_once() -> None:
    policy = AutoscalingPolicy(
        enabled=True, max_replicas=5, target_lag=100, stabilization_seconds=0
    )
    peak = decide_replicas(policy, lag=500, current=1, now=0.0, state=NO_MEMORY)
    assert decide_replicas(policy, lag=100, current=5, now=0.5, state=peak.state).replicas == 1


def test_current_outside_new_bounds_is_clamped() -> None:
    policy = AutoscalingPolicy(enabled=True, min_replicas=2, max_replicas=3, target_lag=100)
    active = ScalingState(last_active_at=0.0)
    assert decide_replicas(policy, lag=0, current=8, now=10.0, state=active).replicas == 3
    assert decide_replicas(policy, lag=0, current=0, now=10.0, state=active).replicas == 2


def test_manual_replicas_follow_spec_when_autoscaling_is_off() -> None:
    assert scaling.manual_replicas({"replicas": 3}) == 3
    assert scaling.manual_replicas({"replicas": 0}) == 0
    assert scaling.manual_replicas({}) == 1
    for bad in (-1, 51, "2", True):
        with pytest.raises(ValueError, match="replicas"):
            scaling.manual_replicas({"replicas": bad})


def test_initial_replicas_keep_the_last_decision_within_bounds() -> None:
    assert scaling.initial_replicas(POLICY, current=None, remembered=None) == 1
    assert scaling.initial_replicas(POLICY, current=3, remembered=None) == 3
    assert scaling.initial_replicas(POLICY, current=3, remembered=4) == 4
    assert scaling.initial_replicas(POLICY, current=9, remembered=None) == 5


def test_policy_from_spec_applies_defaults_and_refuses_nonsense() -> None:
    policy = AutoscalingPolicy.from_spec({"enabled": True})
    assert (policy.min_replicas, policy.max_replicas, policy.target_lag) == (1, 5, 100)
    assert (policy.activation_lag, policy.cooldown_seconds, policy.stabilization_seconds) == (
        0,
        120,
        60,
    )
    assert AutoscalingPolicy.from_spec(None).enabled is False
    with pytest.raises(ValueError, match="minReplicas"):
        AutoscalingPolicy.from_spec({"minReplicas": 6, "maxReplicas": 5})
    with pytest.raises(ValueError, match="integer"):
        AutoscalingPolicy.from_spec({"targetLag": 1.5})


def test_state_survives_the_status_round_trip() -> None:
    state = ScalingState(last_active_at=1_700_000_000.0, recommendations=((1_700_000_000.0, 3),))
    status = scaling.state_to_status(state, lag=42, desired=3)
    assert status["lastActiveTime"] == "2023-11-14T22:13:20Z"
    assert status["lag"] == 42 and status["desiredReplicas"] == 3
    assert scaling.state_from_status(status) == state
    assert scaling.state_from_status(None) == ScalingState()
    assert scaling.state_from_status({"lastActiveTime": "garbage"}) == ScalingState()
