"""One master of one target: two-pass loudness normalisation with a true-peak ceiling.

Pass one is the analysis (`analysis.analyse`: ebur128's integrated loudness,
gating threshold, loudness range and true peak). Pass two depends on the
headroom those figures leave:
- the gain to the target keeps the true peak under the ceiling: ffmpeg's
  `loudnorm` given the measured values, in its linear mode (a plain gain);
- it does not: the gain goes into a peak limiter run at four times the rate
  (so its peaks are true peaks), measured and raised again until the loudness
  lands (secant steps; two or three rounds). loudnorm's own dynamic mode is
  not used: on peaky material (speech, drums) it landed up to 2 LU under the
  target, and on a 5-minute mix it ran at 9-10x real time against 20-30x.
Then, as an engineer checks a bounce, the encoded master is measured in full:
a linear trim brings the loudness onto the target where the ceiling allows,
and a lossy encode whose decoded true peak overshoots the ceiling (MP3 and
AAC add inter-sample peaks) is encoded again lower.
"""

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skyras_ari.audio import ffmpeg as ff
from skyras_ari.audio.analysis import Analysis, analyse


@dataclass(frozen=True)
class OutputFormat:
    name: str
    extension: str
    content_type: str
    codec_args: tuple[str, ...]
    lossy: bool
    max_sample_rate: int


OUTPUT_FORMATS: dict[str, OutputFormat] = {
    f.name: f
    for f in (
        # 16-bit: triangular dither on the way down from float.
        OutputFormat("wav16", "wav", "audio/wav",
                     ("-c:a", "pcm_s16le", "-af", "aresample=dither_method=triangular"),
                     False, 192_000),
        OutputFormat("wav24", "wav", "audio/wav", ("-c:a", "pcm_s24le"), False, 192_000),
        OutputFormat("flac", "flac", "audio/flac",
                     ("-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24"),
                     False, 192_000),
        OutputFormat("mp3", "mp3", "audio/mpeg", ("-c:a", "libmp3lame", "-b:a", "320k"),
                     True, 48_000),
        OutputFormat("aac", "m4a", "audio/mp4",
                     ("-c:a", "aac", "-b:a", "256k", "-movflags", "+faststart"), True, 96_000),
    )
}  # fmt: skip
SAMPLE_RATES = (22_050, 32_000, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000)

# Headroom kept below the ceiling by the final trim: the true-peak meter of a
# dithered or encoded file reads a little differently from the float master.
LOSSLESS_MARGIN_DB = 0.05
LOSSY_MARGIN_DB = 0.5
# A lossy encode over the ceiling is re-encoded this many times at most.
MAX_ENCODES = 3
# Below this the trim is left out (the meter reads to 0.1 LU).
MIN_TRIM_DB = 0.05
# How close the limiter's rounds must land (they stop within half of this),
# and how many rounds they get (each lands closer; two or three usually do).
MAX_MISS_LU = 0.15
LIMITER_ROUNDS = 6
# Progress shares of the steps of one target.
STEPS = {"normalise": 0.5, "limit": 0.15, "encode": 0.25, "measure": 0.1}


@dataclass(frozen=True)
class Target:
    """What one master must meet (resolved from a preset or explicit figures)."""

    key: str
    integrated_lufs: float
    true_peak_dbtp: float
    format: str
    sample_rate: int
    channels: int
    preset: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "preset": self.preset,
            "integrated_lufs": self.integrated_lufs,
            "true_peak_dbtp": self.true_peak_dbtp,
            "format": self.format,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
        }


@dataclass
class Master:
    path: Path
    target: Target
    measured: Analysis
    normalization_type: str
    trim_db: float
    encodes: int
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Level:
    """Integrated loudness and true peak of an intermediate render."""

    integrated_lufs: float
    true_peak_dbtp: float


