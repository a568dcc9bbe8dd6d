"""Letitia's request and response schemas, named by role (FileCreate, FilePublic...).

The prototype's payload (`filename, file_type, file_size, tags`) is kept as
is and extended. Normalization lives here so that JSON bodies, form fields
and chat commands all get the same rules.
"""

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from skyras import tags as skyras_tags

FileType = Literal["document", "audio", "image", "video", "other"]
FILE_TYPES: tuple[str, ...] = ("document", "audio", "image", "video", "other")

MAX_TAGS = 50
MAX_TAG_LENGTH = skyras_tags.MAX_TAG_LENGTH
MAX_FILENAME_LENGTH = 255
MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000
MAX_QUERY_LENGTH = 500

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_filename(value: str, *, strip_directories: bool = False) -> str:
    """A safe display name: NFC, trimmed, no control characters, no path separators.

    Uploaded names have any directories removed (browsers and curl may send
    `C:\\Users\\me\\mix.wav`); a name given in JSON must not contain one.
    """
    if not isinstance(value, str):
        raise ValueError("filename must be a string")
    name = unicodedata.normalize("NFC", value)
    if strip_directories:
        name = re.split(r"[/\\]", name)[-1]
    name = name.strip()
    if not name:
        raise ValueError("filename must not be empty")
    if len(name) > MAX_FILENAME_LENGTH:
        raise ValueError(f"filename must be at most {MAX_FILENAME_LENGTH} characters")
    if "/" in name or "\\" in name:
        raise ValueError("filename must not contain path separators")
    if _CONTROL.search(name):
        raise ValueError("filename must not contain control characters")
    if name in {".", ".."}:
        raise ValueError("filename must name a file")
    return name


def normalize_tag(value: Any) -> str:
    return skyras_tags.normalize_tag(value)


def normalize_tags(values: Any) -> list[str]:
    """The shared tag rules (`skyras.tags`), at most MAX_TAGS per file."""
    return skyras_tags.normalize_tags(values, max_tags=MAX_TAGS)


def _clean_text(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    return value


Tags = Annotated[list[str], BeforeValidator(normalize_tags)]
Title = Annotated[str, BeforeValidator(_clean_text), Field(max_length=MAX_TITLE_LENGTH)]
Description = Annotated[str, BeforeValidator(_clean_text), Field(max_length=MAX_DESCRIPTION_LENGTH)]


class FileBase(BaseModel):
    filename: str = Field(min_length=1, max_length=MAX_FILENAME_LENGTH)
    file_type: FileType = "other"
    tags: Tags = Field(default_factory=list)
    title: Title = ""
    description: Description = ""

    @field_validator("filename", mode="before")
    @classmethod
    def _safe_filename(cls, value: Any) -> str:
        return clean_filename(value)


class FileCreate(FileBase):
    """A record from metadata alone (the prototype's JSON call): no bytes are stored."""

    model_config = ConfigDict(extra="forbid")

    file_type: FileType | None = None  # type: ignore[assignment]  # derived from the name when absent
    file_size: int = Field(default=0, ge=0, le=2**63 - 1)
    content_type: str | None = Field(default=None, max_length=255)


class FilePublic(BaseModel):
    id: UUID
    filename: str
    file_type: FileType
    file_size: int
    content_type: str | None
    sha256: str | None
    tags: list[str]
    title: str
    description: str
    uploaded_at: datetime
    updated_at: datetime
    has_content: bool


class FilesPublic(BaseModel):
    items: list[FilePublic]
    next_cursor: str | None = None


class TagsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: Tags = Field(min_length=1)


class FileTaskPublic(BaseModel):
    id: UUID
    title: str
    status: str
    priority: str
    due_date: datetime | None
    tags: list[str]
    reason: str


class FileTasksPublic(BaseModel):
    items: list[FileTaskPublic]


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(default="", max_length=MAX_QUERY_LENGTH)
    limit: int = Field(default=20, ge=1, le=100)
    file_type: FileType | None = None
    tags: Tags = Field(default_factory=list)
    uploaded_after: datetime | None = None
    uploaded_before: datetime | None = None

    @field_validator("query", mode="before")
    @classmethod
    def _clean_query(cls, value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, str):
            # NUL cannot travel to Postgres; other control characters mean nothing here.
            return _CONTROL.sub(" ", unicodedata.normalize("NFC", value)).strip()
        return value

    @field_validator("uploaded_after", "uploaded_before")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("dates must carry a timezone (e.g. 2025-01-31T00:00:00Z)")
        return value


class SearchHit(FilePublic):
    rank: float
    highlight: str


class SearchResults(BaseModel):
    items: list[SearchHit]
    # How many files match: exact when `total_exact`, else an estimate (a
    # common word in a large library is not counted row by row).
    total: int
    total_exact: bool = True
    query: str


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=2000)


class ChatReply(BaseModel):
    agent: Literal["letitia"] = "letitia"
    reply: str
    data: dict[str, Any] = Field(default_factory=dict)
