"""File records through the API: the prototype's JSON call, validation, listing, tags, delete."""

import json

import psycopg
import pytest

from skyras.testing import ServedApp

from .utils import count

SEED_UPLOAD = {
    "filename": "test-document.pdf",
    "file_type": "document",
    "file_size": 102400,
    "tags": ["test", "documentation"],
}


def events(database_url: str) -> list[dict]:
    with psycopg.connect(database_url, row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute(
            "SELECT type, source, subject, channel, data FROM events ORDER BY seq"
        ).fetchall()


async def test_the_prototypes_metadata_call_creates_a_record_and_its_event(
    letitia: ServedApp, database_url: str
) -> None:
    async with letitia.client() as client:
        response = await client.post("/api/files", json=SEED_UPLOAD)
        fetched = await client.get(f"/api/files/{response.json()['id']}")

    assert response.status_code == 201
    record = response.json()
    assert {k: record[k] for k in SEED_UPLOAD} == SEED_UPLOAD
    assert record["has_content"] is False and record["sha256"] is None
    assert record["content_type"] == "application/pdf"
    assert set(record) == {
        "id", "filename", "file_type", "file_size", "content_type", "sha256", "tags",
        "title", "description", "uploaded_at", "updated_at", "has_content",
    }  # fmt: skip
    assert fetched.json() == record
    [event] = events(database_url)
    assert event["type"] == "file.uploaded" and event["source"] == "/agents/letitia"
    assert event["subject"] == f"files/{record['id']}" and event["channel"] == "files"
    assert event["data"] == {"file": record}
    # The seed's "useful query" works as written.
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT * FROM files ORDER BY uploaded_at DESC LIMIT 10;").fetchall()
    assert len(rows) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**SEED_UPLOAD, "file_size": -1}, "file_size"),
        ({**SEED_UPLOAD, "filename": ""}, "filename"),
        ({**SEED_UPLOAD, "filename": "   "}, "filename"),
        ({**SEED_UPLOAD, "filename": "../etc/passwd"}, "filename"),
        ({**SEED_UPLOAD, "filename": "a\x00b.wav"}, "filename"),
        ({**SEED_UPLOAD, "filename": "x" * 256}, "filename"),
        ({**SEED_UPLOAD, "file_type": "spreadsheet"}, "file_type"),
        ({**SEED_UPLOAD, "title": "t" * 10_000}, "title"),
        ({**SEED_UPLOAD, "tags": [f"t{i}" for i in range(51)]}, "tags"),
        ({**SEED_UPLOAD, "tags": {"a": 1}}, "tags"),
        ({**SEED_UPLOAD, "tags": ["x" * 51]}, "tags"),
        ({**SEED_UPLOAD, "size": 3}, "size"),
        ({"file_type": "audio"}, "filename"),
    ],
)
async def test_invalid_records_are_422_with_the_error_shape_and_write_nothing(
    letitia: ServedApp, database_url: str, body: dict, field: str
) -> None:
    async with letitia.client() as client:
        response = await client.post("/api/files", json=body)

    assert response.status_code == 422
    error = response.json()["error"]
    # NUL is refused at the edge of every service (skyras.edge), before the model's checks.
    assert error["code"] == (
        "invalid_character" if "\\u0000" in json.dumps(body) else "validation_error"
    )
    assert field in error["message"]
    assert count(database_url, "SELECT count(*) FROM files") == 0
    assert count(database_url, "SELECT count(*) FROM events") == 0


async def test_bodies_that_are_not_json_or_multipart_are_refused(letitia: ServedApp) -> None:
    async with letitia.client() as client:
        broken = await client.post(
            "/api/files", content=b"{oops", headers={"content-type": "application/json"}
        )
        text = await client.post(
            "/api/files", content=b"hello", headers={"content-type": "text/plain"}
        )
    assert broken.status_code == 422 and "error" in broken.json()
    assert text.status_code == 415 and text.json()["error"]["code"] == "unsupported_media_type"


