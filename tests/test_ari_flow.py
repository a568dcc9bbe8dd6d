"""Ari end to end on real services: hub, Letitia and Ari as processes, real Postgres and Redis.

Upload through the hub, tag `master:podcast`, and a linked master appears in
Letitia while `audio.mastered` carries the measured values; the master is
checked with pyloudnorm and ffmpeg's true-peak meter, not with Ari's own figures.
"""

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.ari.tests.media import ffmpeg_true_peak, pyloudnorm_lufs, require_tools
from skyras.testing import ServiceProcess
from tests.utils import Stack, eventually


@pytest.fixture
def studio(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[tuple[Stack, Path]]:
    """The stack (hub, Marcus, Letitia) plus Ari, registered with the hub from its manifest."""
    require_tools()
    with Stack(database_url, redis_url, tmp_path) as stack:
        env = {
            "SKYRAS_DATABASE_URL": database_url,
            "SKYRAS_REDIS_URL": redis_url,
            "SKYRAS_DATA_DIR": str(tmp_path / "data"),
            "SKYRAS_CONSUMER_BLOCK_MS": "100",
            "SKYRAS_LETITIA_URL": stack.letitia.url,
        }
        with ServiceProcess("skyras_ari.main:app", env, log=tmp_path / "ari.log") as ari:
            stack.register("ari", ari)
            yield stack, tmp_path


def speech(folder: Path) -> Path:
    raw, path = folder / "raw.wav", folder / "episode_7.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), "Welcome to episode seven of the studio "
                    "podcast, where we master every mix for the place it will be heard."],
                   check=True)  # fmt: skip
    subprocess.run(["sox", str(raw), "-r", "48000", "-c", "1", str(path)], check=True)
    return path


def test_a_file_tagged_master_podcast_through_the_hub_gets_a_linked_master(
    studio: tuple[Stack, Path],
) -> None:
    stack, folder = studio
    source_path = speech(folder)
    with stack.client() as hub:
        uploaded = hub.post(
            "/agents/letitia/upload",
            files={"file": (source_path.name, source_path.read_bytes(), "audio/wav")},
        )
        assert uploaded.status_code == 201, uploaded.text
        source = uploaded.json()
        tagged = hub.post(f"/agents/letitia/files/{source['id']}/tags",
                          json={"tags": ["master:podcast"]}, headers={"X-Request-ID": "req-ari-1"})  # fmt: skip
        assert tagged.status_code == 200, tagged.text

        mastered = eventually(lambda: stack.events(type="audio.mastered"), 120, "audio.mastered")
        event = mastered[0]
        assert event["subject"] == f"files/{source['id']}"
        assert event["correlationid"] == "req-ari-1"  # the tagging request caused it
        (made,) = event["data"]["masters"]
        assert made["preset"] == "podcast" and made["target"]["integrated_lufs"] == -19.0
        measured = made["measured"]
        assert abs(measured["integrated_lufs"] + 19) <= 0.5
        assert measured["true_peak_dbtp"] <= -0.9 and measured["channels"] == 1

        linked = hub.get("/agents/letitia/files",
                         params=[("tag", "master"), ("tag", f"source:{source['id']}")]).json()  # fmt: skip
        (master,) = linked["items"]
        assert master["id"] == made["file_id"] and "podcast" in master["tags"]
        content = hub.get(f"/agents/letitia/files/{master['id']}/content")
        assert content.status_code == 200
    master_path = folder / "master.wav"
    master_path.write_bytes(content.content)
    assert abs(pyloudnorm_lufs(master_path) + 19) <= 0.5
    assert ffmpeg_true_peak(master_path) <= -1.0 + 0.1
    assert abs(pyloudnorm_lufs(master_path) - measured["integrated_lufs"]) <= 0.3
    progress = stack.events(type="audio.mastering_progress")
    assert progress and all(e["data"]["job_id"] == event["data"]["job_id"] for e in progress)


def test_master_jobs_presets_and_chat_through_the_hub(studio: tuple[Stack, Path]) -> None:
    stack, folder = studio
    source_path = speech(folder)
    with stack.client() as hub:
        source = hub.post(
            "/agents/letitia/upload",
            files={"file": ("mix_v3.wav", source_path.read_bytes(), "audio/wav")},
        ).json()
        assert [p["name"] for p in hub.get("/agents/ari/presets").json()["items"]][:2] == [
            "streaming", "apple_music",
        ]  # fmt: skip
        created = hub.post("/agents/ari/master",
                           json={"file_id": source["id"], "presets": ["ebu_r128"]})  # fmt: skip
        assert created.status_code == 202, created.text

        def finished() -> dict[str, Any] | None:
            job = hub.get(f"/agents/ari/jobs/{created.json()['id']}").json()
            return job if job["status"] == "completed" else None

        job = eventually(finished, 120, "the API's job completed")
        assert abs(job["results"]["ebu_r128-wav24"]["measured"]["integrated_lufs"] + 23) <= 0.5

        chat = hub.post(
            "/chat", json={"message": "@ari master mix_v3.wav for streaming and podcast"}
        )
        assert chat.status_code == 200, chat.text
        reply = chat.json()
        assert reply["agent"] == "ari" and "Mastering mix_v3.wav" in reply["reply"]
        by_keywords = hub.post("/chat", json={"message": "what is the loudness of mix_v3.wav"})
        assert by_keywords.json()["agent"] == "ari"
        missing = hub.post("/agents/ari/master", json={
            "file_id": "0190a0a0-0000-7000-8000-000000000000", "presets": ["podcast"]})  # fmt: skip
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "source_not_found"
