"""Ari's chat: deterministic understanding of audio-finishing requests (no model needed).

Understood:
- "master mix_v3.wav for streaming and podcast" (presets by name or alias:
  spotify, apple music, podcast, ebu r128 / broadcast, atsc a/85; formats:
  "as mp3", "in flac", "16-bit wav", "aac"); no preset means streaming
- "how loud is mix_v3.wav" / "analyse mix_v3.wav" (the figures, now)
- "status" / "jobs" (the latest jobs) and "presets"
Anything else gets a reply with examples. Files are found by exact name in
Letitia, newest first.
"""

import re
from typing import Any

from skyras.db import Pool
from skyras.errors import ApiError
from skyras_ari import jobs, store
from skyras_ari.config import AriSettings
from skyras_ari.letitia import LetitiaClient
from skyras_ari.models import ChatReply, MasterCreate, TargetIn
from skyras_ari.presets import DEFAULT_PRESET, PRESETS

_FILE = re.compile(
    r"""["']([^"']+\.(?:wav|flac|aiff?|mp3|m4a|aac|ogg|opus))["']"""
    r"|([\w.\-()]+\.(?:wav|flac|aiff?|mp3|m4a|aac|ogg|opus))\b",
    re.IGNORECASE,
)
_MASTER = re.compile(r"\b(?:master|mastering|finish|bounce|normali[sz]e)\b", re.IGNORECASE)
_ANALYSE = re.compile(
    r"\b(?:analy[sz]e|measure|how\s+loud|loudness\s+of|lufs\s+of|check)\b", re.IGNORECASE
)
_STATUS = re.compile(r"\b(?:status|jobs?|progress|queue)\b", re.IGNORECASE)
_PRESETS = re.compile(r"\bpresets?\b", re.IGNORECASE)

# Words for presets, longest first so "apple music" wins over "apple".
_PRESET_WORDS = [
    (r"apple\s*music|apple", "apple_music"),
    (r"ebu(?:\s*r\s*128)?|r128|broadcast|tv", "ebu_r128"),
    (r"atsc(?:\s*a\s*/?\s*85)?|a/?85", "atsc_a85"),
    (r"podcasts?", "podcast"),
    (r"streaming|spotify|youtube|tidal|stream", "streaming"),
]
_FORMAT_WORDS = [
    (r"16[- ]?bit", "wav16"),
    (r"24[- ]?bit|wav", "wav24"),
    (r"flac", "flac"),
    (r"mp3", "mp3"),
    (r"aac|m4a", "aac"),
]

EXAMPLES = (
    'Try "master mix_v3.wav for streaming and podcast", "master vocals.wav for ebu r128 as '
    'flac", "how loud is mix_v3.wav", "status" or "presets".'
)


def _presets_in(text: str) -> list[str]:
    found: list[tuple[int, str]] = []
    for pattern, name in _PRESET_WORDS:
        for match in re.finditer(rf"\b(?:{pattern})\b", text, re.IGNORECASE):
            if name not in [n for _, n in found]:
                found.append((match.start(), name))
    return [name for _, name in sorted(found)]


def _format_in(text: str) -> str:
    for pattern, fmt in _FORMAT_WORDS:
        if re.search(rf"\b(?:as|in|to|into)\s+(?:an?\s+)?(?:{pattern})\b", text, re.IGNORECASE):
            return fmt
    return "wav24"


def _filename_in(text: str) -> str | None:
    match = _FILE.search(text)
    return (match[1] or match[2]) if match else None


async def _find(letitia: LetitiaClient, filename: str) -> dict[str, Any] | None:
    return await letitia.find_by_name(filename)


async def answer(
    message: str, *, pool: Pool, letitia: LetitiaClient, settings: AriSettings
) -> ChatReply:
    text = message.strip()
    filename = _filename_in(text)
    if filename and _MASTER.search(text):
        return await _master(text, filename, pool=pool, letitia=letitia, settings=settings)
    if filename and _ANALYSE.search(text):
        return await _analyse(filename, letitia=letitia, settings=settings)
    if _PRESETS.search(text):
        lines = [f"{p.name}: {p.integrated_lufs:g} LUFS, {p.true_peak_dbtp:g} dBTP ({p.title})"
                 for p in PRESETS.values()]  # fmt: skip
        return ChatReply(reply="Presets:\n" + "\n".join(lines), data={"presets": list(PRESETS)})
    if _STATUS.search(text):
        async with pool.connection() as conn:
            rows = await store.list_jobs(conn=conn, limit=5)
        if not rows:
            return ChatReply(reply="No mastering jobs yet.", data={"jobs": []})
        lines = [f"{r['source_filename']}: {r['status']} ({round(float(r['progress']) * 100)}%)"
                 for r in rows]  # fmt: skip
        return ChatReply(reply="Latest jobs:\n" + "\n".join(lines),
                         data={"jobs": [store.job_json(r) for r in rows]})  # fmt: skip
    if filename:
        return ChatReply(reply=f"What should I do with {filename}? {EXAMPLES}")
    return ChatReply(reply=f"I master and measure audio. {EXAMPLES}")


async def _master(
    text: str, filename: str, *, pool: Pool, letitia: LetitiaClient, settings: AriSettings
) -> ChatReply:
    record = await _find(letitia, filename)
    if record is None:
        return ChatReply(reply=f"I can't find {filename} in the library.")
    rest = text.replace(filename, " ")
    presets = _presets_in(rest) or [DEFAULT_PRESET]
    fmt = _format_in(rest)
    request = MasterCreate(
        file_id=record["id"],
        targets=[TargetIn(preset=p, format=fmt) for p in presets],  # type: ignore[arg-type]
    )
    try:
        row = await jobs.start_job(
            pool=pool, letitia=letitia, settings=settings, request=request, requested_by="chat"
        )
    except ApiError as exc:
        return ChatReply(reply=f"I can't master {filename}: {exc.message}",
                         data={"error": {"code": exc.code, "message": exc.message}})  # fmt: skip
    names = " and ".join(PRESETS[p].title for p in presets)
    return ChatReply(
        reply=f"Mastering {record['filename']} for {names} as {fmt} (job {row['id']}).",
        data={"job": store.job_json(row)},
    )


async def _analyse(filename: str, *, letitia: LetitiaClient, settings: AriSettings) -> ChatReply:
    record = await _find(letitia, filename)
    if record is None:
        return ChatReply(reply=f"I can't find {filename} in the library.")
    try:
        figures = await jobs.measure_file(letitia=letitia, settings=settings, file_id=record["id"])
    except ApiError as exc:
        return ChatReply(reply=f"I can't measure {filename}: {exc.message}",
                         data={"error": {"code": exc.code, "message": exc.message}})  # fmt: skip
    if figures["silent"]:
        return ChatReply(reply=f"{filename} is silent.", data={"analysis": figures})
    reply = (
        f"{filename}: {figures['integrated_lufs']:.1f} LUFS integrated, "
        f"LRA {figures['loudness_range_lu']:.1f} LU, true peak {figures['true_peak_dbtp']:.1f} "
        f"dBTP, sample peak {figures['sample_peak_dbfs']:.1f} dBFS, "
        f"{figures['clipped_samples']} clipped samples, {figures['duration_seconds']:.1f} s, "
        f"{figures['channels']} ch at {figures['sample_rate']} Hz."
    )
    return ChatReply(reply=reply, data={"analysis": figures})
