"""Where an event travels: its type names a channel, a channel names a Redis
stream (durable, consumer groups) and a pub/sub channel (live views).

Filled here; read by the library's event bus and consumer and by the
operator (which streams an agent's group reads, for its lag).
"""

from collections.abc import Iterable
from typing import Final

CHANNEL_PREFIX: Final = "skyras:"
STREAM_PREFIX: Final = "skyras:stream:"

# The prototype's pub/sub channels; events are routed to them by type prefix.
CHANNELS: Final = ("tasks", "files", "system")
SYSTEM_CHANNEL: Final = "system"
CHANNEL_BY_TYPE_PREFIX: Final = {"task": "tasks", "file": "files"}


def channel_for_type(event_type: str) -> str:
    """`task.created` goes to `tasks`, `file.uploaded` to `files`, the rest to `system`."""
    prefix = event_type.split(".", 1)[0]
    return CHANNEL_BY_TYPE_PREFIX.get(prefix, SYSTEM_CHANNEL)


def pubsub_channel(channel: str) -> str:
    return f"{CHANNEL_PREFIX}{channel}"


def stream_key(channel: str) -> str:
    return f"{STREAM_PREFIX}{channel}"


def streams_for(event_types: Iterable[str]) -> list[str]:
    """The streams a consumer of these event types reads, one per channel, sorted."""
    return sorted({stream_key(channel_for_type(t)) for t in event_types})
