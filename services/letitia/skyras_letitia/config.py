"""Letitia's settings (environment variables prefixed SKYRAS_).

Every integration is off until configured: storage is the local filesystem
under `data_dir/files` unless an S3 bucket is named, and search is Postgres
unless a Meilisearch URL is given.
"""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from skyras.settings import ServiceSettings


class LetitiaSettings(ServiceSettings):
    service_name: str = "letitia"
    port: int = Field(default=8002, ge=1, le=65535)

    # Uploads larger than this are refused with 413 and nothing is kept.
    max_upload_bytes: int = Field(default=2 * 1024**3, ge=1)

    # Storage: "local" (default) or "s3"; unset means s3 exactly when a bucket is named.
    storage_backend: Literal["local", "s3"] | None = None
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    # MinIO and Supabase's S3 endpoint want path-style URLs.
    s3_addressing_style: Literal["path", "virtual", "auto"] = "path"
    s3_create_bucket: bool = False
    # Parts of a streamed multipart upload; S3 needs at least 5 MiB per part.
    s3_part_size: int = Field(default=8 * 1024**2, ge=5 * 1024**2)

    # Search: Postgres full-text search unless a Meilisearch URL is given.
    meilisearch_url: str | None = None
    meilisearch_api_key: SecretStr | None = None
    meilisearch_index: str = "files"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def effective_storage_backend(self) -> Literal["local", "s3"]:
        if self.storage_backend is not None:
            return self.storage_backend
        return "s3" if self.s3_bucket else "local"


def get_settings() -> LetitiaSettings:
    return LetitiaSettings()
