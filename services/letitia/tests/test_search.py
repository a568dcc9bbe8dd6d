"""Postgres search: full text, fuzzy filenames, filters, safe highlights, any input."""

from datetime import UTC, datetime, timedelta

import httpx

from skyras.testing import ServedApp

LIBRARY = [
    {"filename": "mixdown_v2.wav", "tags": ["final", "mix"], "description": "Full mix, bounced"},
    {
        "filename": "VocalsLeadTake3.wav",
        "tags": ["final", "vocals"],
        "description": "Lead vocals, warm and breathy <script>alert(1)</script> & more",
    },
    {"filename": "vocals_scratch.wav", "tags": ["draft"], "description": "Scratch vocals"},
    {"filename": "cover-art.png", "tags": ["artwork"], "title": "Album cover"},
    {"filename": "liner-notes.pdf", "tags": ["text"], "description": "Credits and thanks"},
]


async def seed(client: httpx.AsyncClient) -> None:
    for item in LIBRARY:
        assert (await client.post("/api/files", json=item)).status_code == 201


async def search(client: httpx.AsyncClient, **body: object) -> httpx.Response:
    return await client.post("/api/search", json=body)


async def test_a_misspelled_filename_and_a_description_word_both_find_the_file(
    letitia: ServedApp,
) -> None:
    async with letitia.client() as client:
        await seed(client)
        misspelled = (await search(client, query="mixdwn")).json()
        described = (await search(client, query="breathy", limit=10)).json()
        camel = (await search(client, query="lead take3")).json()

    assert misspelled["items"][0]["filename"] == "mixdown_v2.wav"
    assert misspelled["query"] == "mixdwn" and misspelled["total"] >= 1
    assert [i["filename"] for i in described["items"]] == ["VocalsLeadTake3.wav"]
    hit = described["items"][0]
    assert hit["rank"] > 0 and "<mark>breathy</mark>" in hit["highlight"]
    # Only <mark> comes out: the description's markup is escaped.
    assert "<script>" not in hit["highlight"] and "&lt;script&gt;" in hit["highlight"]
    assert [i["filename"] for i in camel["items"]] == ["VocalsLeadTake3.wav"]


async def test_ranking_filters_and_empty_query(letitia: ServedApp) -> None:
    async with letitia.client() as client:
        await seed(client)
        vocals = (await search(client, query="vocals")).json()
        final_vocals = (await search(client, query="vocals", tags=["FINAL"])).json()
        images = (await search(client, query="", file_type="image")).json()
        recent = (await search(client, query="  ", limit=2)).json()
        future = datetime.now(UTC) + timedelta(days=1)
        none_yet = (await search(client, query="vocals", uploaded_after=future.isoformat())).json()
        before_future = (
            await search(client, query="vocals", uploaded_before=future.isoformat())
        ).json()

    # Filename (weight A) ranks above description-only (weight C) matches.
    assert {i["filename"] for i in vocals["items"]} == {"VocalsLeadTake3.wav", "vocals_scratch.wav"}
    assert vocals["total"] == 2
    assert [i["filename"] for i in final_vocals["items"]] == ["VocalsLeadTake3.wav"]
    assert [i["filename"] for i in images["items"]] == ["cover-art.png"]
    assert [i["filename"] for i in recent["items"]] == ["liner-notes.pdf", "cover-art.png"]
    assert recent["total"] == 5  # all of them match an empty query; two are shown
    assert none_yet["items"] == [] and none_yet["total"] == 0
    assert before_future["total"] == 2


UNSAFE_QUERIES = [
    '"mix',
    "mix' OR 1=1 --",
    "!!! & | :* ( ) <-> ~",
    "-vocals OR",
    "%_\\",
    "ünïcødé 混音 🎧",
    "x" * 500,
    "<script>alert(1)</script>",
]


async def test_any_query_is_safe(letitia: ServedApp) -> None:
    async with letitia.client() as client:
        await client.post("/api/files", json=LIBRARY[1])
        responses = [await search(client, query=query) for query in UNSAFE_QUERIES]

    for response in responses:
        assert response.status_code == 200, response.text
        for item in response.json()["items"]:
            assert "<script" not in item["highlight"]


async def test_invalid_search_requests_are_422(letitia: ServedApp) -> None:
    async with letitia.client() as client:
        nul = await search(client, query="a\x00b")  # cannot be stored or searched: said
        assert nul.status_code == 422 and nul.json()["error"]["code"] == "invalid_character"
        assert "query" in nul.json()["error"]["message"]
        too_long = await search(client, query="x" * 501)
        bad_limit = await search(client, query="x", limit=0)
        big_limit = await search(client, query="x", limit=101)
        naive_date = await search(client, query="x", uploaded_after="2025-01-01T00:00:00")
        bad_type = await search(client, query="x", file_type="spreadsheet")

    for response in (too_long, bad_limit, big_limit, naive_date, bad_type):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"


async def test_the_prototypes_search_call(letitia: ServedApp) -> None:
    async with letitia.client() as client:
        await client.post(
            "/api/files",
            json={
                "filename": "test-document.pdf",
                "file_type": "document",
                "file_size": 102400,
                "tags": ["test", "documentation"],
            },
        )
        response = await search(client, query="test", limit=10)

    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["filename"] == "test-document.pdf" and "<mark>" in item["highlight"]
