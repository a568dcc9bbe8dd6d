"""Analysis: the figures a mastering engineer reads, checked against independent meters."""

from pathlib import Path

import pytest

from skyras_ari.audio.analysis import AudioInputError, analyse, require_loud_enough

from .media import duration_and_layout, ffmpeg_true_peak, pyloudnorm_lufs

MEASURED = [
    "pink_stereo_48k", "tones_stereo_44k", "sweep_mono_48k", "dynamic_stereo_44k",
    "speech_mono", "clipped_mono_48k", "quiet_stereo_48k",
    "mix.flac", "mix.aiff", "mix.mp3", "mix.m4a", "mix.opus",
]  # fmt: skip


@pytest.mark.parametrize("name", MEASURED)
async def test_analysis_agrees_with_pyloudnorm_and_ffmpegs_true_peak_meter(
    name: str, media: dict[str, Path]
) -> None:
    path = media[name]
    result = await analyse("ffmpeg", "ffprobe", str(path))
    assert result.integrated_lufs == pytest.approx(pyloudnorm_lufs(path), abs=0.3)
    assert result.true_peak_dbtp == pytest.approx(ffmpeg_true_peak(path), abs=0.1)
    assert result.true_peak_dbtp >= result.sample_peak_dbfs - 0.1  # oversampled: never below
    duration, channels, rate = duration_and_layout(path)
    assert (result.channels, result.sample_rate) == (channels, rate)
    assert result.duration_seconds == pytest.approx(duration, abs=0.001)
    assert result.loudness_range_lu >= 0


async def test_formats_are_named(media: dict[str, Path]) -> None:
    names = {
        n: (await analyse("ffmpeg", "ffprobe", str(media[n]))).format
        for n in ("tones_stereo_44k", "mix.flac", "mix.aiff", "mix.mp3", "mix.m4a", "mix.opus")
    }
    assert names == {
        "tones_stereo_44k": "WAV", "mix.flac": "FLAC", "mix.aiff": "AIFF", "mix.mp3": "MP3",
        "mix.m4a": "AAC/M4A", "mix.opus": "OGG",
    }  # fmt: skip


async def test_a_dynamic_passage_has_a_wide_loudness_range(media: dict[str, Path]) -> None:
    steady = await analyse("ffmpeg", "ffprobe", str(media["pink_stereo_48k"]))
    dynamic = await analyse("ffmpeg", "ffprobe", str(media["dynamic_stereo_44k"]))
    assert steady.loudness_range_lu < 2 and dynamic.loudness_range_lu > 5


async def test_clipped_samples_are_counted(media: dict[str, Path]) -> None:
    clipped = await analyse("ffmpeg", "ffprobe", str(media["clipped_mono_48k"]))
    clean = await analyse("ffmpeg", "ffprobe", str(media["tones_stereo_44k"]))
    # A sine driven to twice full scale sits on the rails about two thirds of the time.
    assert 0.5 * 5 * 48000 < clipped.clipped_samples < 0.8 * 5 * 48000
    assert clipped.sample_peak_dbfs == pytest.approx(0.0, abs=0.01)
    assert clean.clipped_samples == 0


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("not_audio", "not_audio", "not an audio file"),
        ("mix.wma", "unsupported_format", "Ari reads"),
        ("empty", "empty_audio", "zero length"),
    ],
)
async def test_bad_input_is_refused_with_a_clear_error(
    name: str, code: str, words: str, media: dict[str, Path]
) -> None:
    with pytest.raises(AudioInputError) as caught:
        await analyse("ffmpeg", "ffprobe", str(media[name]), name=media[name].name)
    assert caught.value.code == code and words in caught.value.message
    assert media[name].name in caught.value.message


async def test_silence_is_measured_then_refused_for_mastering(media: dict[str, Path]) -> None:
    silent = await analyse("ffmpeg", "ffprobe", str(media["silent"]))
    assert silent.to_json()["sample_peak_dbfs"] is None  # -inf is not JSON
    with pytest.raises(AudioInputError) as caught:
        require_loud_enough(silent, "silent.wav")
    assert caught.value.code == "silent_audio" and "silent" in caught.value.message
