"""`/api/generate` and `/api/generations` against a real Letitia: stored, linked, listed, deleted."""

import hashlib
import json

import httpx
import pytest

from skyras.testing import ServedApp

from .conftest import GiorgioFactory
from .measure import decode
from .utils import count, cover_request, insert_task


async def test_a_release_kit_is_stored_in_letitia_linked_to_its_task_with_its_parameters(
    giorgio: ServedApp, letitia: ServedApp, database_url: str
) -> None:
    task_id = insert_task(database_url)
    body = cover_request(
        kind="release_kit", task_id=str(task_id), variants=["cover", "social_story"]
    )
    async with (
        httpx.AsyncClient(base_url=giorgio.url, timeout=120) as client,
        letitia.client() as library,
    ):
        response = await client.post("/api/generate", json=body)
        generation = response.json()
        outputs = {o["name"]: o for o in generation["outputs"]}
        cover = await library.get(f"/api/files/{outputs['cover']['file_id']}")
        cover_bytes = (
            await library.get(f"/api/files/{outputs['cover']['file_id']}/content")
        ).content
        copy_doc = (await library.get(f"/api/files/{outputs['copy']['file_id']}/content")).text
        linked = await library.get(f"/api/files/{outputs['cover']['file_id']}/tasks")
        fetched = await client.get(f"/api/generations/{generation['id']}")

    assert response.status_code == 201, response.text
    assert generation["status"] == "succeeded" and generation["task_id"] == str(task_id)
    assert generation["sources"] == {"artwork": "deterministic", "copy": "deterministic"}
    assert generation["fallbacks"] == []
    assert generation["params"]["seed"] == 42 and generation["params"]["palette"] == "neon"
    assert set(outputs) == {"cover", "social_story", "copy"}
    # The bytes in the library are the ones Giorgio made, and what the store expects.
    assert hashlib.sha256(cover_bytes).hexdigest() == outputs["cover"]["sha256"]
    assert decode(cover_bytes).size == (3000, 3000)
    record = cover.json()
    assert record["content_type"] == "image/jpeg" and record["file_type"] == "image"
    assert {"giorgio", "artwork", "cover", "neon", f"generation-{generation['id']}"} <= set(
        record["tags"]
    )
    assert "seed 42" in record["description"] and "neon" in record["description"]
    assert [t["id"] for t in linked.json()["items"]] == [str(task_id)]
    assert "Night Drive" in copy_doc and "## X (Twitter)" in copy_doc
    assert generation["copy"]["social"]["x"] in copy_doc
    assert fetched.json() == generation
    events = count(
        database_url,
        "SELECT count(*) FROM events WHERE type IN ('creative.requested', 'creative.generated') AND subject = %s",
        f"generations/{generation['id']}",
    )
    assert events == 2


async def test_same_request_twice_gives_the_same_bytes_and_no_seed_gives_the_release_s_own_seed(
    giorgio: ServedApp,
) -> None:
    async with httpx.AsyncClient(base_url=giorgio.url, timeout=120) as client:
        first = (await client.post("/api/generate", json=cover_request())).json()
        second = (await client.post("/api/generate", json=cover_request())).json()
        other = (await client.post("/api/generate", json=cover_request(seed=43))).json()
        unseeded = [
            (await client.post("/api/generate", json=cover_request(seed=None))).json()
            for _ in range(2)
        ]

    assert first["outputs"][0]["sha256"] == second["outputs"][0]["sha256"]
    assert other["outputs"][0]["sha256"] != first["outputs"][0]["sha256"]
    assert unseeded[0]["params"]["seed"] == unseeded[1]["params"]["seed"]
    assert unseeded[0]["outputs"][0]["sha256"] == unseeded[1]["outputs"][0]["sha256"]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"release": {"title": "   ", "artist": "A"}}, "release.title"),
        ({"release": {"title": "T" * 500, "artist": "A"}}, "release.title"),
        ({"release": {"title": "T" * 201}}, "release.title"),
        ({"palette": "plaid"}, "palette"),
        ({"extra_sizes": [{"width": 100000, "height": 100000}]}, "extra_sizes.0.width"),
        ({"extra_sizes": [{"width": 4000, "height": 320}]}, "extra_sizes.0"),
        ({"variants": ["billboard"]}, "variants"),
        ({"seed": -1}, "seed"),
        ({"release": {"title": "Night\x00Drive"}}, "release.title"),
        ({"release": {"title": "Night Drive 🜲🜳"}}, "release.title"),
    ],
    ids=[
        "empty-title",
        "500-char-title",
        "201-char-title",
        "unknown-palette",
        "absurd-size",
        "aspect",
        "unknown-variant",
        "negative-seed",
        "control-char",
        "no-glyphs",
    ],
)
async def test_bad_input_is_a_clear_422_and_writes_nothing(
    giorgio: ServedApp, database_url: str, change: dict, where: str
) -> None:
    async with giorgio.client() as client:
        response = await client.post("/api/generate", json=cover_request(**change))

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    # NUL is refused at the edge of every service (skyras.edge), before the model's checks.
    assert error["code"] == (
        "invalid_character" if "\\u0000" in json.dumps(change) else "validation_error"
    )
    assert error["message"].startswith(f"Invalid request: {where}"), error["message"]
    assert count(database_url, "SELECT count(*) FROM generations") == 0
    assert count(database_url, "SELECT count(*) FROM files") == 0
    assert count(database_url, "SELECT count(*) FROM events") == 0


