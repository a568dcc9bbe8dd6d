"""Chat: plain-language requests become generations; what is missing is asked for."""

import httpx
import pytest

from skyras.testing import ServedApp
from skyras_giorgio.chat import understand

from .utils import count


@pytest.mark.parametrize(
    ("message", "kind", "title", "artist", "palette", "seed"),
    [
        ("@giorgio make a cover for Night Drive, neon", "artwork", "Night Drive", "", "neon", None),
        ('write copy for "Blue Hour" by Mila Stone', "copy", "Blue Hour", "Mila Stone", None, None),
        (
            "release kit for Night Drive by Aurora Lane, sunset, seed 7",
            "release_kit",
            "Night Drive",
            "Aurora Lane",
            "sunset",
            7,
        ),
        (
            "cover and copy for “夜のドライブ” by 星野 光 in pastel",
            "release_kit",
            "夜のドライブ",
            "星野 光",
            "pastel",
            None,
        ),
        (
            "artwork for Night Drive by Aurora Lane in mono",
            "artwork",
            "Night Drive",
            "Aurora Lane",
            "mono",
            None,
        ),
        ("what palettes do you have", None, "", "", None, None),
    ],
)
def test_requests_are_understood(
    message: str, kind: str | None, title: str, artist: str, palette: str | None, seed: int | None
) -> None:
    intent = understand(message)
    assert (intent.kind, intent.title, intent.artist, intent.palette, intent.seed) == (
        kind,
        title,
        artist,
        palette,
        seed,
    )


async def test_chat_makes_a_cover_and_says_where_it_is(
    giorgio: ServedApp, letitia: ServedApp
) -> None:
    async with httpx.AsyncClient(base_url=giorgio.url, timeout=120) as client:
        response = await client.post(
            "/api/chat", json={"message": "@giorgio make a cover for Night Drive, neon"}
        )
    reply = response.json()
    generation = reply["data"]["generation"]
    async with letitia.client() as library:
        record = (await library.get(f"/api/files/{generation['outputs'][0]['file_id']}")).json()

    assert response.status_code == 200 and reply["agent"] == "giorgio"
    assert reply["reply"].startswith("Made artwork for \u201cNight Drive\u201d in neon, seed ")
    assert "4 image(s)" in reply["reply"] and "in the library" in reply["reply"]
    assert generation["params"]["palette"] == "neon" and generation["kind"] == "artwork"
    assert record["content_type"] == "image/jpeg"


async def test_chat_without_a_title_asks_and_writes_nothing(
    giorgio: ServedApp, database_url: str
) -> None:
    async with giorgio.client() as client:
        vague = (await client.post("/api/chat", json={"message": "@giorgio make a cover"})).json()
        palettes = (
            await client.post("/api/chat", json={"message": "which palettes are there?"})
        ).json()
        too_long = (
            await client.post("/api/chat", json={"message": f"cover for {'T' * 300}"})
        ).json()

    assert vague["reply"].startswith("For which release?") and "neon" in vague["reply"]
    assert set(palettes["data"]["palettes"]) >= {"neon", "sunset", "midnight"}
    assert too_long["reply"].startswith(
        "I can't make that: String should have at most 200 characters"
    )
    assert count(database_url, "SELECT count(*) FROM generations") == 0
