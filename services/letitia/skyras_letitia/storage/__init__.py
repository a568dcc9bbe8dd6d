"""Where uploaded bytes live: one interface, a local and an S3-compatible backend.

Who fills it: `local.LocalStorage` (default) and `s3.S3Storage`, chosen by
`open_storage` from the settings. Who reads it: the file routes (upload,
download, delete). Keys are content addresses (`sha256/ab/cd/<hash>`): no user
text ever reaches a path or an object name, and identical bytes are stored
once. `put_stream` writes to a temporary place while hashing and only then
commits under the hash key, so a failed or refused upload leaves nothing.
"""

import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from skyras_letitia.config import LetitiaSettings

_KEY = re.compile(r"^sha256/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}$")


def key_for(sha256: str) -> str:
    """The storage key of the content whose SHA-256 (hex) is given."""
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def check_key(key: str) -> str:
    """Refuse anything that is not a content address (defence in depth for paths)."""
    if not _KEY.match(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str
    # False when identical bytes were already stored (nothing new was written).
    created: bool


class Storage(Protocol):
    name: str

    async def put_stream(self, chunks: AsyncIterable[bytes]) -> StoredObject:
        """Store the bytes, hashing as they pass; an exception from `chunks` leaves nothing."""
        ...

    def open_stream(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes from `start` to `end` (inclusive; None is the last byte)."""
        ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    async def close(self) -> None: ...


async def open_storage(settings: LetitiaSettings) -> Storage:
    """The backend the settings ask for, ready to use; `close()` it at shutdown."""
    if settings.effective_storage_backend == "s3":
        from skyras_letitia.storage import s3

        return await s3.S3Storage.open(settings)
    from skyras_letitia.storage import local

    return local.LocalStorage(settings.files_dir)
