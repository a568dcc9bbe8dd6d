"""Names shared by every service: Redis keys and channels, event types, scopes.

Filled once here; read by the event bus, the hub, the agents and the operator,
so that a channel or key is never spelled twice.
"""

from typing import Final

CHANNEL_PREFIX: Final = "skyras:"
STREAM_PREFIX: Final = "skyras:stream:"
DEADLETTER_STREAM: Final = "skyras:stream:deadletter"
RATE_LIMIT_PREFIX: Final = "skyras:ratelimit:"

# The prototype's pub/sub channels; events are routed to them by type prefix.
CHANNELS: Final = ("tasks", "files", "system")
SYSTEM_CHANNEL: Final = "system"

# Registry cache invalidation rides on the system channel.
REGISTRY_CHANGED: Final = "registry.changed"

API_KEY_SCOPES: Final = ("read", "write", "admin", "registry")

# A route an agent marks `public: true` is served without an API key; only reads may be
# (a podcast app fetching a feed, a calendar client subscribing). The CRD and the
# operator spell the same rule (they do not import this library).
PUBLIC_METHODS: Final = ("GET", "HEAD")


def channel_for_type(event_type: str) -> str:
    """`task.created` goes to `tasks`, `file.uploaded` to `files`, the rest to `system`."""
    prefix = event_type.split(".", 1)[0]
    return {"task": "tasks", "file": "files"}.get(prefix, SYSTEM_CHANNEL)


def pubsub_channel(channel: str) -> str:
    return f"{CHANNEL_PREFIX}{channel}"


def stream_key(channel: str) -> str:
    return f"{STREAM_PREFIX}{channel}"
