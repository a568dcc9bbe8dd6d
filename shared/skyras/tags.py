"""Tags: the one normalisation every agent applies (tasks, files, jobs, releases).

A tag is compared as written here, so a task tagged `Night  Drive` and a file
tagged `night drive` share a tag whichever agent stored them. Rules: Unicode
NFC, trimmed, lower-cased, inner whitespace collapsed to one space; at most
50 characters; no commas (the list separator in forms and queries), slashes
(they name paths and hub routes) or control characters. Empty tags are
dropped, duplicates removed (first wins); how many a record may carry is the
owning agent's limit.
"""

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

MAX_TAG_LENGTH = 50
_FORBIDDEN = re.compile(r"[,/\x00-\x1f\x7f-\x9f]")


def normalize_tag(value: Any) -> str:
    """One tag in its stored form ("" when blank); ValueError says what is wrong."""
    if not isinstance(value, str):
        raise ValueError("each tag must be a string")
    tag = " ".join(unicodedata.normalize("NFC", value).strip().lower().split())
    if len(tag) > MAX_TAG_LENGTH:
        raise ValueError(f"a tag must be at most {MAX_TAG_LENGTH} characters")
    if _FORBIDDEN.search(tag):
        raise ValueError("a tag must not contain commas, slashes or control characters")
    return tag


def normalize_tags(values: Any, *, max_tags: int) -> list[str]:
    """A list (or a comma-separated string) of tags, normalised, unique, blanks dropped."""
    if values is None:
        return []
    if isinstance(values, str):
        values = values.split(",")
    if not isinstance(values, (list, tuple)):
        raise ValueError("tags must be a list of strings")
    tags = unique_tags(normalize_tag(value) for value in values)
    if len(tags) > max_tags:
        raise ValueError(f"at most {max_tags} tags")
    return tags


def lenient_tags(values: Any) -> list[str]:
    """The valid tags among `values`, for records another agent already accepted (events)."""
    tags = []
    for value in values if isinstance(values, (list, tuple)) else []:
        try:
            tags.append(normalize_tag(value))
        except ValueError:
            continue
    return unique_tags(tags)


def unique_tags(tags: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t for t in tags if t))
