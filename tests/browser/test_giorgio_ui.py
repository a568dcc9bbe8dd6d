"""Giorgio in the UI: a cover asked for in the chat shows in the library (real browser, real stack).

Its own stack (`skyras up` with marcus, letitia and giorgio, plus the frontend),
started the way tests/browser/test_ui.py starts its own; the scenario is
`giorgio.test.mjs`.
"""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.test_ui import ARTIFACTS, Stack, _requirements, _run_stack, run_scenario

pytestmark = pytest.mark.browser
__all__ = ["_requirements"]  # the autouse check that Chromium and playwright-core are there


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="skyras-browser-giorgio-"))
    try:
        yield from _run_stack(base, ("marcus", "letitia", "giorgio"))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_cover_made_in_the_chat_shows_in_the_library(stack: Stack) -> None:
    run_scenario(stack, "giorgio.test.mjs")
