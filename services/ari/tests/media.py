"""Test audio made here with sox, espeak-ng and ffmpeg (never downloaded), and
independent meters: pyloudnorm (BS.1770) for loudness, ffmpeg's ebur128 for true peak."""

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

TOOLS = {
    "sox": "sox libsox-fmt-all",
    "espeak-ng": "espeak-ng",
    "ffmpeg": "ffmpeg",
    "ffprobe": "ffmpeg",
}


def require_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        packages = " ".join(sorted({TOOLS[t] for t in missing}))
        pytest.fail(
            f"{', '.join(missing)} missing: `make system-deps` (apt-get install {packages})"
        )


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


def make_media(folder: Path) -> dict[str, Path]:
    """The studio's test material: each kind of signal the issue names."""
    require_tools()
    f = folder
    files: dict[str, Path] = {}

    def synth(name: str, rate: int, channels: int, bits: int, effects: str) -> None:
        files[name] = f / f"{name}.wav"
        run("sox", "-n", "-r", str(rate), "-c", str(channels), "-b", str(bits),
            str(files[name]), *effects.split())  # fmt: skip

    synth("pink_stereo_48k", 48000, 2, 24, "synth 8 pinknoise vol 0.3")
    synth("tones_stereo_44k", 44100, 2, 16, "synth 6 sine 440 sine 660 vol 0.5")
    synth("sweep_mono_48k", 48000, 1, 24, "synth 6 sine 40-16000 vol 0.4")
    # Quiet verse, loud chorus, a sustained tone: a wide loudness range.
    synth("dynamic_stereo_44k", 44100, 2, 16,
          "synth 4 pinknoise vol 0.03 : synth 4 pinknoise vol 0.8 : synth 3 sine 330 vol 0.3")  # fmt: skip
    synth("clipped_mono_48k", 48000, 1, 16, "synth 5 sine 220 vol 2.0")  # twice past full scale
    synth("quiet_stereo_48k", 48000, 2, 24, "synth 6 pinknoise vol 0.003")  # about -60 LUFS
    speech = f / "speech_raw.wav"
    run("espeak-ng", "-w", str(speech),
        "Welcome back to the studio podcast. Today we talk about mastering for every platform, "
        "loudness targets, and why true peaks matter when a file is encoded.")  # fmt: skip
    files["speech_mono"] = f / "speech_mono.wav"
    run("sox", str(speech), "-r", "48000", "-c", "1", str(files["speech_mono"]))
    files["silent"] = f / "silent.wav"
    run("sox", "-n", "-r", "48000", "-c", "2", str(files["silent"]), "trim", "0", "3")
    files["empty"] = f / "empty.wav"
    run("sox", "-n", "-r", "48000", "-c", "2", str(files["empty"]), "trim", "0", "0")
    files["not_audio"] = f / "notes.wav"
    files["not_audio"].write_text("these are session notes, not a recording\n" * 50)
    # The same mix in every format Ari reads.
    src = str(files["tones_stereo_44k"])
    for name, args in {
        "mix.flac": ["-c:a", "flac"],
        "mix.aiff": ["-c:a", "pcm_s16be"],
        "mix.mp3": ["-c:a", "libmp3lame", "-b:a", "192k"],
        "mix.m4a": ["-c:a", "aac", "-b:a", "192k"],
        "mix.opus": ["-c:a", "libopus", "-b:a", "128k", "-f", "ogg"],
        "mix.wma": ["-c:a", "wmav2", "-f", "asf"],  # a format Ari does not take
    }.items():
        files[name] = f / name
        run("ffmpeg", "-v", "error", "-y", "-i", src, *args, str(files[name]))
    return files


def stream_entries(path: Path, entries: str) -> list[str]:
    """ffprobe's values of the first audio stream's `entries` (comma separated)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
         f"stream={entries}", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return out.strip().split(",")


def decode(path: Path) -> tuple[np.ndarray, int]:
    """Float samples (frames x channels) and the rate, decoded by ffmpeg."""
    rate, channels = (int(v) for v in stream_entries(path, "sample_rate,channels"))
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-acodec", "pcm_f32le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, dtype="<f4").reshape(-1, channels).astype(np.float64), rate


def pyloudnorm_lufs(path: Path) -> float:
    data, rate = decode(path)
    return float(pyloudnorm.Meter(rate).integrated_loudness(data))


def ffmpeg_true_peak(path: Path) -> float:
    """ffmpeg's 4x oversampled true-peak meter (ebur128), read from its summary."""
    out = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af",
         "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    match = re.search(r"True peak:\s+Peak:\s+(\S+) dBFS", out.rsplit("Summary:", 1)[-1])
    assert match, out[-500:]
    return float(match[1])


def duration_and_layout(path: Path) -> tuple[float, int, int]:
    """Played length, channels, rate. An M4A's length is its edit list's (what players
    honour; ffmpeg's decoder leaves the last AAC frame's padding in)."""
    data, rate = decode(path)
    duration = data.shape[0] / rate
    if path.suffix == ".m4a":
        duration = float(stream_entries(path, "duration")[0])
    return duration, data.shape[1], rate
