"""Ari's settings (environment variables prefixed SKYRAS_).

Ari keeps no bytes of its own: sources are read from Letitia over HTTP and
results stored back there, so the one address it needs is Letitia's. A job's
temporary files live under `data_dir/jobs/<job id>/` and go when the job ends.
"""

from pathlib import Path

from pydantic import Field

from skyras.settings import ServiceSettings


class AriSettings(ServiceSettings):
    service_name: str = "ari"
    port: int = Field(default=8003, ge=1, le=65535)

    # Letitia's own address (agent to agent, not through the hub).
    letitia_url: str = "http://127.0.0.1:8002"
    letitia_timeout_seconds: float = Field(default=30.0, gt=0)

    # The bounded worker pool: at most this many jobs run at once in this process
    # (each runs ffmpeg, which uses about one core).
    job_workers: int = Field(default=2, ge=1, le=32)
    # How often an idle worker looks for a queued job.
    job_poll_seconds: float = Field(default=0.5, gt=0)
    # A running job's lease: renewed by its worker; once it lapses (the worker
    # died) another worker reclaims the job and runs it again.
    job_lease_seconds: float = Field(default=30.0, gt=0)
    # A job reclaimed this many times is failed instead of run again.
    job_max_attempts: int = Field(default=3, ge=1)
    # Largest source Ari downloads from Letitia.
    max_source_bytes: int = Field(default=2 * 1024**3, ge=1)

    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"


def get_settings() -> AriSettings:
    return AriSettings()
