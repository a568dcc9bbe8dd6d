"""What a file is: its content type sniffed from its first bytes, and its `file_type`.

Who reads it: uploads (sniff the head of the stream) and metadata-only
records (derive `file_type` from the name). The bytes win over the name: a
WAV called `notes.txt` is audio.
"""

import mimetypes

import filetype

# filetype needs at most this many leading bytes to decide.
SNIFF_BYTES = 8192

_DOCUMENT_TYPES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/rtf",
        "application/epub+zip",
        "application/json",
        "application/xml",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)

# Names the standard table lacks or gets wrong on some systems.
_EXTRA_EXTENSIONS = {
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".aiff": "audio/aiff",
    ".aif": "audio/aiff",
    ".ogg": "audio/ogg",
    ".opus": "audio/opus",
    ".wav": "audio/wav",
    ".md": "text/markdown",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".webp": "image/webp",
}


def guess_from_name(filename: str) -> str | None:
    dot = filename.rfind(".")
    if dot > 0:
        extra = _EXTRA_EXTENSIONS.get(filename[dot:].lower())
        if extra:
            return extra
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(head) - 3
    return True


def sniff_content_type(head: bytes, filename: str) -> str:
    """The content type from the leading bytes; the name only breaks ties."""
    by_name = guess_from_name(filename)
    kind = filetype.guess(head) if head else None
    if kind is not None:
        # A .docx is a zip: keep the name's more precise answer within the same family.
        if kind.mime == "application/zip" and by_name and by_name in _DOCUMENT_TYPES:
            return by_name
        return str(kind.mime)
    if _looks_like_text(head):
        if by_name and (by_name.startswith("text/") or by_name in _DOCUMENT_TYPES):
            return by_name
        return "text/plain"
    if not head and by_name:
        return by_name
    return "application/octet-stream"


def file_type_for(content_type: str | None) -> str:
    """document | audio | image | video | other."""
    if not content_type:
        return "other"
    major = content_type.split("/", 1)[0]
    if major in {"audio", "image", "video"}:
        return major
    if major == "text" or content_type in _DOCUMENT_TYPES:
        return "document"
    return "other"


def file_type_from_name(filename: str) -> str:
    return file_type_for(guess_from_name(filename))