async def test_tags_are_normalized_added_and_removed_with_events(
    letitia: ServedApp, database_url: str
) -> None:
    async with letitia.client() as client:
        created = (
            await client.post(
                "/api/files",
                json={"filename": "Mix.WAV", "tags": [" Final ", "final", "Vocals", ""]},
            )
        ).json()
        added = await client.post(
            f"/api/files/{created['id']}/tags", json={"tags": ["MIX", "final", "Stems"]}
        )
        again = await client.post(f"/api/files/{created['id']}/tags", json={"tags": ["mix"]})
        removed = await client.delete(f"/api/files/{created['id']}/tags/Vocals")
        missing = await client.post(
            "/api/files/00000000-0000-0000-0000-000000000000/tags", json={"tags": ["x"]}
        )

    assert created["tags"] == ["final", "vocals"]
    assert created["file_type"] == "audio"  # derived from the name when not given
    assert added.json()["tags"] == ["final", "vocals", "mix", "stems"]
    assert again.json()["tags"] == ["final", "vocals", "mix", "stems"]
    assert removed.json()["tags"] == ["final", "mix", "stems"]
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    tagged = [e for e in events(database_url) if e["type"] == "file.tagged"]
    # Adding only tags already there changes nothing and publishes nothing.
    assert [(e["data"]["added"], e["data"]["removed"]) for e in tagged] == [
        (["mix", "stems"], []),
        ([], ["vocals"]),
    ]
    assert tagged[-1]["data"]["file"]["tags"] == ["final", "mix", "stems"]


async def test_listing_filters_and_pages_with_a_cursor(letitia: ServedApp) -> None:
    async with letitia.client() as client:
        for i in range(5):
            await client.post(
                "/api/files",
                json={"filename": f"take_{i}.wav", "tags": ["even" if i % 2 == 0 else "odd"]},
            )
        await client.post("/api/files", json={"filename": "cover.png"})
        first = (await client.get("/api/files", params={"limit": 4})).json()
        second = (
            await client.get("/api/files", params={"limit": 4, "cursor": first["next_cursor"]})
        ).json()
        audio_even = (
            await client.get("/api/files", params={"file_type": "audio", "tag": "EVEN"})
        ).json()
        by_text = (await client.get("/api/files", params={"q": "cover"})).json()
        bad_cursor = await client.get("/api/files", params={"cursor": "nonsense"})
        bad_type = await client.get("/api/files", params={"file_type": "nope"})

    names = [f["filename"] for f in first["items"] + second["items"]]
    assert names == [
        "cover.png",
        "take_4.wav",
        "take_3.wav",
        "take_2.wav",
        "take_1.wav",
        "take_0.wav",
    ]
    assert second["next_cursor"] is None
    assert [f["filename"] for f in audio_even["items"]] == [
        "take_4.wav",
        "take_2.wav",
        "take_0.wav",
    ]
    assert [f["filename"] for f in by_text["items"]] == ["cover.png"]
    assert bad_cursor.status_code == 422 and bad_type.status_code == 422


async def test_delete_removes_the_record_and_publishes(
    letitia: ServedApp, database_url: str
) -> None:
    async with letitia.client() as client:
        created = (await client.post("/api/files", json=SEED_UPLOAD)).json()
        deleted = await client.delete(f"/api/files/{created['id']}")
        gone = await client.get(f"/api/files/{created['id']}")
        again = await client.delete(f"/api/files/{created['id']}")
        not_uuid = await client.get("/api/files/not-a-uuid")

    assert deleted.status_code == 204 and deleted.content == b""
    assert gone.status_code == 404 and again.status_code == 404
    assert not_uuid.status_code == 422
    assert [e["type"] for e in events(database_url)] == ["file.uploaded", "file.deleted"]


async def test_a_files_tasks_are_listed_with_the_reason(
    letitia: ServedApp, database_url: str
) -> None:
    async with letitia.client() as client:
        created = (await client.post("/api/files", json=SEED_UPLOAD)).json()
        with psycopg.connect(database_url) as conn:
            conn.execute(
                "INSERT INTO tasks (id, title, priority, tags) VALUES "
                "('11111111-1111-1111-1111-111111111111', 'Review docs', 'high', '{test}')"
            )
            conn.execute(
                "INSERT INTO task_files (task_id, file_id, reason) VALUES "
                "('11111111-1111-1111-1111-111111111111', %s, 'tagged test')",
                (created["id"],),
            )
        tasks = await client.get(f"/api/files/{created['id']}/tasks")
        unknown = await client.get("/api/files/00000000-0000-0000-0000-000000000000/tasks")

    assert tasks.json() == {
        "items": [
            {
                "id": "11111111-1111-1111-1111-111111111111",
                "title": "Review docs",
                "status": "pending",
                "priority": "high",
                "due_date": None,
                "tags": ["test"],
                "reason": "tagged test",
            }
        ]
    }
    assert unknown.status_code == 404
