"""Measuring audio as a mastering engineer does, and refusing what is not audio.

`analyse(path)` probes the file (ffprobe: container, codec, channels, rate,
duration), then decodes it once through ffmpeg's `ebur128` meter (ITU-R
BS.1770-4 / EBU R 128: integrated loudness, loudness range, sample peak and
the 4x oversampled true peak) while counting clipped samples in the decoded
stream. The integrated loudness, its gating threshold, the range and the true
peak are also what loudnorm's second pass needs (`mastering.py`).
"""

import asyncio
import math
import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from skyras.errors import ApiError
from skyras_ari.audio import ffmpeg as ff

# Containers and codecs Ari accepts (ffprobe's names), and how people call them.
SUPPORTED_FORMATS: dict[str, str] = {
    "wav": "WAV",
    "flac": "FLAC",
    "aiff": "AIFF",
    "mp3": "MP3",
    "mov,mp4,m4a,3gp,3g2,mj2": "AAC/M4A",
    "aac": "AAC (ADTS)",
    "ogg": "OGG",
}
SUPPORTED_FORMATS_MP4 = "mov,mp4,m4a,3gp,3g2,mj2"
SUPPORTED_CODECS = {"flac", "mp3", "aac", "opus", "vorbis"}  # plus every pcm_* codec

# A decoded sample at (or past) the largest positive 16-bit value counts as clipped.
CLIP_LEVEL = 32767 / 32768
# ebur128 reports this (its absolute gate) when nothing is loud enough to measure.
SILENCE_LUFS = -70.0
READ_CHUNK = 1 << 20


