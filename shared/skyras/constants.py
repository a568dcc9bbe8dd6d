"""Names shared by every service: Redis keys and channels, event types, scopes.

Filled once here; read by the event bus, the hub and the agents, so that a
channel or key is never spelled twice. The event-type -> channel/stream map is
part of the Agent contract that the operator reads too: it lives in
skyras_contract.streams and is re-exported here.
"""

from typing import Final

from skyras_contract.streams import (
    CHANNEL_PREFIX,
    CHANNELS,
    STREAM_PREFIX,
    SYSTEM_CHANNEL,
    channel_for_type,
    pubsub_channel,
    stream_key,
)

DEADLETTER_STREAM: Final = "skyras:stream:deadletter"
RATE_LIMIT_PREFIX: Final = "skyras:ratelimit:"

# Registry cache invalidation rides on the system channel.
REGISTRY_CHANGED: Final = "registry.changed"

API_KEY_SCOPES: Final = ("read", "write", "admin", "registry")

__all__ = [
    "API_KEY_SCOPES",
    "CHANNELS",
    "CHANNEL_PREFIX",
    "DEADLETTER_STREAM",
    "RATE_LIMIT_PREFIX",
    "REGISTRY_CHANGED",
    "STREAM_PREFIX",
    "SYSTEM_CHANNEL",
    "channel_for_type",
    "pubsub_channel",
    "stream_key",
]
