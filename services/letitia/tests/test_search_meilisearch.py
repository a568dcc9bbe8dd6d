"""The Meilisearch backend against a stand-in that speaks Meilisearch's wire contract."""

import httpx
from pydantic import SecretStr

from skyras.testing import serve
from tests.standins.meilisearch import MeilisearchStandIn

from .conftest import LetitiaFactory

KEY = "standin-master-key"


async def test_meilisearch_indexes_on_change_and_searches_with_filters(
    letitia_app: LetitiaFactory,
) -> None:
    standin = MeilisearchStandIn(master_key=KEY)
    async with (
        serve(standin.app) as meili,
        letitia_app(meilisearch_url=meili.url, meilisearch_api_key=SecretStr(KEY)) as served,
        served.client() as client,
    ):
        settings = standin.indexes["files"]["settings"]
        assert settings["filterableAttributes"] == ["file_type", "tags", "uploaded_at_ts"]
        mix = (
            await client.post(
                "/api/files",
                json={"filename": "mixdown_v2.wav", "tags": ["final"], "description": "Full mix"},
            )
        ).json()
        vox = (
            await client.post(
                "/api/files",
                json={
                    "filename": "vocals.wav",
                    "tags": ["draft"],
                    "description": "Breathy <b>lead</b> vocals",
                },
            )
        ).json()
        assert set(standin.indexes["files"]["documents"]) == {mix["id"], vox["id"]}
        assert (
            standin.indexes["files"]["documents"][mix["id"]]["filename_words"] == "mixdown v2 wav"
        )

        misspelled = (await client.post("/api/search", json={"query": "mixdwn"})).json()
        described = (await client.post("/api/search", json={"query": "breathy"})).json()
        filtered = (
            await client.post("/api/search", json={"query": "wav", "tags": ["final"]})
        ).json()
        await client.post(f"/api/files/{vox['id']}/tags", json={"tags": ["final"]})
        retagged = (
            await client.post("/api/search", json={"query": "vocals", "tags": ["final"]})
        ).json()
        await client.delete(f"/api/files/{mix['id']}")
        after_delete = (await client.post("/api/search", json={"query": "mixdown"})).json()
        recent = (await client.post("/api/search", json={"query": ""})).json()

        unauthenticated = await httpx.AsyncClient(base_url=meili.url).post(
            "/indexes/files/search", json={"q": "x"}
        )

    assert [i["filename"] for i in misspelled["items"]] == ["mixdown_v2.wav"]
    assert misspelled["items"][0]["rank"] > 0
    [hit] = described["items"]
    assert hit["filename"] == "vocals.wav"
    assert hit["highlight"] == "<mark>Breathy</mark> &lt;b&gt;lead&lt;/b&gt; vocals"
    assert [i["filename"] for i in filtered["items"]] == ["mixdown_v2.wav"]
    assert [i["filename"] for i in retagged["items"]] == ["vocals.wav"]
    assert after_delete["items"] == [] and mix["id"] not in standin.indexes["files"]["documents"]
    assert [i["filename"] for i in recent["items"]] == ["vocals.wav"]  # from Postgres
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["code"] == "missing_authorization_header"
    assert ("POST", "/indexes/files/search") in standin.requests


async def test_search_falls_back_to_postgres_when_meilisearch_refuses(
    letitia_app: LetitiaFactory,
) -> None:
    standin = MeilisearchStandIn(master_key=KEY)
    async with (
        serve(standin.app) as meili,
        letitia_app(meilisearch_url=meili.url, meilisearch_api_key=SecretStr("wrong")) as served,
        served.client() as client,
    ):
        await client.post("/api/files", json={"filename": "mixdown_v2.wav"})
        response = await client.post("/api/search", json={"query": "mixdwn"})

    assert response.status_code == 200
    assert [i["filename"] for i in response.json()["items"]] == ["mixdown_v2.wav"]
    assert "files" not in standin.indexes  # every write was refused (403)


async def test_the_standin_reports_tasks_like_meilisearch(letitia_app: LetitiaFactory) -> None:
    standin = MeilisearchStandIn(master_key=KEY)
    async with (
        serve(standin.app) as meili,
        httpx.AsyncClient(base_url=meili.url, headers={"Authorization": f"Bearer {KEY}"}) as client,
    ):
        added = await client.post("/indexes/songs/documents", json=[{"id": 1, "title": "Intro"}])
        task = (await client.get(f"/tasks/{added.json()['taskUid']}")).json()
        bad_filter = await client.post(
            "/indexes/songs/search", json={"q": "", "filter": 'title = "Intro"'}
        )
        missing = await client.post("/indexes/nope/search", json={"q": ""})

    assert added.status_code == 202 and added.json()["status"] == "enqueued"
    assert task["status"] == "succeeded" and task["type"] == "documentAdditionOrUpdate"
    assert bad_filter.status_code == 400 and bad_filter.json()["code"] == "invalid_search_filter"
    assert missing.status_code == 404 and missing.json()["code"] == "index_not_found"
