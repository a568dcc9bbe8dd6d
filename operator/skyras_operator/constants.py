"""Names shared by the operator's modules: the resource, labels, the finalizer,
condition types, reasons and event reasons, Redis stream names.

Filled by hand; read by builders, handlers and the tests. Nothing here is
computed from settings.
"""

from typing import Final

# The resource served.
GROUP: Final = "skyras.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "Agent"
PLURAL: Final = "agents"

OPERATOR_NAME: Final = "skyras-operator"

# kopf's own bookkeeping goes to annotations under our prefix (not to
# status.kopf: the CRD's status schema is strict and would prune it).
ANNOTATIONS_PREFIX: Final = "skyras.io"
# The finalizer that makes deletion wait for deregistration from the hub.
FINALIZER: Final = "skyras.io/operator"

# Labels (app.kubernetes.io/*). Selectors use name, instance and component
# only: a Deployment's selector is immutable.
LABEL_NAME: Final = "app.kubernetes.io/name"
LABEL_INSTANCE: Final = "app.kubernetes.io/instance"
LABEL_COMPONENT: Final = "app.kubernetes.io/component"
LABEL_PART_OF: Final = "app.kubernetes.io/part-of"
LABEL_VERSION: Final = "app.kubernetes.io/version"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
COMPONENT_AGENT: Final = "agent"
PART_OF: Final = "skyras"

# The agent's container and its contract.
CONTAINER_NAME: Final = "agent"
PORT_NAME: Final = "http"
HEALTH_PATH: Final = "/health"
RUN_AS_USER: Final = 10001
DEFAULT_RESOURCES: Final = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"memory": "256Mi"},
}
# Variables the operator gives every agent (a user's env entry of the same
# name wins).
ENV_AGENT_NAME: Final = "SKYRAS_AGENT_NAME"
ENV_CONSUMER_NAME: Final = "SKYRAS_CONSUMER_NAME"  # the pod's name: one consumer per pod
# What Kubernetes takes as an env variable's name (the CRD's pattern too).
ENV_NAME_PATTERN: Final = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"

# Status.phase values.
PHASE_PENDING: Final = "Pending"
PHASE_PROGRESSING: Final = "Progressing"
PHASE_READY: Final = "Ready"
PHASE_DEGRADED: Final = "Degraded"

# Condition types.
CONDITION_AVAILABLE: Final = "Available"
CONDITION_REGISTERED: Final = "Registered"
CONDITION_SCALING: Final = "Scaling"

# Condition reasons (CamelCase, as Kubernetes writes them).
REASON_AVAILABLE: Final = "MinimumReplicasAvailable"
REASON_PROGRESSING: Final = "ReplicasNotAvailable"
REASON_DEPLOYMENT_MISSING: Final = "DeploymentMissing"
REASON_DEADLINE_EXCEEDED: Final = "ProgressDeadlineExceeded"
REASON_CHILD_NOT_OWNED: Final = "ChildNotOwned"
REASON_INVALID_SPEC: Final = "InvalidSpec"
REASON_REGISTERED: Final = "Registered"
REASON_HUB_UNREACHABLE: Final = "HubUnreachable"
REASON_HUB_REJECTED: Final = "HubRejected"
REASON_MANUAL: Final = "AutoscalingDisabled"
REASON_LAG_UNAVAILABLE: Final = "LagUnavailable"
REASON_SCALED_UP: Final = "ScaledUp"
REASON_SCALED_DOWN: Final = "ScaledDown"
REASON_STEADY: Final = "Steady"
REASON_STABILIZING: Final = "Stabilizing"
REASON_COOLING_DOWN: Final = "CoolingDown"
REASON_INACTIVE: Final = "Inactive"

# Event reasons (kubectl describe agent shows them).
EVENT_INVALID_SPEC: Final = "InvalidSpec"
EVENT_CHILD_NOT_OWNED: Final = "ChildNotOwned"
EVENT_HUB_UNREACHABLE: Final = "HubUnreachable"
EVENT_HUB_REJECTED: Final = "HubRejected"
EVENT_DRIFT_REPAIRED: Final = "DriftRepaired"
EVENT_REGISTERED: Final = "Registered"
EVENT_DEREGISTERED: Final = "Deregistered"
EVENT_SCALED: Final = "Scaled"

# Redis stream names and the event-type -> stream map: skyras_contract.streams,
# shared with the library (the operator's image carries that package, not the library).
