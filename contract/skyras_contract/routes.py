"""The public-route rule, as the hub, the local runner and the operator apply it."""

from collections.abc import Iterable
from typing import Final

# A public route is served by the hub without an API key, so it may only be read
# (the CRD's CEL rule says the same).
PUBLIC_METHODS: Final = frozenset({"GET", "HEAD"})


def public_route_problem(path: str, methods: Iterable[str]) -> str | None:
    """Why a route at `path` with `methods` cannot be public, or None when it can."""
    writes = sorted(set(methods) - PUBLIC_METHODS)
    if not writes:
        return None
    return (
        f"route {path} is public (no API key), so it may only be read: "
        f"methods {', '.join(sorted(PUBLIC_METHODS))}, not {', '.join(writes)}"
    )
