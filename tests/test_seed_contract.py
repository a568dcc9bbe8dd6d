"""The prototype's contract, through the hub: its README's commands work as written.

Hub, Marcus and Letitia run as real processes on real Postgres and Redis.
"""

import hashlib
import os
import subprocess
import time
from pathlib import Path

import psycopg

from skyras.embedded import EmbeddedPostgres
from tests.utils import Stack

SEED_TASK = {
    "title": "Test microservices architecture",
    "description": "Verify Marcus can create tasks",
    "priority": "high",
    "status": "pending",
}
SEED_FILE = {
    "filename": "test-document.pdf",
    "file_type": "document",
    "file_size": 102400,
    "tags": ["test", "documentation"],
}


def psql(database_url: str, query: str) -> str:
    """The seed's psql queries, run by a real psql (the one the embedded server ships)."""
    bin_dir = EmbeddedPostgres(Path("/nonexistent")).bin_dir
    result = subprocess.run(
        [str(bin_dir / "psql"), database_url, "-v", "ON_ERROR_STOP=1", "-c", query],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_seed_readme_commands_work_through_the_hub(stack: Stack) -> None:
    with stack.client() as hub:
        task = hub.post("/agents/marcus/task", json=SEED_TASK)
        short = hub.post("/agents/marcus/task", json={"title": "Test task", "priority": "high"})
        tasks = hub.get("/agents/marcus/tasks")
        upload = hub.post("/agents/letitia/upload", json=SEED_FILE)
        search = hub.post("/agents/letitia/search", json={"query": "test", "limit": 10})
        status = hub.get("/agents/status")

    assert task.status_code == 201 and short.status_code == 201
    assert {k: task.json()[k] for k in SEED_TASK} == SEED_TASK
    assert [t["title"] for t in tasks.json()["items"]] == ["Test task", SEED_TASK["title"]]
    assert upload.status_code == 201
    assert {k: upload.json()[k] for k in SEED_FILE} == SEED_FILE
    assert [f["filename"] for f in search.json()["items"]] == ["test-document.pdf"]
    agents = {a["name"]: a for a in status.json()["agents"]}
    assert status.json()["status"] == "ok"
    assert {n: a["status"] for n, a in agents.items()} == {
        "marcus": "healthy",
        "letitia": "healthy",
    }
    assert {"/task", "/tasks"} <= {r["path"] for r in agents["marcus"]["routes"]}

    # The seed's "Useful queries", as written.
    assert "Test microservices architecture" in psql(
        stack.database_url, "SELECT * FROM tasks ORDER BY created_at DESC LIMIT 10;"
    )
    assert "test-document.pdf" in psql(
        stack.database_url, "SELECT * FROM files ORDER BY uploaded_at DESC LIMIT 10;"
    )
    recent = psql(stack.database_url, "SELECT * FROM events ORDER BY created_at DESC LIMIT 20;")
    assert "task.created" in recent and "file.uploaded" in recent


def test_a_20_mb_upload_through_the_hub_comes_back_byte_identical(
    stack: Stack, tmp_path: Path
) -> None:
    payload = os.urandom(20 * 1024 * 1024)
    with stack.client() as hub:
        created = hub.post(
            "/agents/letitia/upload",
            files={"file": ("final_master.wav", payload, "audio/wav")},
            data={"tags": "master,final"},
        )
        assert created.status_code == 201, created.text
        record = created.json()
        downloaded = hub.get(f"/agents/letitia/files/{record['id']}/content")

    assert record["sha256"] == hashlib.sha256(payload).hexdigest()
    assert record["file_size"] == len(payload)
    assert downloaded.status_code == 200
    assert hashlib.sha256(downloaded.content).hexdigest() == record["sha256"]


def test_search_finds_a_misspelled_filename_and_a_word_of_the_description(stack: Stack) -> None:
    with stack.client() as hub:
        hub.post(
            "/agents/letitia/upload",
            json={"filename": "mixdown_v2.wav", "file_type": "audio", "file_size": 10,
                  "description": "Breathy lead vocal, second pass"},
        )  # fmt: skip
        hub.post(
            "/agents/letitia/upload",
            json={"filename": "cover_art.png", "file_type": "image", "file_size": 5},
        )
        misspelled = hub.post("/agents/letitia/search", json={"query": "mixdwn"}).json()
        described = hub.post("/agents/letitia/search", json={"query": "breathy"}).json()

    assert [f["filename"] for f in misspelled["items"]] == ["mixdown_v2.wav"]
    assert [f["filename"] for f in described["items"]] == ["mixdown_v2.wav"]
    assert "<mark>" in described["items"][0]["highlight"]


def test_invalid_input_is_422_with_the_error_shape_and_writes_nothing(stack: Stack) -> None:
    bad_tasks = [{"title": ""}, {"title": "Mix", "priority": "critical"}, {"title": "x" * 10_000}]
    with stack.client() as hub:
        responses = [hub.post("/agents/marcus/task", json=body) for body in bad_tasks]
        responses.append(hub.post("/agents/letitia/upload", json={**SEED_FILE, "file_size": -1}))
    for response in responses:
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "validation_error" and error["message"]
    with psycopg.connect(stack.database_url) as conn:
        counts = conn.execute(
            """SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM files),
                      (SELECT count(*) FROM events WHERE type LIKE 'task.%' OR type LIKE 'file.%')"""
        ).fetchone()
    assert counts == (0, 0, 0)


def test_unknown_agent_undeclared_path_and_stopped_agent_are_quick_json_errors(
    stack: Stack,
) -> None:
    with stack.client() as hub:
        unknown = hub.get("/agents/ari/jobs")
        undeclared = hub.get("/agents/marcus/secret/admin")
        stack.letitia.stop()
        started = time.monotonic()
        stopped = hub.post("/agents/letitia/search", json={"query": "x"})
        elapsed = time.monotonic() - started

    assert unknown.status_code == 404 and unknown.json()["error"]["code"]
    assert undeclared.status_code == 404
    assert "/tasks" in str(undeclared.json()["error"])  # it names the agent's routes
    assert stopped.status_code == 503 and stopped.json()["error"]["message"]
    assert elapsed < 2
