"""HTTP byte ranges (RFC 9110 section 14) and Content-Disposition (RFC 6266) for downloads."""

import re
from urllib.parse import quote

from skyras.errors import ApiError

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) byte to send for a `Range` header, or None for the whole body.

    Several ranges, or a unit other than bytes, are answered with the whole
    body (allowed by RFC 9110); a range that starts past the end is 416.
    """
    if not header or "," in header:
        return None
    match = _RANGE.match(header)
    if not match:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise unsatisfiable(size)
        return max(size - suffix, 0), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # invalid syntax: ignore the header
    if first >= size:
        raise unsatisfiable(size)
    last = int(last_text) if last_text else size - 1
    return first, min(last, size - 1)


def unsatisfiable(size: int) -> ApiError:
    return ApiError(
        416,
        f"The requested range is outside the file's {size} bytes",
        headers={"Content-Range": f"bytes */{size}"},
        details={"size": size},
    )


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 / 8187)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in filename)
    encoded = quote(filename, safe="!#$&+-.^_`|~")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
