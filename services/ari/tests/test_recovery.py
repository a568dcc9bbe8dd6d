"""Jobs survive a killed worker, stop when cancelled, and are shared by several processes."""

import asyncio
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import DictRow

from skyras.testing import ServedApp, ServiceProcess

from .conftest import AriFactory, events, letitia_files, upload, wait_for_job

Db = psycopg.AsyncConnection[DictRow]
SIX_TARGETS = [
    {"preset": p, "format": f}
    for p, f in (("streaming", "wav24"), ("apple_music", "aac"), ("podcast", "mp3"),
                 ("ebu_r128", "flac"), ("atsc_a85", "wav16"), ("streaming", "mp3"))
]  # fmt: skip


@pytest.fixture(scope="module")
def long_mix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three minutes of stereo 48 kHz: long enough to act while a job runs."""
    path = tmp_path_factory.mktemp("long") / "album_mix.wav"
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "2", "-b", "16", str(path), "synth", "180",
                    "pinknoise", "vol", "0.4"], check=True)  # fmt: skip
    return path


def ffmpeg_running_for(job_id: str) -> list[int]:
    """Pids of ffmpeg processes working in the job's folder."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"ffmpeg") and job_id.encode() in b" ".join(cmdline):
            pids.append(int(entry))
    return pids


async def wait_job(url: str, job_id: str, check: Any, timeout: float = 120) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        for _ in range(int(timeout * 10)):
            job: dict[str, Any] = (await http.get(f"/api/jobs/{job_id}")).json()
            if check(job):
                return job
            await asyncio.sleep(0.1)
    raise AssertionError(f"job never reached the condition: {job}")