async def test_an_unknown_palette_names_the_known_ones(giorgio: ServedApp) -> None:
    async with giorgio.client() as client:
        response = await client.post("/api/generate", json=cover_request(palette="plaid"))
    assert (
        "neon" in response.json()["error"]["message"]
        and "midnight" in response.json()["error"]["message"]
    )


async def test_listing_filters_by_task_and_pages_and_deleting_removes_the_files(
    giorgio: ServedApp, letitia: ServedApp, database_url: str
) -> None:
    task_id = insert_task(database_url)
    async with (
        httpx.AsyncClient(base_url=giorgio.url, timeout=120) as client,
        letitia.client() as library,
    ):
        made = [
            (await client.post("/api/generate", json=cover_request(seed=s))).json()
            for s in (1, 2, 3)
        ]
        linked = (
            await client.post("/api/generate", json=cover_request(task_id=str(task_id)))
        ).json()
        page1 = (await client.get("/api/generations", params={"limit": 2})).json()
        page2 = (
            await client.get(
                "/api/generations", params={"limit": 2, "cursor": page1["next_cursor"]}
            )
        ).json()
        for_task = (await client.get("/api/generations", params={"task_id": str(task_id)})).json()
        file_id = made[0]["outputs"][0]["file_id"]
        deleted = await client.delete(f"/api/generations/{made[0]['id']}")
        gone = await client.get(f"/api/generations/{made[0]['id']}")
        file_gone = await library.get(f"/api/files/{file_id}")
        again = await client.delete(f"/api/generations/{made[0]['id']}")
        bad_id = await client.get("/api/generations/not-an-id")

    ids = [g["id"] for g in page1["items"] + page2["items"]]
    assert ids == [linked["id"], made[2]["id"], made[1]["id"], made[0]["id"]]
    assert page2["next_cursor"] is None
    assert [g["id"] for g in for_task["items"]] == [linked["id"]]
    assert deleted.status_code == 204 and gone.status_code == 404 and file_gone.status_code == 404
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
    assert bad_id.status_code == 404
    assert count(database_url, "SELECT count(*) FROM events WHERE type = 'creative.deleted'") == 1


async def test_letitia_unreachable_is_a_502_with_the_reason_and_the_failure_recorded(
    giorgio_app: GiorgioFactory, database_url: str
) -> None:
    async with (
        giorgio_app(letitia_url="http://127.0.0.1:9") as giorgio,
        httpx.AsyncClient(base_url=giorgio.url, timeout=120) as client,
    ):
        response = await client.post("/api/generate", json=cover_request())
        listed = (await client.get("/api/generations", params={"status": "failed"})).json()

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "generation_failed" and "could not be reached" in error["message"]
    assert error["details"]["generation"]["status"] == "failed"
    assert [g["id"] for g in listed["items"]] == [error["details"]["generation"]["id"]]
    assert count(database_url, "SELECT count(*) FROM events WHERE type = 'creative.failed'") == 1


async def test_options_name_the_palettes_variants_and_platform_limits(giorgio: ServedApp) -> None:
    async with giorgio.client() as client:
        options = (await client.get("/api/options")).json()
    assert {p["name"] for p in options["palettes"]} >= {"neon", "midnight", "sunset"}
    assert {"name": "x", "label": "X (Twitter)", "limit": 280} in options["platforms"]
    assert options["store_requirements"]["apple_music"]["min_width"] == 3000
    assert options["model"]["configured"] is False
