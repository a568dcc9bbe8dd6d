"""The audio panel in a real browser: `skyras up` with Ari beside Marcus and Letitia.

Its own stack (the module fixture of test_ui.py starts only Marcus and
Letitia), made the same way by `test_ui._run_stack`.
"""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.test_ui import ARTIFACTS, Stack, _missing, _run_stack, run_scenario

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    reason = _missing() or (
        None if shutil.which("ffmpeg") else "ffmpeg is missing: make system-deps"
    )
    if reason:
        pytest.fail(f"the browser tests cannot run: {reason}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="skyras-browser-audio-"))
    try:
        yield from _run_stack(base, ("marcus", "letitia", "ari"))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_chat_masters_a_file_and_the_audio_panel_shows_waveforms_and_downloads(
    stack: Stack,
) -> None:
    run_scenario(stack, "audio.test.mjs")
