"""Ari's request and response schemas, named by role (MasterCreate, JobPublic...).

A target is asked for by preset name, by explicit figures, or both (figures
override the preset's). Bounds are what a mastering engineer would accept:
programme loudness from -36 to -5 LUFS, a true-peak ceiling from -9 to 0 dBTP.
Channels and rate left out follow the source (resolved when the job runs).
"""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from skyras_ari.audio.mastering import OUTPUT_FORMATS, SAMPLE_RATES, Target
from skyras_ari.presets import PRESETS, find_preset

OutputFormatName = Literal["wav16", "wav24", "flac", "mp3", "aac"]
JobStatus = Literal["queued", "running", "completed", "failed", "cancelled"]

MIN_LUFS, MAX_LUFS = -36.0, -5.0
MIN_TP, MAX_TP = -9.0, 0.0
MAX_TARGETS = 8


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preset: str | None = Field(default=None, description=f"one of {', '.join(PRESETS)}")
    integrated_lufs: float | None = Field(default=None, ge=MIN_LUFS, le=MAX_LUFS)
    true_peak_dbtp: float | None = Field(default=None, ge=MIN_TP, le=MAX_TP)
    format: OutputFormatName = "wav24"
    sample_rate: int | None = Field(default=None, description="Hz; the source's when left out")
    channels: Literal[1, 2] | None = None

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        if value is None:
            return None
        preset = find_preset(value)
        if preset is None:
            raise ValueError(f"unknown preset {value!r}; presets: {', '.join(PRESETS)}")
        return preset.name

    @field_validator("sample_rate")
    @classmethod
    def _known_rate(cls, value: int | None) -> int | None:
        if value is not None and value not in SAMPLE_RATES:
            raise ValueError(f"sample_rate must be one of {', '.join(map(str, SAMPLE_RATES))}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> "TargetIn":
        if self.preset is None and self.integrated_lufs is None:
            raise ValueError("give a preset or an integrated_lufs target")
        fmt = OUTPUT_FORMATS[self.format]
        if self.sample_rate is not None and self.sample_rate > fmt.max_sample_rate:
            raise ValueError(f"{self.format} goes up to {fmt.max_sample_rate} Hz")
        return self

    def resolve(self, *, key: str, source_channels: int, source_rate: int) -> Target:
        """The concrete target for a source with these channels and rate."""
        fmt = OUTPUT_FORMATS[self.format]
        channels = self.channels or min(source_channels, 2)
        rate = self.sample_rate or source_rate
        if rate not in SAMPLE_RATES or rate > fmt.max_sample_rate:
            rate = 48_000  # the source's rate does not fit the format (or is unusual)
        preset = PRESETS[self.preset] if self.preset else None
        lufs = self.integrated_lufs
        if lufs is None:
            assert preset is not None
            lufs = preset.target_lufs(channels)
        peak = self.true_peak_dbtp
        if peak is None:
            peak = preset.true_peak_dbtp if preset else -1.0
        return Target(
            key=key, preset=self.preset, integrated_lufs=lufs, true_peak_dbtp=peak,
            format=self.format, sample_rate=rate, channels=channels,
        )  # fmt: skip

    def label(self) -> str:
        if self.preset and self.integrated_lufs is None:
            return f"{self.preset}-{self.format}"
        return f"{self.preset or 'custom'}-{self.integrated_lufs:g}lufs-{self.format}"


def target_keys(targets: list[TargetIn]) -> list[str]:
    """A key per target, unique in its job: the preset and format, numbered when repeated."""
    keys: list[str] = []
    for target in targets:
        key, n = target.label(), 1
        while key in keys:
            n += 1
            key = f"{target.label()}-{n}"
        keys.append(key)
    return keys


class MasterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_id: UUID = Field(description="the source file in Letitia")
    targets: list[TargetIn] = Field(default_factory=list, max_length=MAX_TARGETS)
    presets: list[str] = Field(
        default_factory=list, max_length=MAX_TARGETS, description="shorthand: one target each"
    )

    @model_validator(mode="after")
    def _some_target(self) -> "MasterCreate":
        self.targets = [*self.targets, *(TargetIn(preset=p) for p in self.presets)]
        self.presets = []
        if not self.targets:
            raise ValueError("give at least one target (or a preset)")
        if len(self.targets) > MAX_TARGETS:
            raise ValueError(f"at most {MAX_TARGETS} targets in one job")
        return self


class AnalyseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_id: UUID


class JobPublic(BaseModel):
    id: UUID
    source_file_id: UUID
    source_filename: str
    status: JobStatus
    progress: float
    targets: list[dict[str, Any]]
    requested_by: str
    attempts: int
    cancel_requested: bool
    analysis: dict[str, Any] | None
    results: dict[str, Any] | None
    error: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobsPublic(BaseModel):
    items: list[JobPublic]


class PresetPublic(BaseModel):
    name: str
    title: str
    integrated_lufs: float
    mono_integrated_lufs: float | None
    true_peak_dbtp: float
    source: str


class PresetsPublic(BaseModel):
    items: list[PresetPublic]
    formats: list[str]
    sample_rates: list[int]


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=2000)


class ChatReply(BaseModel):
    agent: Literal["ari"] = "ari"
    reply: str
    data: dict[str, Any] = Field(default_factory=dict)
