"""What Jamal measures of a release's files, and the rules podcast directories set for them.

Who fills it: nobody (functions). Who reads it: the release and show routes,
which measure the audio and artwork named by Letitia ids before anything is
written, so bad input is refused with a reason and leaves nothing behind.
The rules are Apple Podcasts' published requirements (Spotify's are the same
or looser): artwork a square JPEG or PNG in RGB of 1400 to 3000 pixels a
side; episode audio MP3 or M4A, whose enclosure states its exact length in
bytes and its MIME type.
"""

import asyncio
import io
import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

import mutagen
from PIL import Image, UnidentifiedImageError

from skyras.errors import ApiError
from skyras_jamal.letitia import FileMissing, LetitiaClient

ARTWORK_MIN_PIXELS = 1400
ARTWORK_MAX_PIXELS = 3000
ARTWORK_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
ARTWORK_MODES = frozenset({"RGB", "RGBA"})
ARTWORK_MAX_BYTES = 50 * 1024**2

# Enclosure types the directories accept for audio, by what Letitia sniffed.
PODCAST_AUDIO_TYPES = {
    "audio/mpeg": ("audio/mpeg", "mp3"),
    "audio/mp3": ("audio/mpeg", "mp3"),
    "audio/mp4": ("audio/x-m4a", "m4a"),
    "audio/x-m4a": ("audio/x-m4a", "m4a"),
    "audio/m4a": ("audio/x-m4a", "m4a"),
}


def bad_input(field: str, message: str) -> ApiError:
    return ApiError(422, f"Invalid request: {field}: {message}", details=[{"loc": [field]}])


async def _record(letitia: LetitiaClient, field: str, file_id: UUID) -> dict[str, Any]:
    try:
        return await letitia.get_file(file_id)
    except FileMissing as exc:
        raise bad_input(field, f"Letitia has no stored file {file_id}") from exc


def _duration_of(path: Path) -> float | None:
    try:
        audio = mutagen.File(path)
    except mutagen.MutagenError:
        return None
    length = getattr(getattr(audio, "info", None), "length", None)
    return float(length) if length else None


async def measure_audio(
    letitia: LetitiaClient, file_id: UUID, *, max_bytes: int, field: str = "audio_file_id"
) -> dict[str, Any]:
    """{file_id, filename, content_type, size, duration_seconds} of a Letitia audio file."""
    record = await _record(letitia, field, file_id)
    if record.get("file_type") != "audio":
        raise bad_input(
            field,
            f"{record['filename']} is not audio (Letitia sees {record.get('content_type')})",
        )
    # The duration is read from the bytes themselves, in a job's temporary file.
    with tempfile.TemporaryDirectory(prefix="jamal-audio-") as folder:
        path = Path(folder) / "audio"
        size = 0
        with path.open("wb") as out:
            async for chunk in letitia.read_content(file_id, max_bytes):
                out.write(chunk)
                size += len(chunk)
        duration = await asyncio.to_thread(_duration_of, path)
    if duration is None:
        raise bad_input(field, f"{record['filename']}: cannot read the audio's duration")
    return {
        "file_id": str(file_id),
        "filename": record["filename"],
        "content_type": record.get("content_type") or "application/octet-stream",
        "size": size,
        "duration_seconds": round(duration, 3),
    }


def check_podcast_audio(audio: dict[str, Any], field: str = "audio_file_id") -> tuple[str, str]:
    """(enclosure MIME type, file extension) or a 422 saying what the feed accepts."""
    known = PODCAST_AUDIO_TYPES.get(audio["content_type"])
    if known is None:
        raise bad_input(
            field,
            f"the podcast feed needs MP3 or M4A audio; {audio['filename']} is "
            f"{audio['content_type']}",
        )
    return known


def _inspect_image(data: bytes) -> tuple[str, str, int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.format or "", image.mode, image.width, image.height


async def measure_artwork(
    letitia: LetitiaClient, file_id: UUID, *, field: str = "artwork_file_id"
) -> dict[str, Any]:
    """{file_id, filename, content_type, size, width, height}, checked against the rules."""
    record = await _record(letitia, field, file_id)
    data = bytearray()
    async for chunk in letitia.read_content(file_id, ARTWORK_MAX_BYTES):
        data += chunk
    try:
        fmt, mode, width, height = await asyncio.to_thread(_inspect_image, bytes(data))
    except (UnidentifiedImageError, OSError) as exc:
        raise bad_input(field, f"{record['filename']} is not an image") from exc
    name = record["filename"]
    if fmt not in ARTWORK_FORMATS:
        raise bad_input(field, f"artwork must be JPEG or PNG; {name} is {fmt or 'unknown'}")
    if width != height:
        raise bad_input(field, f"artwork must be square; {name} is {width}x{height}")
    if not ARTWORK_MIN_PIXELS <= width <= ARTWORK_MAX_PIXELS:
        raise bad_input(
            field,
            f"artwork must be {ARTWORK_MIN_PIXELS}x{ARTWORK_MIN_PIXELS} to "
            f"{ARTWORK_MAX_PIXELS}x{ARTWORK_MAX_PIXELS} pixels; {name} is {width}x{height}",
        )
    if mode not in ARTWORK_MODES:
        raise bad_input(field, f"artwork must be in the RGB colour space; {name} is {mode}")
    return {
        "file_id": str(file_id),
        "filename": name,
        "content_type": ARTWORK_FORMATS[fmt],
        "size": len(data),
        "width": width,
        "height": height,
    }
