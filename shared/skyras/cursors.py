"""Page cursors: the one codec behind every `next_cursor` (tasks, files, events...).

A cursor is the JSON of the last row's sort keys, URL-safe base64 without
padding: opaque to clients, safe in a query string. What the keys are, and
which status a bad cursor gets, stays with the caller (its own keyset);
`decode` raises `InvalidCursor` for anything it cannot read.
"""

import base64
import binascii
import json
from typing import Any


class InvalidCursor(ValueError):
    """Not a cursor a page returned: altered, truncated, or from another listing."""


def encode(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor("malformed cursor") from exc
