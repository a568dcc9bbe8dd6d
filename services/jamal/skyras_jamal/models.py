"""Jamal's request and response schemas, named by role (Create/Update/Public).

Validation of the body's own fields lives here (titles trimmed, channels
known, categories from Apple's list, times timezone-aware); what needs
Letitia or the database (files exist and meet the feed's rules, the show
exists, a channel is configured) is checked by the routes before any write.
"""

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

Channel = Literal["podcast", "webhook", "bucket"]
CHANNELS: tuple[str, ...] = ("podcast", "webhook", "bucket")
ChannelStatus = Literal["scheduled", "publishing", "published", "failed", "withdrawn"]
ReleaseStatus = Literal["scheduled", "publishing", "published", "failed", "withdrawn", "partial"]

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

# Apple Podcasts' categories (and their subcategories), the list the directories accept.
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing",
                 "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health",
                         "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": ("Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies",
                "Home & Garden", "Video Games"),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": ("Business News", "Daily News", "Entertainment News", "News Commentary", "Politics",
             "Sports News", "Tech News"),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism",
                                "Religion", "Spirituality"),
    "Science": ("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics",
                "Natural Sciences", "Nature", "Physics", "Social Sciences"),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel",
                          "Relationships"),
    "Sports": ("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf",
               "Hockey", "Rugby", "Running", "Soccer", "Swimming", "Tennis", "Volleyball",
               "Wilderness", "Wrestling"),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}  # fmt: skip


def _channels(value: list[str]) -> list[str]:
    seen: list[str] = []
    for name in value:
        channel = name.strip().lower()
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {name!r}; Jamal publishes to {', '.join(CHANNELS)}")
        if channel not in seen:
            seen.append(channel)
    return seen


# ----- shows ----------------------------------------------------------------------


class ShowBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Annotated[Text, StringConstraints(min_length=1)]
    language: str = "en"
    author: Title
    owner_name: Title
    owner_email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=320)]
    explicit: bool = False
    category: str
    subcategory: str | None = None
    artwork_file_id: UUID

    @field_validator("owner_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError("owner_email must be an email address (directories write to it)")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not _LANGUAGE.match(value):
            raise ValueError("language must be an ISO 639 code such as en or en-us")
        return value

    @field_validator("subcategory")
    @classmethod
    def _subcategory(cls, value: str | None, info: Any) -> str | None:
        category = info.data.get("category")
        known = APPLE_CATEGORIES.get(category) if category else None
        if value is not None and known is not None and value not in known:
            choices = ", ".join(known) or "none"
            raise ValueError(f"{value!r} is not a subcategory of {category} ({choices})")
        return value

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in APPLE_CATEGORIES:
            raise ValueError(
                f"{value!r} is not an Apple Podcasts category ({', '.join(APPLE_CATEGORIES)})"
            )
        return value


class ShowCreate(ShowBase):
    slug: str = Field(min_length=1, max_length=80)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("slug must be lowercase words joined by '-', e.g. night-drive")
        return value


class ShowUpdate(BaseModel):
    """Any of ShowBase's fields; the merged show is validated as a whole (`ShowBase`)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    description: str | None = None
    language: str | None = None
    author: str | None = None
    owner_name: str | None = None
    owner_email: str | None = None
    explicit: bool | None = None
    category: str | None = None
    subcategory: str | None = None
    artwork_file_id: UUID | None = None


class ShowPublic(BaseModel):
    id: UUID
    slug: str
    title: str
    description: str
    language: str
    author: str
    owner_name: str
    owner_email: str
    explicit: bool
    category: str
    subcategory: str | None
    artwork: dict[str, Any]
    feed_url: str
    created_at: datetime
    updated_at: datetime


class ShowsPublic(BaseModel):
    items: list[ShowPublic]


# ----- releases -------------------------------------------------------------------


class ReleaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    show: str | None = Field(default=None, description="The show's slug (needed by `podcast`)")
    title: Title
    artist: Title
    description: Text = ""
    explicit: bool = False
    audio_file_id: UUID | None = Field(default=None, description="A Letitia file id")
    artwork_file_id: UUID | None = Field(default=None, description="A Letitia file id")
    publish_at: AwareDatetime | None = Field(
        default=None, description="When to publish (a time in the past, or none, means now)"
    )
    channels: list[str] = Field(min_length=1)

    _check_channels = field_validator("channels")(_channels)


class ReleaseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    artist: Title | None = None
    description: Text | None = None
    explicit: bool | None = None
    audio_file_id: UUID | None = None
    artwork_file_id: UUID | None = None
    publish_at: AwareDatetime | None = None
    channels: list[str] | None = Field(default=None, min_length=1)

    @field_validator("channels")
    @classmethod
    def _check_channels(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _channels(value)


class ChannelPublic(BaseModel):
    channel: Channel
    status: ChannelStatus
    error: str | None
    result: dict[str, Any]
    attempts: int
    published_at: datetime | None
    updated_at: datetime


class ReleasePublic(BaseModel):
    id: UUID
    guid: str
    show: str | None
    title: str
    artist: str
    description: str
    explicit: bool
    audio: dict[str, Any]
    artwork: dict[str, Any]
    publish_at: datetime
    status: ReleaseStatus
    channels: list[ChannelPublic]
    version: int
    created_at: datetime
    updated_at: datetime
    notice: str | None = Field(default=None, description="Something the caller should know")


class ReleasesPublic(BaseModel):
    items: list[ReleasePublic]


class DeliveryPublic(BaseModel):
    id: UUID
    release_id: UUID
    message_id: str
    url: str
    attempt: int
    status_code: int | None
    error: str | None
    duration_ms: int
    delivered_at: datetime


class DeliveriesPublic(BaseModel):
    items: list[DeliveryPublic]


class ChannelInfo(BaseModel):
    channel: Channel
    configured: bool
    description: str
    details: dict[str, Any] = Field(default_factory=dict)


class ChannelsPublic(BaseModel):
    items: list[ChannelInfo]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class ChatResponse(BaseModel):
    reply: str
    action: str
    data: dict[str, Any] = Field(default_factory=dict)
