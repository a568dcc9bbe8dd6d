"""The bucket channel: a release's audio and artwork copied to an S3-compatible bucket.

Who fills it: `main` opens a `BucketPublisher` at startup when SKYRAS_S3_BUCKET
is set (`app.state.bucket`, else None). Who reads it: the scheduler's bucket
publisher. Objects go under `releases/<release id>/` with names that never
carry user text; the public URLs are `s3_public_url` (a CDN, or the bucket's
own address) plus the key. Making them readable is the bucket's policy, not
a per-object ACL (many providers turn ACLs off).
"""

import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from uuid import UUID

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from skyras_jamal import podcast
from skyras_jamal.config import JamalSettings
from skyras_jamal.letitia import LetitiaClient


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value else None


class BucketPublisher:
    def __init__(
        self, client: Any, settings: JamalSettings, letitia: LetitiaClient, stack: AsyncExitStack
    ) -> None:
        self.client = client
        self.bucket = settings.s3_bucket
        self.public_base = settings.bucket_public_base
        self.max_bytes = settings.max_audio_bytes
        self.letitia = letitia
        self._stack = stack

    @classmethod
    async def open(cls, settings: JamalSettings, letitia: LetitiaClient) -> "BucketPublisher":
        stack = AsyncExitStack()
        client = await stack.enter_async_context(
            get_session().create_client(
                "s3",
                endpoint_url=settings.s3_endpoint_url,
                region_name=settings.s3_region,
                aws_access_key_id=_secret(settings.s3_access_key_id),
                aws_secret_access_key=_secret(settings.s3_secret_access_key),
                config=AioConfig(
                    s3={"addressing_style": settings.s3_addressing_style},
                    retries={"max_attempts": 3, "mode": "standard"},
                    # Checksums only where required: not every S3-compatible server takes them.
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                ),
            )
        )
        return cls(client, settings, letitia, stack)

    async def close(self) -> None:
        await self._stack.aclose()

    async def _copy(self, file_id: UUID, key: str, content_type: str) -> str:
        # Through a job's temporary file: S3 wants the length up front, memory stays flat.
        with tempfile.TemporaryDirectory(prefix="jamal-bucket-") as folder:
            path = Path(folder) / "object"
            with path.open("wb") as out:
                async for chunk in self.letitia.read_content(file_id, self.max_bytes):
                    out.write(chunk)
            with path.open("rb") as body:
                await self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentLength=path.stat().st_size,
                    ContentType=content_type,
                )
        return f"{self.public_base}/{key}"

    async def publish(self, release: dict[str, Any]) -> dict[str, Any]:
        """Upload (or overwrite: re-running is harmless) both files; returns their public URLs."""
        audio, artwork = release["audio"], release["artwork"]
        _, mime = podcast.audio_media("", audio)
        audio_name = podcast.audio_media("", audio)[0].rsplit("/", 1)[-1]
        cover_name = podcast.artwork_url("", artwork).rsplit("/", 1)[-1]
        prefix = f"releases/{release['id']}"
        return {
            "bucket": self.bucket,
            "audio_url": await self._copy(UUID(audio["file_id"]), f"{prefix}/{audio_name}", mime),
            "artwork_url": await self._copy(
                UUID(artwork["file_id"]), f"{prefix}/{cover_name}", artwork["content_type"]
            ),
        }
