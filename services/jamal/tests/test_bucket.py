"""The bucket channel against the S3 stand-in: the files land there, at the public URLs given."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.rows import DictRow

from tests.standins.s3 import S3StandIn

from .conftest import SHOW, StudioFactory, count


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3StandIn]:
    with S3StandIn() as server:
        yield server


async def test_audio_and_artwork_are_published_to_the_bucket_with_public_urls(
    studio_factory: StudioFactory,
    s3_server: S3StandIn,
    episode_mp3: Path,
    cover_jpg: bytes,
    db: psycopg.AsyncConnection[DictRow],
) -> None:
    bucket = f"releases-{uuid.uuid4().hex[:8]}"
    s3_server.create_bucket(bucket)
    # Public reads are the bucket's policy (as on AWS, MinIO), not per-object ACLs.
    s3_server.client().put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{bucket}/*"}],
    }))  # fmt: skip
    env = {k.removeprefix("SKYRAS_").lower(): v for k, v in s3_server.env(bucket).items()}
    async with studio_factory(**env) as studio:
        cover = await studio.upload("cover.jpg", cover_jpg)
        audio = await studio.upload("mix.mp3", episode_mp3.read_bytes())
        await studio.create_show(cover["id"])
        release = (await studio.http.post("/api/releases", json={
            "show": SHOW["slug"], "title": "Night Drive", "artist": "The Night Shift",
            "audio_file_id": audio["id"], "artwork_file_id": cover["id"],
            "channels": ["podcast", "bucket"],
        })).json()  # fmt: skip
        published = await studio.wait_status(release["id"], "published")
        channels = (await studio.http.get("/api/channels")).json()["items"]

    bucket_channel = next(c for c in published["channels"] if c["channel"] == "bucket")
    result = bucket_channel["result"]
    prefix = f"releases/{release['id']}"
    assert s3_server.keys(bucket) == [f"{prefix}/cover.jpg", f"{prefix}/episode.mp3"]
    assert result["audio_url"] == f"{s3_server.url}/{bucket}/{prefix}/episode.mp3"
    # The public URLs serve the bytes to anyone, without credentials.
    async with httpx.AsyncClient() as http:
        got = await http.get(result["audio_url"])
        assert got.content == episode_mp3.read_bytes()
        assert got.headers["content-type"] == "audio/mpeg"
        assert (await http.get(result["artwork_url"])).content == cover_jpg
    assert next(c for c in channels if c["channel"] == "bucket")["configured"] is True
    assert await count(db, "events", "type = 'release.published'") == 2
