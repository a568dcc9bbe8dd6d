"""Fixtures for Ari's tests: generated media, real Letitia, Ari served on a real socket."""

from pathlib import Path

import pytest

from .media import make_media


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_media(tmp_path_factory.mktemp("media"))
