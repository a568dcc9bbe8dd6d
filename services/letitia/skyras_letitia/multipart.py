"""A streaming multipart/form-data reader over an ASGI request body.

`await request.form()` would spool every file to a temporary file before the
route sees it; this reader hands the route each part's bytes as they arrive,
so an upload flows straight into storage (hashed on the way) with one network
chunk in memory at a time. Built on python-multipart's push parser.
"""

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from skyras.errors import ApiError


class MalformedMultipart(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(400, f"Malformed multipart body: {message}", code="bad_multipart")


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    headers: dict[str, str] = field(default_factory=dict)


def boundary_of(content_type: str) -> bytes:
    kind, options = parse_options_header(content_type)
    if kind.lower() != b"multipart/form-data":
        raise ApiError(415, "Expected multipart/form-data")
    boundary = options.get(b"boundary")
    if not boundary:
        raise MalformedMultipart("the Content-Type has no boundary")
    return boundary


class MultipartReader:
    """Iterate parts with `next_part()`; read each one's bytes with `chunks()` or `text()`."""

    def __init__(self, body: AsyncIterator[bytes], boundary: bytes) -> None:
        self._body = body
        self._events: deque[tuple[str, bytes]] = deque()
        self._done = False
        self._in_part = False
        self.bytes_read = 0
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": lambda: self._events.append(("begin", b"")),
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": lambda: self._events.append(("header_end", b"")),
                "on_headers_finished": lambda: self._events.append(("headers_done", b"")),
                "on_part_data": lambda data, start, end: self._events.append(
                    ("data", bytes(data[start:end]))
                ),
                "on_part_end": lambda: self._events.append(("part_end", b"")),
                "on_end": lambda: self._events.append(("end", b"")),
            },
        )

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._events.append(("header_field", bytes(data[start:end])))

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._events.append(("header_value", bytes(data[start:end])))

    async def _next_event(self) -> tuple[str, bytes]:
        while not self._events:
            if self._done:
                raise MalformedMultipart("the body ended before the closing boundary")
            try:
                chunk = await anext(self._body)
            except StopAsyncIteration:
                self._done = True
                try:
                    self._parser.finalize()
                except MultipartParseError as exc:
                    raise MalformedMultipart(str(exc)) from exc
                continue
            self.bytes_read += len(chunk)
            try:
                self._parser.write(chunk)
            except MultipartParseError as exc:
                raise MalformedMultipart(str(exc)) from exc
        return self._events.popleft()

    async def next_part(self) -> Part | None:
        """The next part's headers, or None after the last one (skips unread data)."""
        while True:
            kind, _ = await self._next_event()
            if kind == "end":
                return None
            if kind == "begin":
                break
        headers: dict[str, str] = {}
        name = bytearray()
        value = bytearray()
        while True:
            kind, data = await self._next_event()
            if kind == "header_field":
                name += data
            elif kind == "header_value":
                value += data
            elif kind == "header_end":
                # latin-1 keeps the raw bytes; names are decoded as UTF-8 below.
                headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1")
                name, value = bytearray(), bytearray()
            elif kind == "headers_done":
                break
            else:
                raise MalformedMultipart("unexpected data in part headers")
        _, options = parse_options_header(headers.get("content-disposition", ""))
        if b"name" not in options:
            raise MalformedMultipart("a part has no name in its Content-Disposition")
        filename = options.get(b"filename")
        self._in_part = True
        return Part(
            # Browsers and curl send UTF-8 in these quoted strings.
            name=options[b"name"].decode("utf-8", "replace"),
            filename=None if filename is None else filename.decode("utf-8", "replace"),
            content_type=headers.get("content-type"),
            headers=headers,
        )

    async def chunks(self) -> AsyncIterator[bytes]:
        """The current part's bytes, as they arrive."""
        while self._in_part:
            kind, data = await self._next_event()
            if kind == "data":
                if data:
                    yield data
            elif kind == "part_end":
                self._in_part = False
            else:
                raise MalformedMultipart("unexpected event inside a part")

    async def text(self, limit: int) -> str:
        """The current part as text (a form field), refusing more than `limit` bytes."""
        buffer = bytearray()
        async for chunk in self.chunks():
            buffer += chunk
            if len(buffer) > limit:
                raise ApiError(422, f"A form field may carry at most {limit} bytes")
        return buffer.decode("utf-8", "replace")

    async def drain(self, limit: int) -> None:
        """Read and drop up to `limit` more body bytes, so the client sees our answer."""
        start = self.bytes_read
        try:
            while self.bytes_read - start < limit:
                chunk = await anext(self._body)
                self.bytes_read += len(chunk)
        except Exception:  # the body ended, or the client went away: nothing left to do
            return
