"""Multipart uploads: streamed to storage, hashed, sniffed, limited, stored once; downloads."""

import asyncio
import hashlib
import os
import struct
from pathlib import Path

import httpx

from skyras.testing import ServedApp
from skyras_letitia.config import LetitiaSettings

from .conftest import LetitiaFactory
from .utils import count, stored_objects


def wav_bytes(size: int, seed: bytes = b"") -> bytes:
    """A RIFF/WAVE header followed by noise: sniffed as audio whatever its name says."""
    header = (
        b"RIFF"
        + struct.pack("<I", size - 8)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 2, 44100, 44100 * 4, 4, 16)
        + b"data"
        + struct.pack("<I", size - 44)
    )
    body = (seed + os.urandom(64)) * ((size - len(header)) // (len(seed) + 64) + 1)
    return header + body[: size - len(header)]


async def upload(
    client: httpx.AsyncClient, name: str, data: bytes, **fields: str | list[str]
) -> httpx.Response:
    return await client.post(
        "/api/files", files={"file": (name, data, "application/octet-stream")}, data=fields
    )


async def test_a_20_mb_upload_comes_back_byte_identical_with_its_sha256(
    letitia: ServedApp, settings: LetitiaSettings
) -> None:
    data = wav_bytes(20 * 1024 * 1024)
    async with httpx.AsyncClient(base_url=letitia.url, timeout=60) as client:
        response = await upload(
            client,
            "C:\\Users\\ras\\Mixes\\Final Mix.txt",
            data,
            tags=["Final, mix", "stems"],
            title="  Final mix  ",
            description="Bounced from the session",
        )
        record = response.json()
        download = await client.get(f"/api/files/{record['id']}/content")

    assert response.status_code == 201, response.text
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["file_size"] == len(data) and record["has_content"] is True
    # Directories stripped from the name; the bytes (RIFF/WAVE) decide the type, not ".txt".
    assert record["filename"] == "Final Mix.txt"
    assert record["file_type"] == "audio" and record["content_type"].startswith("audio/")
    assert record["tags"] == ["final", "mix", "stems"]
    assert record["title"] == "Final mix" and record["description"] == "Bounced from the session"
    assert download.status_code == 200 and download.content == data
    assert download.headers["etag"] == f'"{record["sha256"]}"'
    assert download.headers["content-length"] == str(len(data))
    # Content-addressed: no user text in the stored path, nothing left in tmp/.
    [stored] = stored_objects(settings)
    sha = record["sha256"]
    assert stored.relative_to(settings.files_dir) == Path("sha256", sha[:2], sha[2:4], sha)


async def test_identical_content_is_stored_once_and_deleted_when_unreferenced(
    letitia: ServedApp, settings: LetitiaSettings, database_url: str
) -> None:
    data = b"%PDF-1.4\n" + os.urandom(300_000)
    async with letitia.client() as client:
        first = (await upload(client, "brief.pdf", data)).json()
        second = (await upload(client, "brief-copy.pdf", data)).json()
        other = (await upload(client, "other.pdf", b"%PDF-1.4\n" + os.urandom(1000))).json()
        assert first["sha256"] == second["sha256"] and first["id"] != second["id"]
        assert first["file_type"] == "document" and first["content_type"] == "application/pdf"
        assert len(stored_objects(settings)) == 2

        await client.delete(f"/api/files/{first['id']}")
        still = await client.get(f"/api/files/{second['id']}/content")
        assert still.content == data and len(stored_objects(settings)) == 2

        await client.delete(f"/api/files/{second['id']}")
        assert len(stored_objects(settings)) == 1
        await client.delete(f"/api/files/{other['id']}")
    assert stored_objects(settings) == []
    assert count(database_url, "SELECT count(*) FROM files") == 0


async def test_ranges_head_and_download_headers(letitia: ServedApp) -> None:
    data = bytes(range(256)) * 40  # 10240 bytes
    async with letitia.client() as client:
        record = (await upload(client, "Mixdown \u2013 été №1.bin", data)).json()
        url = f"/api/files/{record['id']}/content"
        head = await client.head(url)
        middle = await client.get(url, headers={"Range": "bytes=100-199"})
        tail = await client.get(url, headers={"Range": "bytes=-10"})
        open_end = await client.get(url, headers={"Range": "bytes=10000-"})
        past_end = await client.get(url, headers={"Range": "bytes=10240-"})
        clamped = await client.get(url, headers={"Range": "bytes=10200-99999"})
        several = await client.get(url, headers={"Range": "bytes=0-1,5-6"})
        stale_if_range = await client.get(
            url, headers={"Range": "bytes=0-9", "If-Range": '"not-the-etag"'}
        )
        not_modified = await client.get(url, headers={"If-None-Match": f'"{record["sha256"]}"'})
        metadata_only = (await client.post("/api/files", json={"filename": "x.wav"})).json()
        no_bytes = await client.get(f"/api/files/{metadata_only['id']}/content")

    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == "10240" and head.headers["accept-ranges"] == "bytes"
    assert head.headers["content-disposition"] == (
        'attachment; filename="Mixdown _ _t_ _1.bin"; '
        "filename*=UTF-8''Mixdown%20%E2%80%93%20%C3%A9t%C3%A9%20%E2%84%961.bin"
    )
    assert middle.status_code == 206 and middle.content == data[100:200]
    assert middle.headers["content-range"] == "bytes 100-199/10240"
    assert tail.status_code == 206 and tail.content == data[-10:]
    assert open_end.content == data[10000:]
    assert past_end.status_code == 416
    assert past_end.headers["content-range"] == "bytes */10240"
    assert past_end.json()["error"]["code"] == "range_not_satisfiable"
    assert clamped.status_code == 206 and clamped.content == data[10200:]
    assert several.status_code == 200 and several.content == data
    assert stale_if_range.status_code == 200 and stale_if_range.content == data
    assert not_modified.status_code == 304
    assert no_bytes.status_code == 404 and no_bytes.json()["error"]["code"] == "no_content"


async def test_an_upload_over_the_limit_is_413_and_leaves_nothing(
    letitia_app: LetitiaFactory, settings: LetitiaSettings, database_url: str
) -> None:
    async with letitia_app(max_upload_bytes=1024 * 1024) as served, served.client() as client:
        too_big = await upload(client, "big.wav", wav_bytes(2 * 1024 * 1024))
        exactly = await upload(client, "ok.wav", wav_bytes(1024 * 1024))

    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "payload_too_large"
    assert too_big.json()["error"]["details"] == {"max_upload_bytes": 1024 * 1024}
    assert exactly.status_code == 201
    assert count(database_url, "SELECT count(*) FROM files") == 1
    assert count(database_url, "SELECT count(*) FROM events") == 1
    assert len(stored_objects(settings)) == 1  # the accepted one; no temporary file left


async def test_bad_multipart_bodies_are_refused_and_store_nothing(
    letitia: ServedApp, settings: LetitiaSettings, database_url: str
) -> None:
    async with letitia.client() as client:
        no_file = await client.post("/api/files", files={"title": (None, "just a title")})
        bad_name = await upload(client, "dir/", b"data")
        bad_tags = await upload(client, "a.wav", b"data", tags="x" * 60)
        truncated = await client.post(
            "/api/files",
            content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
            headers={"content-type": "multipart/form-data; boundary=b"},
        )
        no_boundary = await client.post(
            "/api/files", content=b"x", headers={"content-type": "multipart/form-data"}
        )

    assert no_file.status_code == 422 and "file" in no_file.json()["error"]["message"]
    assert bad_name.status_code == 422
    assert bad_tags.status_code == 422 and "tags" in bad_tags.json()["error"]["message"]
    assert truncated.status_code == 400 and truncated.json()["error"]["code"] == "bad_multipart"
    assert no_boundary.status_code == 400
    assert count(database_url, "SELECT count(*) FROM files") == 0
    assert stored_objects(settings) == []


async def test_a_client_that_goes_away_mid_upload_leaves_nothing(
    letitia: ServedApp, settings: LetitiaSettings, database_url: str
) -> None:
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="cut.wav"\r\n\r\n'
    _, writer = await asyncio.open_connection("127.0.0.1", letitia.port)
    writer.write(
        b"POST /api/files HTTP/1.1\r\nHost: letitia\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\n"
        b"Content-Length: 10000000\r\n\r\n" + head + os.urandom(3 * 1024 * 1024)
    )
    await writer.drain()
    tmp = settings.files_dir / "tmp"
    saw_temporary_file = False
    for _ in range(200):  # wait until the server is writing the upload
        if tmp.is_dir() and any(tmp.iterdir()):
            saw_temporary_file = True
            break
        await asyncio.sleep(0.02)
    assert saw_temporary_file
    writer.close()
    await writer.wait_closed()
    for _ in range(100):
        if not stored_objects(settings):
            break
        await asyncio.sleep(0.05)

    assert stored_objects(settings) == []
    assert count(database_url, "SELECT count(*) FROM files") == 0


async def test_a_browser_style_mixed_case_boundary_is_accepted(letitia: ServedApp) -> None:
    boundary = "----WebKitFormBoundaryAbCdEf0123XyZ"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="Take 2.wav"\r\n'
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        + wav_bytes(4096)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    async with httpx.AsyncClient(base_url=letitia.url, timeout=30) as client:
        response = await client.post(
            "/api/files",
            content=body,
            headers={"content-type": f"Multipart/Form-Data; boundary={boundary}"},
        )

    assert response.status_code == 201, response.text
    assert response.json()["filename"] == "Take 2.wav"
    assert response.json()["file_size"] == 4096


async def test_an_upload_naming_a_task_is_linked_to_it_and_an_unknown_task_writes_nothing(
    letitia: ServedApp, settings: LetitiaSettings, database_url: str
) -> None:
    import uuid

    import psycopg

    task_id = uuid.uuid4()
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO tasks (id, title) VALUES (%s, 'Cover for Night Drive')", (task_id,)
        )
    async with httpx.AsyncClient(base_url=letitia.url, timeout=30) as client:
        linked = await upload(client, "cover.jpg", b"\xff\xd8\xff\xe0cover", task_id=str(task_id))
        tasks = await client.get(f"/api/files/{linked.json()['id']}/tasks")
        unknown = await upload(
            client, "other.jpg", b"\xff\xd8\xff\xe0other", task_id=str(uuid.uuid4())
        )
        malformed = await upload(client, "other.jpg", b"\xff\xd8\xff\xe0other", task_id="tomorrow")

    assert linked.status_code == 201, linked.text
    assert [(t["id"], t["reason"]) for t in tasks.json()["items"]] == [
        (str(task_id), "uploaded for this task")
    ]
    assert count(database_url, "SELECT count(*) FROM events WHERE type = 'file.associated'") == 1
    for refused in (unknown, malformed):
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["message"].startswith("Invalid request: task_id:")
    assert count(database_url, "SELECT count(*) FROM files") == 1
    assert len(stored_objects(settings)) == 1