async def test_cancel_stops_ffmpeg_and_leaves_no_partial_file_in_letitia(
    ari: ServedApp, letitia: ServedApp, long_mix: Path, db: Db, tmp_path: Path
) -> None:
    source = await upload(letitia, long_mix)
    async with ari.client() as http:
        job = (await http.post("/api/master", json={"file_id": source["id"],
                                                    "targets": SIX_TARGETS})).json()  # fmt: skip
    # Cancel once one master is already stored and ffmpeg works on the next.
    await wait_job(ari.url, job["id"], lambda j: j["results"] and len(j["results"]) >= 1)
    for _ in range(100):
        if ffmpeg_running_for(job["id"]):
            break
        await asyncio.sleep(0.05)
    assert ffmpeg_running_for(job["id"]), "ffmpeg should be mastering the next target"
    assert await letitia_files(letitia, f"ari-job:{job['id']}")  # the first master is there
    async with ari.client() as http:
        cancelling = await http.delete(f"/api/jobs/{job['id']}")
        assert cancelling.status_code == 202 and cancelling.json()["cancel_requested"] is True
    done = await wait_for_job(ari, job["id"])
    assert done["status"] == "cancelled"
    assert ffmpeg_running_for(job["id"]) == []
    assert await letitia_files(letitia, f"ari-job:{job['id']}") == []
    assert await letitia_files(letitia, f"source:{source['id']}") == []
    assert [e["data"]["job_id"] for e in await events(db, "audio.mastering_cancelled")] == [
        job["id"]
    ]
    assert await events(db, "audio.mastered") == []
    assert not (tmp_path / "ari" / "jobs" / job["id"]).exists()
    async with ari.client() as http:
        again = await http.delete(f"/api/jobs/{job['id']}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


async def test_a_queued_job_is_cancelled_at_once(
    ari_app: AriFactory, letitia: ServedApp, media: dict[str, Path], db: Db
) -> None:
    source = await upload(letitia, media["tones_stereo_44k"])
    # The pool looked for work at startup and now sleeps a minute: the job stays queued.
    async with ari_app(job_poll_seconds=60) as ari, ari.client() as http:
        await asyncio.sleep(0.5)
        job = (await http.post("/api/master", json={"file_id": source["id"],
                                                    "presets": ["streaming"]})).json()  # fmt: skip
        cancelled = await http.delete(f"/api/jobs/{job['id']}")
        listed = (await http.get("/api/jobs", params={"status": "cancelled"})).json()
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["attempts"] == 0
    assert [j["id"] for j in listed["items"]] == [job["id"]]
    assert len(await events(db, "audio.mastering_cancelled")) == 1
    assert await events(db, "audio.mastering_started") == []


async def test_a_worker_killed_mid_job_is_reclaimed_and_the_job_completes_once(
    letitia: ServedApp, long_mix: Path, db: Db, service_env: dict[str, str], tmp_path: Path
) -> None:
    source = await upload(letitia, long_mix)
    env = {**service_env, "SKYRAS_LETITIA_URL": letitia.url, "SKYRAS_JOB_LEASE_SECONDS": "2",
           "SKYRAS_JOB_POLL_SECONDS": "0.1", "SKYRAS_CONSUMER_BLOCK_MS": "50",
           "SKYRAS_JOB_WORKERS": "1"}  # fmt: skip
    first = ServiceProcess("skyras_ari.main:app", env, log=tmp_path / "ari-1.log").start()
    try:
        async with httpx.AsyncClient(base_url=first.url, timeout=10) as http:
            job = (await http.post("/api/master", json={"file_id": source["id"],
                                                        "targets": SIX_TARGETS[:3]})).json()  # fmt: skip
        # Killed after storing its first master, while mastering the second.
        await wait_job(first.url, job["id"], lambda j: j["results"] and len(j["results"]) == 1)
    finally:
        first.stop(signal.SIGKILL)
    stored_before = await letitia_files(letitia, f"ari-job:{job['id']}")
    assert len(stored_before) == 2  # the first master and its waveform

    with ServiceProcess("skyras_ari.main:app", env, log=tmp_path / "ari-2.log") as second:
        done = await wait_job(second.url, job["id"], lambda j: j["status"] == "completed")
    assert done["attempts"] == 2
    stored = await letitia_files(letitia, f"ari-job:{job['id']}")
    outputs = [next(t for t in f["tags"] if t.startswith("ari-output:")) for f in stored]
    # 3 masters + 3 waveforms + 1 report, each once; the first attempt's kept, not stored again.
    assert len(outputs) == len(set(outputs)) == 7
    assert {f["id"] for f in stored_before} <= {f["id"] for f in stored}
    assert len(await events(db, "audio.mastered")) == 1
    assert [e["data"]["attempt"] for e in await events(db, "audio.mastering_started")] == [1, 2]


async def test_two_ari_processes_share_the_jobs_without_running_one_twice(
    ari_app: AriFactory, letitia: ServedApp, media: dict[str, Path], db: Db
) -> None:
    names = ["tones_stereo_44k", "sweep_mono_48k", "pink_stereo_48k", "speech_mono"]
    sources = [await upload(letitia, media[n]) for n in names]
    async with ari_app(job_workers=1) as one, ari_app(job_workers=1) as two:
        async with one.client() as http:
            jobs = [(await http.post("/api/master", json={"file_id": s["id"],
                                                          "presets": ["podcast"]})).json()
                    for s in sources]  # fmt: skip
        finished = [await wait_for_job(two, j["id"]) for j in jobs]
    assert [j["status"] for j in finished] == ["completed"] * 4
    assert [j["attempts"] for j in finished] == [1] * 4
    cur = await db.execute("SELECT DISTINCT worker FROM mastering_jobs")
    assert len(await cur.fetchall()) == 2  # both processes took jobs
    assert len(await events(db, "audio.mastered")) == 4
    assert len(await events(db, "audio.mastering_started")) == 4
    for source in sources:
        assert len(await letitia_files(letitia, "master", f"source:{source['id']}")) == 1


async def test_a_worker_shut_down_mid_job_hands_it_back_without_waiting_for_the_lease(
    ari_app: AriFactory, letitia: ServedApp, long_mix: Path, db: Db
) -> None:
    source = await upload(letitia, long_mix)
    # A five-minute lease: only a job handed back at shutdown runs again within the test.
    async with ari_app(job_lease_seconds=300) as ari:
        async with ari.client() as http:
            job = (await http.post("/api/master", json={"file_id": source["id"],
                                                        "targets": SIX_TARGETS[:2]})).json()  # fmt: skip
        await wait_job(
            ari.url, job["id"], lambda j: j["status"] == "running" and j["progress"] > 0.1
        )
    cur = await db.execute(
        "SELECT status, worker, lease_until <= now() AS free FROM mastering_jobs WHERE id = %s",
        (job["id"],),
    )
    assert await cur.fetchone() == {"status": "running", "worker": None, "free": True}
    assert ffmpeg_running_for(job["id"]) == []
    async with ari_app(job_lease_seconds=300) as again:
        done = await wait_job(again.url, job["id"], lambda j: j["status"] == "completed", 90)
    assert done["attempts"] == 2
    assert len(await letitia_files(letitia, "master", f"source:{source['id']}")) == 2
