"""Mastering: every preset lands on its target, checked with pyloudnorm and ffmpeg's meter."""

from pathlib import Path

import pytest

from skyras_ari.audio.analysis import analyse
from skyras_ari.audio.mastering import OUTPUT_FORMATS, Target, master
from skyras_ari.presets import PRESETS

from .media import duration_and_layout, ffmpeg_true_peak, pyloudnorm_lufs

# (source, preset, output format, rate, channels): every preset, every output
# format, mono and stereo, 44.1 and 48 kHz, steady, peaky, dynamic and quiet material.
CASES = [
    ("pink_stereo_48k", "streaming", "wav24", 48000, 2),
    ("dynamic_stereo_44k", "streaming", "mp3", 44100, 2),
    ("speech_mono", "streaming", "flac", 48000, 1),
    ("tones_stereo_44k", "apple_music", "aac", 44100, 2),
    ("dynamic_stereo_44k", "apple_music", "wav16", 48000, 2),
    ("speech_mono", "podcast", "mp3", 44100, 1),
    ("speech_mono", "podcast", "wav24", 48000, 2),
    ("quiet_stereo_48k", "podcast", "aac", 48000, 2),
    ("sweep_mono_48k", "ebu_r128", "wav24", 48000, 1),
    ("clipped_mono_48k", "ebu_r128", "flac", 44100, 1),
    ("pink_stereo_48k", "atsc_a85", "wav16", 48000, 2),
    ("speech_mono", "atsc_a85", "mp3", 48000, 1),
]


@pytest.mark.parametrize(("name", "preset", "fmt", "rate", "channels"), CASES)
async def test_every_preset_meets_its_loudness_and_true_peak(
    name: str, preset: str, fmt: str, rate: int, channels: int,
    media: dict[str, Path], tmp_path: Path,
) -> None:  # fmt: skip
    source_path = media[name]
    source = await analyse("ffmpeg", "ffprobe", str(source_path))
    spec = PRESETS[preset]
    target = Target(
        key="t0", preset=preset, integrated_lufs=spec.target_lufs(channels),
        true_peak_dbtp=spec.true_peak_dbtp, format=fmt, sample_rate=rate, channels=channels,
    )  # fmt: skip
    out = tmp_path / f"master.{OUTPUT_FORMATS[fmt].extension}"
    result = await master(
        ffmpeg="ffmpeg", ffprobe="ffprobe", source_path=source_path, source=source,
        target=target, out_path=out, work_dir=tmp_path,
    )  # fmt: skip
    assert pyloudnorm_lufs(out) == pytest.approx(target.integrated_lufs, abs=0.5)
    assert ffmpeg_true_peak(out) <= target.true_peak_dbtp + 0.1
    duration, out_channels, out_rate = duration_and_layout(out)
    assert duration == pytest.approx(source.duration_seconds, abs=0.010)
    assert (out_channels, out_rate) == (channels, rate)
    # What Ari reports about its master is what the independent meter reads.
    assert result.measured.integrated_lufs == pytest.approx(pyloudnorm_lufs(out), abs=0.3)


def test_podcast_has_a_mono_target_and_every_preset_names_its_source() -> None:
    assert PRESETS["podcast"].target_lufs(1) == -19.0
    assert PRESETS["podcast"].target_lufs(2) == -16.0
    assert {n: (p.integrated_lufs, p.true_peak_dbtp) for n, p in PRESETS.items()} == {
        "streaming": (-14.0, -1.0), "apple_music": (-16.0, -1.0), "podcast": (-16.0, -1.0),
        "ebu_r128": (-23.0, -1.0), "atsc_a85": (-24.0, -2.0),
    }  # fmt: skip
    assert all(len(p.source) > 20 for p in PRESETS.values())


async def test_a_limited_master_keeps_peaks_under_the_ceiling_at_a_loud_target(
    media: dict[str, Path], tmp_path: Path
) -> None:
    """Peaky speech pushed 7 LU up cannot be a plain gain: the limiter holds the ceiling."""
    source = await analyse("ffmpeg", "ffprobe", str(media["speech_mono"]))
    target = Target(key="loud", integrated_lufs=-12.0, true_peak_dbtp=-1.0, format="wav24",
                    sample_rate=48000, channels=1)  # fmt: skip
    out = tmp_path / "loud.wav"
    result = await master(
        ffmpeg="ffmpeg", ffprobe="ffprobe", source_path=media["speech_mono"], source=source,
        target=target, out_path=out, work_dir=tmp_path,
    )  # fmt: skip
    assert "limiter" in result.normalization_type
    assert pyloudnorm_lufs(out) == pytest.approx(-12.0, abs=0.5)
    assert ffmpeg_true_peak(out) <= -0.9
