"""Real media for tests: audio made by ffmpeg, images by Pillow, durations measured by ffprobe.

A missing tool fails the test with what to install (never a skip).
"""

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: install it (`make system-deps` installs ffmpeg)")
    return path


def make_mp3(path: Path, seconds: float) -> Path:
    subprocess.run(
        [need("ffmpeg"), "-v", "error", "-y", "-f", "lavfi", "-i",
         f"sine=frequency=440:duration={seconds}", "-ac", "2", "-ar", "44100",
         "-codec:a", "libmp3lame", "-b:a", "128k", str(path)],
        check=True,
    )  # fmt: skip
    return path


def probe_duration(path: Path) -> float:
    out = subprocess.run(
        [need("ffprobe"), "-v", "error", "-show_entries", "format=duration", "-of", "json",
         str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return float(json.loads(out)["format"]["duration"])


def make_image(size: tuple[int, int], fmt: str = "JPEG", mode: str = "RGB") -> bytes:
    image = Image.new(mode, size, (200, 60, 90) if mode == "RGB" else 0)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()
