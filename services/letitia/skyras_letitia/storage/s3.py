"""Content-addressed objects in an S3-compatible bucket (AWS, MinIO, Supabase).

An upload streams into a multipart upload under `tmp/<random>` (one part of
`s3_part_size` bytes in memory at a time) while it is hashed; it is then
copied server-side to `sha256/ab/cd/<hash>` unless those bytes are already
there, and the temporary object is removed. A failure aborts the multipart
upload, so nothing is left behind.
"""

import contextlib
import hashlib
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from skyras_letitia.config import LetitiaSettings
from skyras_letitia.storage import StoredObject, check_key, key_for

log = logging.getLogger("skyras_letitia.storage.s3")

_READ_CHUNK = 256 * 1024


def _is_missing(exc: ClientError) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    name = "s3"

    def __init__(self, client: Any, bucket: str, part_size: int, stack: AsyncExitStack) -> None:
        self.client = client
        self.bucket = bucket
        self.part_size = part_size
        self._stack = stack

    @classmethod
    async def open(cls, settings: LetitiaSettings) -> "S3Storage":
        if not settings.s3_bucket:
            raise ValueError("SKYRAS_S3_BUCKET is required for the s3 storage backend")
        config = AioConfig(
            s3={"addressing_style": settings.s3_addressing_style},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            # Only send checksums when an operation requires them: MinIO and
            # Supabase do not all accept the newer default trailing checksums.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        stack = AsyncExitStack()
        client = await stack.enter_async_context(
            get_session().create_client(
                "s3",
                endpoint_url=settings.s3_endpoint_url,
                region_name=settings.s3_region,
                aws_access_key_id=(
                    settings.s3_access_key_id.get_secret_value()
                    if settings.s3_access_key_id
                    else None
                ),
                aws_secret_access_key=(
                    settings.s3_secret_access_key.get_secret_value()
                    if settings.s3_secret_access_key
                    else None
                ),
                config=config,
            )
        )
        storage = cls(client, settings.s3_bucket, settings.s3_part_size, stack)
        if settings.s3_create_bucket:
            await storage.ensure_bucket()
        return storage

    async def ensure_bucket(self) -> None:
        try:
            await self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            await self.client.create_bucket(Bucket=self.bucket)

    async def put_stream(self, chunks: AsyncIterable[bytes]) -> StoredObject:
        tmp_key = f"tmp/{uuid.uuid4().hex}"
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                buffer += chunk
                while len(buffer) >= self.part_size:
                    if upload_id is None:
                        created = await self.client.create_multipart_upload(
                            Bucket=self.bucket, Key=tmp_key
                        )
                        upload_id = created["UploadId"]
                    body = bytes(buffer[: self.part_size])
                    del buffer[: self.part_size]
                    parts.append(await self._upload_part(tmp_key, upload_id, len(parts) + 1, body))
            if upload_id is None:
                await self.client.put_object(Bucket=self.bucket, Key=tmp_key, Body=bytes(buffer))
            else:
                if buffer or not parts:
                    parts.append(
                        await self._upload_part(tmp_key, upload_id, len(parts) + 1, bytes(buffer))
                    )
                await self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=tmp_key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
                upload_id = None
            buffer = bytearray()
            sha256 = digest.hexdigest()
            key = key_for(sha256)
            created_new = not await self.exists(key)
            if created_new:
                # Server-side copy: the bytes do not come back through us.
                # (CopyObject handles up to 5 GiB, above the default upload limit.)
                await self.client.copy_object(
                    Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": tmp_key}
                )
            return StoredObject(key=key, size=size, sha256=sha256, created=created_new)
        finally:
            if upload_id is not None:
                with contextlib.suppress(ClientError):
                    await self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=tmp_key, UploadId=upload_id
                    )
            with contextlib.suppress(ClientError):
                await self.client.delete_object(Bucket=self.bucket, Key=tmp_key)

    async def _upload_part(
        self, key: str, upload_id: str, number: int, body: bytes
    ) -> dict[str, Any]:
        response = await self.client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
        return {"PartNumber": number, "ETag": response["ETag"]}

    async def open_stream(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        extra: dict[str, str] = {}
        if start > 0 or end is not None:
            # No Range for the whole object: S3 refuses any range of an empty one.
            extra["Range"] = f"bytes={start}-{'' if end is None else end}"
        response = await self.client.get_object(Bucket=self.bucket, Key=check_key(key), **extra)
        async with response["Body"] as body:
            async for chunk in body.iter_chunks(_READ_CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        await self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    async def exists(self, key: str) -> bool:
        try:
            await self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    async def close(self) -> None:
        await self._stack.aclose()
