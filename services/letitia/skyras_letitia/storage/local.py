"""Content-addressed files under `data_dir/files` (the default backend).

Layout: `tmp/<random>` while an upload streams in, then an atomic rename to
`sha256/ab/cd/<hash>`. Disk I/O runs in worker threads in 1 MiB batches so the
event loop never waits on the disk.
"""

import asyncio
import contextlib
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import BinaryIO

from skyras_letitia.storage import StoredObject, check_key, key_for

_BATCH = 1024 * 1024
_READ_CHUNK = 256 * 1024


class LocalStorage:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.sweep_temporary_files()

    def sweep_temporary_files(self, older_than: float = 24 * 3600) -> int:
        """Remove uploads left half-written by a crash (a live one is younger than this)."""
        removed = 0
        if not self.tmp.is_dir():
            return removed
        cutoff = time.time() - older_than
        for path in self.tmp.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put_stream(self, chunks: AsyncIterable[bytes]) -> StoredObject:
        await asyncio.to_thread(self.tmp.mkdir, parents=True, exist_ok=True)
        tmp_path = self.tmp / uuid.uuid4().hex
        digest = hashlib.sha256()
        size = 0
        handle: BinaryIO = await asyncio.to_thread(open, tmp_path, "xb")
        try:
            try:
                pending = bytearray()
                async for chunk in chunks:
                    pending += chunk
                    size += len(chunk)
                    if len(pending) >= _BATCH:
                        batch, pending = bytes(pending), bytearray()
                        await asyncio.to_thread(_hash_and_write, handle, digest, batch)
                if pending:
                    await asyncio.to_thread(_hash_and_write, handle, digest, bytes(pending))
                await asyncio.to_thread(_flush, handle)
            finally:
                await asyncio.to_thread(handle.close)
            sha256 = digest.hexdigest()
            key = key_for(sha256)
            final = self._path(key)
            created = await asyncio.to_thread(_commit, tmp_path, final)
            return StoredObject(key=key, size=size, sha256=sha256, created=created)
        finally:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(tmp_path.unlink)

    async def open_stream(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self._path(key)
        handle: BinaryIO = await asyncio.to_thread(open, path, "rb")
        try:
            await asyncio.to_thread(handle.seek, start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                want = _READ_CHUNK if remaining is None else min(_READ_CHUNK, remaining)
                chunk = await asyncio.to_thread(handle.read, want)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._path(key).unlink)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def close(self) -> None:
        return None


def _hash_and_write(handle: BinaryIO, digest: "hashlib._Hash", data: bytes) -> None:
    digest.update(data)
    handle.write(data)


def _flush(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _commit(tmp_path: Path, final: Path) -> bool:
    """Move the upload under its hash key; False when those bytes were already there."""
    if final.is_file():
        return False
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp_path, final)
    return True
