"""Input no endpoint can store, refused at the edge of every service (before routing).

Postgres text cannot hold the NUL character (U+0000): psycopg refuses it on
the way in, which used to surface as a 500 from whichever endpoint met it
first. Here it is a 422 in the JSON error shape, for the path, the query
string and JSON or form bodies alike, and nothing is written. Multipart bodies
carry files whose bytes may well contain NUL; their text fields meet the
`DataError` handler in `skyras.errors` instead (also a 422).
"""

import json
import re
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from skyras.errors import error_response
from skyras.http import header_value

# A JSON `\u0000` escape: an odd number of backslashes before `u0000` (an even
# number is an escaped backslash followed by the text "u0000").
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
# Bodies larger than this are left to the endpoint's own limits, unread here.
MAX_CHECKED_BODY = 16 * 1024 * 1024


def _nul_message(where: str) -> str:
    return (
        f"Invalid request: {where} contains the NUL character (U+0000), which cannot be stored; "
        "remove it and send again"
    )


def _body_has_nul(content_type: bytes, body: bytes) -> bool:
    if b"\x00" in body:
        return True
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        return b"\x00" in unquote_to_bytes(body)
    return _JSON_NUL.search(body) is not None


def _json_field_with_nul(body: bytes) -> str | None:
    """Where in a JSON body the first NUL is (`tracks.2.title`), to name it in the error."""
    try:
        stack: list[tuple[str, object]] = [("", json.loads(body))]
    except ValueError:
        return None
    while stack:
        where, value = stack.pop(0)
        if isinstance(value, str) and "\x00" in value:
            return where or None
        if isinstance(value, dict):
            stack += [(f"{where}.{k}" if where else str(k), v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(f"{where}.{i}" if where else str(i), v) for i, v in enumerate(value)]
    return None


class RejectUnstorableInput:
    """ASGI middleware: a 422 for NUL in the path, the query string or a JSON/form body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            await self._reject("the path", scope, receive, send)
            return
        if b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            await self._reject("the query string", scope, receive, send)
            return
        content_type = (header_value(scope, b"content-type") or b"").lower()
        checked = content_type.startswith(
            (b"application/json", b"application/x-www-form-urlencoded")
        ) or content_type.endswith(b"+json")
        length = header_value(scope, b"content-length") or b""
        if not checked or (length.isdigit() and int(length) > MAX_CHECKED_BODY):
            await self.app(scope, receive, send)
            return

        messages: list[Message] = []
        body = bytearray()
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if _body_has_nul(content_type, bytes(body)):
            field = _json_field_with_nul(bytes(body))
            await self._reject(field or "the request body", scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _reject(where: str, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(422, _nul_message(where), code="invalid_character")
        await response(scope, receive, send)
