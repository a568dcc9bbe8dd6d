"""The S3 backend against an S3 stand-in (moto's server mode): multipart, ranges, cleanup."""

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from skyras_letitia.config import LetitiaSettings
from skyras_letitia.storage import key_for, s3
from tests.standins.s3 import S3StandIn

from .conftest import LetitiaFactory, with_overrides

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3StandIn]:
    with S3StandIn() as server:
        yield server


@pytest.fixture
def s3_env(s3_server: Any) -> dict[str, Any]:
    bucket = f"letitia-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(bucket)
    env = s3_server.env(bucket)
    return {key.removeprefix("SKYRAS_").lower(): value for key, value in env.items()}


async def chunks_of(data: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_s3_storage_streams_multipart_reads_ranges_and_deletes(
    settings: LetitiaSettings, s3_env: dict[str, Any], s3_server: Any
) -> None:
    bucket = s3_env["s3_bucket"]
    storage = await s3.S3Storage.open(with_overrides(settings, **s3_env))
    try:
        big = os.urandom(12 * MIB + 123)  # three parts of the 5 MiB minimum... and a tail
        storage.part_size = 5 * MIB
        stored = await storage.put_stream(chunks_of(big))
        again = await storage.put_stream(chunks_of(big))
        small = await storage.put_stream(chunks_of(b"tiny"))
        empty = await storage.put_stream(chunks_of(b""))

        assert stored.sha256 == hashlib.sha256(big).hexdigest() and stored.size == len(big)
        assert stored.key == key_for(stored.sha256) and stored.created
        assert again.key == stored.key and not again.created
        assert s3_server.keys(bucket) == sorted({stored.key, small.key, empty.key})
        assert s3_server.pending_multipart_uploads(bucket) == 0

        whole = b"".join([c async for c in storage.open_stream(stored.key)])
        middle = b"".join(
            [c async for c in storage.open_stream(stored.key, 5 * MIB - 1, 5 * MIB + 9)]
        )
        nothing = b"".join([c async for c in storage.open_stream(empty.key)])
        assert whole == big and middle == big[5 * MIB - 1 : 5 * MIB + 10] and nothing == b""

        await storage.delete(small.key)
        assert not await storage.exists(small.key) and await storage.exists(stored.key)
    finally:
        await storage.close()


async def test_a_failed_s3_upload_leaves_no_object_and_no_open_multipart_upload(
    settings: LetitiaSettings, s3_env: dict[str, Any], s3_server: Any
) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield os.urandom(6 * MIB)  # one part is already uploaded when the stream fails
        raise ConnectionResetError("client went away")

    storage = await s3.S3Storage.open(with_overrides(settings, **s3_env))
    storage.part_size = 5 * MIB
    try:
        with pytest.raises(ConnectionResetError):
            await storage.put_stream(broken())
    finally:
        await storage.close()
    assert s3_server.keys(s3_env["s3_bucket"]) == []
    assert s3_server.pending_multipart_uploads(s3_env["s3_bucket"]) == 0


async def test_letitia_on_s3_round_trips_an_upload(
    letitia_app: LetitiaFactory, s3_env: dict[str, Any], s3_server: Any
) -> None:
    data = os.urandom(9 * MIB)
    async with (
        letitia_app(**s3_env, s3_part_size=5 * MIB) as served,
        httpx.AsyncClient(base_url=served.url, timeout=60) as client,
    ):
        record = (await client.post("/api/files", files={"file": ("stem.bin", data)})).json()
        download = await client.get(f"/api/files/{record['id']}/content")
        ranged = await client.get(
            f"/api/files/{record['id']}/content", headers={"Range": "bytes=-100"}
        )
        deleted = await client.delete(f"/api/files/{record['id']}")

    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert download.content == data
    assert ranged.status_code == 206 and ranged.content == data[-100:]
    assert deleted.status_code == 204
    assert s3_server.keys(s3_env["s3_bucket"]) == []
