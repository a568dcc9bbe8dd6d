"""Route path templates (`/tasks/{id}`): parsing, matching and filling. Pure functions.

Who fills it: nobody (no state). Who reads it: `models` validates registrations
with `parse_template`; `registry` compiles each agent's routes and `match`es
request paths against them; the proxy `fill`s the target.

A parameter is a whole segment and matches exactly one non-empty segment of
the request path. Paths are compared in their raw (percent-encoded) form, so
`%2F` inside a segment never becomes a separator, and a segment that decodes
to `.` or `..` never matches anything.
"""

import re
from dataclasses import dataclass
from urllib.parse import unquote

_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]{0,63})\}$")
# RFC 3986 pchar, without '/', and without braces (those only form whole-segment params).
_LITERAL = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=:@%-]+$")


class TemplateError(ValueError):
    """A route path or target that is not a valid template."""


@dataclass(frozen=True)
class Segment:
    text: str  # the literal text, or the parameter's name
    is_param: bool


def parse_template(template: str) -> tuple[Segment, ...]:
    """`/tasks/{id}` -> (tasks, {id}); raises TemplateError with a readable reason."""
    if not template.startswith("/"):
        raise TemplateError("must start with /")
    if len(template) > 300:
        raise TemplateError("must be at most 300 characters")
    if "?" in template or "#" in template:
        raise TemplateError("must not contain a query string or fragment")
    if template == "/":
        return ()
    if template.endswith("/"):
        raise TemplateError("must not end with /")
    segments: list[Segment] = []
    seen: set[str] = set()
    for raw in template[1:].split("/"):
        if raw == "":
            raise TemplateError("must not contain empty segments (//)")
        param = _PARAM.match(raw)
        if param:
            name = param.group(1)
            if name in seen:
                raise TemplateError(f"parameter {{{name}}} appears twice")
            seen.add(name)
            segments.append(Segment(name, True))
            continue
        if "{" in raw or "}" in raw:
            raise TemplateError(f"segment {raw!r}: a parameter must be a whole segment like {{id}}")
        if not _LITERAL.match(raw):
            raise TemplateError(f"segment {raw!r} has characters not allowed in a URL path")
        if unquote(raw) in (".", ".."):
            raise TemplateError("must not contain . or .. segments")
        segments.append(Segment(raw, False))
    return tuple(segments)


def params_of(segments: tuple[Segment, ...]) -> set[str]:
    return {s.text for s in segments if s.is_param}


def shape_of(segments: tuple[Segment, ...]) -> str:
    """The template with parameter names erased: `/tasks/{id}` and `/tasks/{n}` are the same path."""
    return "/" + "/".join("{}" if s.is_param else s.text for s in segments)


def split_raw_path(raw: str) -> list[str] | None:
    """A request path's raw segments, or None when one of them is `.`/`..` (never routable)."""
    if raw in ("", "/"):
        return []
    parts = raw[1:].split("/") if raw.startswith("/") else raw.split("/")
    for part in parts:
        if unquote(part) in (".", ".."):
            return None
    return parts


def match(segments: tuple[Segment, ...], parts: list[str]) -> dict[str, str] | None:
    """The parameters when the raw path `parts` fit the template, else None."""
    if len(segments) != len(parts):
        return None
    params: dict[str, str] = {}
    for segment, part in zip(segments, parts, strict=True):
        if segment.is_param:
            if part == "":
                return None
            params[segment.text] = part
        elif segment.text != part:
            return None
    return params


def specificity(segments: tuple[Segment, ...]) -> tuple[bool, ...]:
    """Sort key: a literal segment beats a parameter at the same position (`/tasks/search` over `/tasks/{id}`)."""
    return tuple(not s.is_param for s in segments)


def fill(segments: tuple[Segment, ...], params: dict[str, str]) -> str:
    """The target path with the (raw, still percent-encoded) parameter values put in."""
    return "/" + "/".join(params[s.text] if s.is_param else s.text for s in segments)
