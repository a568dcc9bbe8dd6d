"""Text Postgres cannot store (NUL, U+0000) is a clear 422 on every service, and writes nothing.

Each service runs as a real process against real Postgres and Redis; the
NUL goes in the path, the query string, a JSON body and a form field, and
also through the hub (proxy and chat). It was a 500 before.
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from skyras.testing import ServiceProcess
from tests.utils import register_agent

# A JSON endpoint that writes, per service: (path, body with a NUL in a text field).
WRITES = {
    "marcus": ("/api/tasks", {"title": "Mix\u0000the single"}),
    "letitia": ("/api/search", {"query": "vocals\u0000"}),
    "ari": ("/api/analyse", {"file_id": "\u0000"}),
    "jamal": ("/api/shows", {"slug": "s", "title": "Night\u0000Drive", "language": "en"}),
    "giorgio": ("/api/generate", {"kind": "cover", "prompt": "neon\u0000"}),
    "hub": ("/api/v2/chat", {"message": "create a task to mix\u0000 track 3"}),
}
TABLES = ("tasks", "files", "shows", "events", "mastering_jobs", "generations")


@pytest.fixture
def services(service_env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {**service_env, "SKYRAS_AUTH_MODE": "loopback-open"}
    procs = {
        name: ServiceProcess(f"skyras_{name}.main:app", env, log=tmp_path / f"{name}.log").start()
        for name in WRITES
    }
    for name, proc in procs.items():
        if name != "hub":
            register_agent(procs["hub"].url, service_env["SKYRAS_DATABASE_URL"], name, proc.url)
    try:
        yield {name: proc.url for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            proc.stop()


def _rows(database_url: str) -> dict[str, int]:
    async def run() -> dict[str, int]:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            counts = {}
            for table in TABLES:
                cur = await conn.execute(f"SELECT count(*) FROM {table}")
                row = await cur.fetchone()
                counts[table] = row[0] if row else 0
            return counts

    return asyncio.run(run())


def _assert_refused(response: httpx.Response, where: str) -> None:
    assert response.status_code == 422, (where, response.status_code, response.text)
    error = response.json()["error"]
    assert error["code"] in ("invalid_character", "invalid_value"), error
    assert "NUL" in error["message"] or "0x00" in error["message"], error


def test_nul_is_refused_everywhere_and_nothing_is_written(
    services: dict[str, str], service_env: dict[str, str]
) -> None:
    before = _rows(service_env["SKYRAS_DATABASE_URL"])
    hub = services["hub"]
    with httpx.Client(timeout=30) as client:
        for name, url in services.items():
            path, body = WRITES[name]
            _assert_refused(client.post(url + path, json=body), f"{name} JSON body")
            # The raw escape, as a client that builds JSON by hand sends it.
            raw = '{"title": "a\\u0000b", "query": "a\\u0000b", "message": "a\\u0000b"}'
            response = client.post(
                url + path, content=raw, headers={"Content-Type": "application/json"}
            )
            _assert_refused(response, f"{name} raw JSON escape")
            _assert_refused(client.get(f"{url}/health?q=a%00b"), f"{name} query")
            _assert_refused(client.get(f"{url}{path}/a%00b"), f"{name} path")
        # Through the hub: the proxy and chat answer 422, never 502.
        _assert_refused(
            client.post(f"{hub}/api/v2/agents/marcus/tasks", json=WRITES["marcus"][1]), "proxy"
        )
        _assert_refused(client.get(f"{hub}/api/v2/agents/marcus/tasks?tag=%00"), "proxy query")
        _assert_refused(client.get(f"{hub}/api/v2/agents/marcus/tasks/%00"), "proxy path")
        # Multipart: the file's own bytes may hold NULs, its tags may not (Letitia's check).
        upload = client.post(
            f"{services['letitia']}/api/files",
            files={"file": ("take.wav", b"RIFF\x00\x00\x00\x00WAVE")},
            data={"tags": "vocals\x00final"},
        )
        assert upload.status_code == 422, upload.text
        # An escaped backslash before "u0000" is ordinary text, stored as such.
        kept = client.post(f"{services['marcus']}/api/tasks", json={"title": "path C:\\u0000"})
        assert kept.status_code == 201, kept.text
        assert kept.json()["title"] == "path C:\\u0000"
    after = _rows(service_env["SKYRAS_DATABASE_URL"])
    assert after["tasks"] == before["tasks"] + 1  # only the last, legitimate task
    assert {t: n for t, n in after.items() if t not in ("tasks", "events")} == {
        t: n for t, n in before.items() if t not in ("tasks", "events")
    }