def _loudnorm_filter(source: Analysis, target: Target, ceiling: float) -> str:
    # Keep the programme's own dynamics: loudnorm only compresses the range in
    # dynamic mode, and then only towards a range no narrower than the source's.
    lra = min(50.0, max(7.0, source.loudness_range_lu + 1.0))
    return (
        f"loudnorm=I={target.integrated_lufs:g}:TP={ceiling:g}:LRA={lra:g}"
        f":measured_I={max(-99.0, source.integrated_lufs):g}"
        f":measured_TP={min(99.0, max(-99.0, source.true_peak_dbtp)):g}"
        f":measured_LRA={min(99.0, source.loudness_range_lu):g}"
        f":measured_thresh={max(-99.0, source.integrated_threshold_lufs):g}"
        ":linear=true:print_format=json"
    )


def _loudnorm_stats(stderr: str) -> dict[str, Any]:
    found = re.findall(r"\{[^{}]*\"normalization_type\"[^{}]*\}", stderr)
    if not found:
        raise ff.FfmpegError("loudnorm printed no statistics", stderr[-ff.STDERR_TAIL :])
    stats: dict[str, Any] = json.loads(found[-1])
    return stats


def _progress(on_progress: ff.Progress | None, start: float, share: float) -> ff.Progress | None:
    if on_progress is None:
        return None
    return lambda fraction: on_progress(start + share * fraction)


async def master(
    *,
    ffmpeg: str,
    ffprobe: str,
    source_path: Path,
    source: Analysis,
    target: Target,
    out_path: Path,
    work_dir: Path,
    on_progress: ff.Progress | None = None,
) -> Master:
    """Render `target` from `source_path` (measured as `source`) to `out_path`.

    `work_dir` must exist; the intermediate renders are left in it for the caller to remove.
    """
    fmt = OUTPUT_FORMATS[target.format]
    duration = source.duration_seconds
    notes: list[str] = []

    # Channel layout first, so that what loudnorm is told it measured is what it gets.
    if target.channels != source.channels:
        remixed = work_dir / f"{target.key}-remix.wav"
        await ff.run(ffmpeg, ["-i", str(source_path), "-map", "0:a:0", "-ac", str(target.channels),
                              "-c:a", "pcm_f32le", str(remixed)])  # fmt: skip
        notes.append(f"remixed from {source.channels} to {target.channels} channels")
        source = await analyse(ffmpeg, ffprobe, str(remixed))
        source_path = remixed

    margin = LOSSY_MARGIN_DB if fmt.lossy else LOSSLESS_MARGIN_DB
    ceiling = target.true_peak_dbtp - margin
    gain = target.integrated_lufs - source.integrated_lufs
    if source.true_peak_dbtp + gain <= ceiling:
        # Headroom for the whole gain: loudnorm's second pass, in its linear mode.
        normalised = work_dir / f"{target.key}-normalised.wav"
        stderr = await ff.run(
            ffmpeg,
            ["-i", str(source_path), "-map", "0:a:0",
             "-af", f"{_loudnorm_filter(source, target, ceiling)},"
                    f"aresample={target.sample_rate}:resampler=soxr:precision=28",
             "-ar", str(target.sample_rate), "-ac", str(target.channels), "-c:a", "pcm_f32le",
             str(normalised)],
            duration=duration,
            on_progress=_progress(on_progress, 0.0, STEPS["normalise"] + STEPS["limit"]),
        )  # fmt: skip
        stats = _loudnorm_stats(stderr)
        normalization_type = str(stats.get("normalization_type", "unknown"))
        if normalization_type == "linear":
            # loudnorm meters its own linear output: no extra decode of the render (the
            # encoded master is measured in full below: that is what must meet the target).
            rendered = Level(float(stats["output_i"]), float(stats["output_tp"]))
        else:
            measured = await analyse(ffmpeg, ffprobe, str(normalised))
            rendered = Level(measured.integrated_lufs, measured.true_peak_dbtp)
    else:
        # No headroom: the peaks must come down for the loudness to go up.
        normalised, rendered = await _make_up_with_limiter(
            ffmpeg, ffprobe, source_path, Level(source.integrated_lufs, source.true_peak_dbtp),
            target, ceiling, work_dir,
            _progress(on_progress, 0.0, STEPS["normalise"] + STEPS["limit"]),
        )  # fmt: skip
        normalization_type = "limiter"
    trim = target.integrated_lufs - rendered.integrated_lufs
    peak_room = ceiling - rendered.true_peak_dbtp
    trim = min(trim, peak_room)
    if abs(trim) < MIN_TRIM_DB:
        trim = 0.0

    encodes = 0
    encode_start = STEPS["normalise"] + STEPS["limit"]
    while True:
        encodes += 1
        filters = [f"volume={trim:.3f}dB"] if trim else []
        codec_args = list(fmt.codec_args)
        if "-af" in codec_args:  # the format's own filter goes after the trim
            i = codec_args.index("-af")
            filters.append(codec_args.pop(i + 1))
            codec_args.pop(i)
        await ff.run(
            ffmpeg,
            ["-i", str(normalised), "-map", "0:a:0", "-map_metadata", "-1",
             *(["-af", ",".join(filters)] if filters else []),
             *codec_args, "-ar", str(target.sample_rate), "-ac", str(target.channels),
             str(out_path)],
            duration=duration,
            # A second encode is a correction: progress does not go backwards for it.
            on_progress=_progress(on_progress, encode_start, STEPS["encode"]) if encodes == 1 else None,
        )  # fmt: skip
        measured = await analyse(ffmpeg, ffprobe, str(out_path))
        over = measured.true_peak_dbtp - target.true_peak_dbtp
        if over <= 0 or encodes >= MAX_ENCODES or math.isinf(over):
            break
        notes.append(f"encode {encodes} peaked {over:+.1f} dB over the ceiling; lowered")
        trim -= over + 0.1
    if on_progress:
        on_progress(1.0)
    return Master(
        path=out_path,
        target=target,
        measured=measured,
        normalization_type=normalization_type,
        trim_db=round(trim, 3),
        encodes=encodes,
        notes=notes,
    )


