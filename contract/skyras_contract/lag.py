"""A consumer group's lag on one stream: the work it still has to do there.

That is the entries never delivered to it (XINFO GROUPS `lag`) plus those
delivered but not acknowledged (`pending`): a consumer that crashed mid-way
leaves them pending, and they are reclaimed and handled again, so they are
still work. The consumer reports it as a metric; the operator scales on it.
"""

from collections.abc import Iterable, Mapping
from typing import Any


def lag_unknown(groups: Iterable[Mapping[str, Any]]) -> bool:
    """Whether Redis could not tell a group's lag (null after trims or deletions):
    then `group_lag` needs the stream's length."""
    return any(info.get("lag") is None for info in groups)


def group_lag(groups: Iterable[Mapping[str, Any]], group: str, *, stream_length: int = 0) -> int:
    """The lag of `group` from one XINFO GROUPS reply on a stream of `stream_length` entries.

    A group that does not exist yet counts 0 (the agent creates it when it
    first starts; what came before is not its backlog). A lag Redis cannot
    tell counts as the stream's length, an upper bound: better one replica too
    many than a backlog nobody reads.
    """
    for info in groups:
        name = info.get("name")
        if isinstance(name, bytes):
            name = name.decode()
        if name != group:
            continue
        undelivered = info.get("lag")
        undelivered = int(undelivered) if undelivered is not None else stream_length
        return undelivered + int(info.get("pending") or 0)
    return 0
