"""Giorgio's request and response schemas (GenerateRequest, GenerationPublic...).

Validation happens here, at the edge, before anything is written: titles
1-200 characters, palettes and variants by name, extra sizes within bounds.
Whether the fonts can draw every character is checked by
`generations.check_request` (it needs the configured font folders).
"""

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from skyras_giorgio import specs
from skyras_giorgio.copytext import PLATFORMS
from skyras_giorgio.palettes import DEFAULT_PALETTE, PALETTES

Kind = Literal["artwork", "copy", "release_kit"]
KINDS: tuple[str, ...] = ("artwork", "copy", "release_kit")
Status = Literal["queued", "running", "succeeded", "failed"]

MAX_TITLE_LENGTH = 200
MAX_ARTIST_LENGTH = 100
MAX_SEED = 2**32 - 1

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean(value: Any) -> Any:
    """NFC, trimmed, runs of whitespace as one space; control characters refused."""
    if isinstance(value, str):
        text = unicodedata.normalize("NFC", value)
        if _CONTROL.search(text.replace("\n", " ").replace("\t", " ")):
            raise ValueError("must not contain control characters")
        return " ".join(text.split())
    return value


def _clean_block(value: Any) -> Any:
    """Like `_clean`, but paragraphs (newlines) are kept."""
    if isinstance(value, str):
        text = unicodedata.normalize("NFC", value).replace("\r\n", "\n")
        if _CONTROL.search(text.replace("\n", " ").replace("\t", " ")):
            raise ValueError("must not contain control characters")
        return "\n".join(" ".join(line.split()) for line in text.strip().split("\n"))
    return value


Line = Annotated[str, BeforeValidator(_clean)]


class Release(BaseModel):
    """What the artwork and copy are made from (a release's metadata)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_TITLE_LENGTH), BeforeValidator(_clean)
    ]
    artist: Annotated[
        str, StringConstraints(max_length=MAX_ARTIST_LENGTH), BeforeValidator(_clean)
    ] = ""
    description: Annotated[
        str, StringConstraints(max_length=2000), BeforeValidator(_clean_block)
    ] = ""
    genre: Annotated[str, StringConstraints(max_length=50), BeforeValidator(_clean)] = ""
    label: Annotated[str, StringConstraints(max_length=100), BeforeValidator(_clean)] = ""
    release_date: date | None = None
    tracks: list[
        Annotated[str, StringConstraints(min_length=1, max_length=200), BeforeValidator(_clean)]
    ] = Field(default_factory=list, max_length=50)
    link: Annotated[str, Field(max_length=500, pattern=r"^https?://\S+$")] | None = None
    hashtags: list[Annotated[str, Field(pattern=r"^#?\w{1,50}$")]] = Field(
        default_factory=list, max_length=10
    )


class ExtraSize(BaseModel):
    model_config = ConfigDict(extra="forbid")

    width: int = Field(ge=specs.MIN_SIDE, le=specs.MAX_SIDE)
    height: int = Field(ge=specs.MIN_SIDE, le=specs.MAX_SIDE)

    @model_validator(mode="after")
    def _aspect(self) -> "ExtraSize":
        ratio = max(self.width, self.height) / min(self.width, self.height)
        if ratio > specs.MAX_ASPECT:
            raise ValueError(f"the aspect ratio may be at most {specs.MAX_ASPECT:g}:1")
        return self


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind = "release_kit"
    release: Release
    palette: str = DEFAULT_PALETTE
    # Unset: derived from the title and artist, so the same release gets the same cover.
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    variants: list[str] = Field(
        default_factory=lambda: list(specs.DEFAULT_VARIANTS), max_length=len(specs.VARIANTS)
    )
    extra_sizes: list[ExtraSize] = Field(default_factory=list, max_length=specs.MAX_EXTRA_SIZES)
    platforms: list[str] = Field(default_factory=lambda: list(PLATFORMS), max_length=len(PLATFORMS))
    task_id: UUID | None = None
    release_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    # False: deterministic generators even when a model endpoint is configured.
    use_model: bool = True

    @field_validator("palette")
    @classmethod
    def _known_palette(cls, value: str) -> str:
        name = value.strip().lower()
        if name not in PALETTES:
            raise ValueError(f"unknown palette {value!r}; choose one of {', '.join(PALETTES)}")
        return name

    @field_validator("variants")
    @classmethod
    def _known_variants(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in specs.VARIANTS]
        if unknown:
            raise ValueError(
                f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(specs.VARIANTS)}"
            )
        return list(dict.fromkeys(value))

    @field_validator("platforms")
    @classmethod
    def _known_platforms(cls, value: list[str]) -> list[str]:
        unknown = [p for p in value if p not in PLATFORMS]
        if unknown:
            raise ValueError(
                f"unknown platform(s) {', '.join(unknown)}; choose from {', '.join(PLATFORMS)}"
            )
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _something_to_make(self) -> "GenerateRequest":
        if self.kind != "copy" and not self.variants and not self.extra_sizes:
            raise ValueError("artwork needs at least one variant or extra size")
        return self

    @property
    def wants_artwork(self) -> bool:
        return self.kind in ("artwork", "release_kit")

    @property
    def wants_copy(self) -> bool:
        return self.kind in ("copy", "release_kit")


class OutputPublic(BaseModel):
    """One stored result: an image variant or a copy document, kept in Letitia."""

    name: str
    file_id: UUID
    filename: str
    content_type: str
    bytes: int
    sha256: str
    details: dict[str, Any] = Field(default_factory=dict)


class GenerationPublic(BaseModel):
    id: UUID
    kind: Kind
    status: Status
    task_id: UUID | None
    release_id: str | None
    params: dict[str, Any]
    # Where each part came from: "deterministic" or "model", and why a model was not used.
    sources: dict[str, str]
    fallbacks: list[str]
    outputs: list[OutputPublic]
    copy_text: dict[str, Any] = Field(serialization_alias="copy", validation_alias="copy")
    error: str | None
    attempts: int
    created_at: datetime
    finished_at: datetime | None

    model_config = ConfigDict(populate_by_name=True)


class GenerationsPublic(BaseModel):
    items: list[GenerationPublic]
    next_cursor: str | None = None


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=2000)


class ChatReply(BaseModel):
    agent: Literal["giorgio"] = "giorgio"
    reply: str
    data: dict[str, Any] = Field(default_factory=dict)