class AudioInputError(ApiError):
    """Input Ari cannot work with, said plainly (422 with a stable code)."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(422, message, code=code, details=details)


@dataclass
class Analysis:
    format: str
    codec: str
    duration_seconds: float
    channels: int
    sample_rate: int
    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    clipped_samples: int
    # ebur128's relative gate for the integrated loudness (loudnorm's measured_thresh).
    integrated_threshold_lufs: float

    def to_json(self) -> dict[str, Any]:
        return {
            k: (None if isinstance(v, float) and math.isinf(v) else v)
            for k, v in asdict(self).items()
        }


def audio_stream(info: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """The first audio stream of a probed file; raises what is wrong with it."""
    if info is None:
        raise AudioInputError("not_audio", f"{name} is not an audio file ffmpeg can read")
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise AudioInputError("not_audio", f"{name} holds no audio stream")
    container = str(info.get("format", {}).get("format_name", ""))
    stream = streams[0]
    codec = str(stream.get("codec_name", ""))
    if container not in SUPPORTED_FORMATS or not (
        codec in SUPPORTED_CODECS or codec.startswith("pcm_")
    ):
        raise AudioInputError(
            "unsupported_format",
            f"{name} is {container or 'an unknown container'} / {codec or 'unknown codec'}; "
            f"Ari reads {', '.join(sorted(set(SUPPORTED_FORMATS.values())))} "
            "(PCM, FLAC, MP3, AAC, Opus or Vorbis audio)",
            details={"format": container, "codec": codec},
        )
    if str(stream.get("nb_read_packets", "0")) in ("0", "N/A"):
        raise AudioInputError("empty_audio", f"{name} has no audio in it (zero length)")
    return {**stream, "format_name": container}


_SUMMARY = {
    "integrated_lufs": r"Integrated loudness:\s+I:\s+(\S+) LUFS",
    "integrated_threshold_lufs": r"Integrated loudness:\s+I:\s+\S+ LUFS\s+Threshold:\s+(\S+) LUFS",
    "loudness_range_lu": r"Loudness range:\s+LRA:\s+(\S+) LU",
    "sample_peak_dbfs": r"Sample peak:\s+Peak:\s+(\S+) dBFS",
    "true_peak_dbtp": r"True peak:\s+Peak:\s+(\S+) dBFS",
}


def parse_ebur128_summary(stderr: str) -> dict[str, float]:
    """The figures of the `Summary:` ebur128 prints at the end (stderr)."""
    summary = stderr.rsplit("Summary:", 1)[-1]
    figures: dict[str, float] = {}
    for key, pattern in _SUMMARY.items():
        match = re.search(pattern, summary)
        if match is None:
            raise ff.FfmpegError(
                f"ffmpeg's loudness meter gave no {key}", stderr[-ff.STDERR_TAIL :]
            )
        figures[key] = float(match[1])  # "-inf" parses as float too
    return figures


async def _count_samples(stream: asyncio.StreamReader) -> tuple[int, int]:
    """(samples decoded, samples clipped), all channels together."""
    total = clipped = 0
    rest = b""
    while chunk := await stream.read(READ_CHUNK):
        data = rest + chunk
        usable = len(data) - len(data) % 4
        rest = data[usable:]
        samples = np.frombuffer(data[:usable], dtype="<f4")
        total += samples.size
        clipped += int(np.count_nonzero(np.abs(samples) >= CLIP_LEVEL))
    return total, clipped


async def measure(ffmpeg: str, path: str) -> tuple[dict[str, float], int, int]:
    """ebur128's figures, samples decoded and samples clipped, from one decode of the file."""
    argv = [
        ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-i", path,
        "-map", "0:a:0", "-af", "ebur128=peak=sample+true:framelog=verbose",
        "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1",
    ]  # fmt: skip
    proc = await ff.spawn(argv, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    stderr_task = asyncio.create_task(proc.stderr.read())
    try:
        total, clipped = await _count_samples(proc.stdout)
        await proc.wait()
        stderr = (await stderr_task).decode(errors="replace")
    except asyncio.CancelledError:
        stderr_task.cancel()
        await ff.kill(proc)
        raise
    if proc.returncode != 0:
        raise ff.FfmpegError("ffmpeg could not decode the audio", stderr[-ff.STDERR_TAIL :])
    return parse_ebur128_summary(stderr), total, clipped


async def analyse(ffmpeg: str, ffprobe: str, path: str, *, name: str = "the file") -> Analysis:
    """Probe and measure `path`; raises AudioInputError for what cannot be mastered."""
    stream = audio_stream(await ff.probe(ffprobe, path), name)
    channels = int(stream.get("channels") or 0)
    sample_rate = int(stream.get("sample_rate") or 0)
    if channels <= 0 or sample_rate <= 0:
        raise AudioInputError("not_audio", f"{name} states no channels or sample rate")
    figures, total, clipped = await measure(ffmpeg, path)
    if total == 0:
        raise AudioInputError("empty_audio", f"{name} has no audio in it (zero length)")
    # The decoded length, not the container's claim: MP3 and AAC headers estimate,
    # and the decoder drops the encoder's priming and padding samples.
    duration = total / channels / sample_rate
    if stream["format_name"] == SUPPORTED_FORMATS_MP4:
        # MP4's edit list states the exact length players honour; ffmpeg's decoder
        # trims the AAC priming but not the padding of the last frame.
        stated = float(stream.get("duration") or 0.0)
        if 0 < stated < duration:
            duration = stated
    return Analysis(
        format=SUPPORTED_FORMATS[stream["format_name"]],
        codec=str(stream.get("codec_name")),
        duration_seconds=round(duration, 6),
        channels=channels,
        sample_rate=sample_rate,
        clipped_samples=clipped,
        **figures,
    )


def require_loud_enough(analysis: Analysis, name: str) -> None:
    """Silence cannot be normalised: there is no loudness to scale (no division by zero)."""
    if math.isinf(analysis.sample_peak_dbfs) or analysis.integrated_lufs <= SILENCE_LUFS:
        raise AudioInputError(
            "silent_audio",
            f"{name} is silent (no programme loudness above {SILENCE_LUFS:g} LUFS): "
            "there is nothing to master",
            details={
                "integrated_lufs": None,
                "sample_peak_dbfs": analysis.to_json()["sample_peak_dbfs"],
            },
        )