async def _make_up_with_limiter(
    ffmpeg: str,
    ffprobe: str,
    source_path: Path,
    rendered: Level,
    target: Target,
    ceiling: float,
    work_dir: Path,
    on_progress: ff.Progress | None,
) -> tuple[Path, Level]:
    """Gain into an oversampled peak limiter, raised until the loudness meets the target."""
    rate = target.sample_rate
    oversampled = rate * 4 if rate <= 48_000 else rate * 2
    limit = 10 ** (ceiling / 20)
    limited = work_dir / f"{target.key}-limited.wav"
    # Each dB into a limiter yields less than a dB of loudness: the next gain
    # follows the slope measured between the last two rounds (secant steps).
    gain, slope = 0.0, 1.0
    last: tuple[float, float] | None = None
    for round_ in range(LIMITER_ROUNDS):
        deficit = target.integrated_lufs - rendered.integrated_lufs
        gain += deficit / slope
        await ff.run(
            ffmpeg,
            ["-i", str(source_path), "-map", "0:a:0",
             "-af", f"volume={gain:.3f}dB,aresample={oversampled}:resampler=soxr,"
                    f"alimiter=limit={limit:.6f}:attack=1:release=60:level=0:latency=1,"
                    f"aresample={rate}:resampler=soxr:precision=28",
             "-ar", str(rate), "-ac", str(target.channels), "-c:a", "pcm_f32le", str(limited)],
        )  # fmt: skip
        measured = await analyse(ffmpeg, ffprobe, str(limited))
        rendered = Level(measured.integrated_lufs, measured.true_peak_dbtp)
        if last is not None and gain != last[0]:
            slope = min(1.0, max(0.1, (rendered.integrated_lufs - last[1]) / (gain - last[0])))
        last = (gain, rendered.integrated_lufs)
        if on_progress:
            on_progress((round_ + 1) / LIMITER_ROUNDS)
        if abs(target.integrated_lufs - rendered.integrated_lufs) <= MAX_MISS_LU / 2:
            break
    return limited, rendered


async def waveform_png(ffmpeg: str, audio_path: Path, png_path: Path) -> None:
    """A 1200x300 picture of the waveform, one lane per channel."""
    await ff.run(
        ffmpeg,
        ["-i", str(audio_path), "-filter_complex",
         "[0:a:0]showwavespic=s=1200x300:split_channels=1:colors=0x2f6fdf|0xdf6f2f",
         "-frames:v", "1", str(png_path)],
    )  # fmt: skip
