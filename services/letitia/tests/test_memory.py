"""Uploads stream: a 200 MB file through a real Letitia process keeps its memory bounded."""

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from skyras.testing import ServiceProcess

MIB = 1024 * 1024


def peak_rss(pid: int) -> int:
    """VmHWM: the most resident memory the process has ever had, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


async def streamed_upload(client: httpx.AsyncClient, size_mib: int) -> tuple[httpx.Response, str]:
    """A multipart upload generated on the fly (the client never holds the file either)."""
    boundary = "letitia-memory-test"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="huge.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    digest = hashlib.sha256()

    async def body() -> AsyncIterator[bytes]:
        yield head
        for _ in range(size_mib):
            chunk = os.urandom(MIB)
            digest.update(chunk)
            yield chunk
        yield tail

    response = await client.post(
        "/api/files",
        content=body(),
        headers={
            "content-type": f"multipart/form-data; boundary={boundary}",
            "content-length": str(len(head) + size_mib * MIB + len(tail)),
        },
    )
    return response, digest.hexdigest()


async def test_a_200_mb_upload_keeps_the_process_memory_bounded(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    with ServiceProcess(
        "skyras_letitia.main:app",
        {**service_env, "SKYRAS_LOG_FORMAT": "text"},
        log=tmp_path / "letitia.log",
    ) as service:
        assert service.proc is not None
        async with httpx.AsyncClient(base_url=service.url, timeout=120) as client:
            warm, _ = await streamed_upload(client, 4)  # every code path loaded once
            assert warm.status_code == 201, warm.text
            before = peak_rss(service.proc.pid)

            response, sha256 = await streamed_upload(client, 200)
            after_upload = peak_rss(service.proc.pid)

            record = response.json()
            assert response.status_code == 201, response.text
            assert record["sha256"] == sha256 and record["file_size"] == 200 * MIB

            download = hashlib.sha256()
            async with client.stream("GET", f"/api/files/{record['id']}/content") as stream:
                async for chunk in stream.aiter_bytes():
                    download.update(chunk)
            after_download = peak_rss(service.proc.pid)

    print(
        f"peak RSS MiB: before {before / MIB:.1f}, upload {after_upload / MIB:.1f}, download {after_download / MIB:.1f}"
    )
    assert download.hexdigest() == sha256
    # The file is 200 MiB; the process may grow by buffers, never by the file.
    assert after_upload - before < 40 * MIB, (before, after_upload)
    assert after_download - before < 40 * MIB, (before, after_download)
