"""Mastering jobs against a real Letitia: sources read over HTTP, masters stored back, linked."""

import json
from pathlib import Path

import psycopg
from psycopg.rows import DictRow

from skyras.testing import ServedApp

from .conftest import events, letitia_files, upload, wait_for_job
from .media import ffmpeg_true_peak, pyloudnorm_lufs

Db = psycopg.AsyncConnection[DictRow]


async def test_one_job_makes_a_linked_master_per_target_with_report_and_waveform(
    ari: ServedApp, letitia: ServedApp, media: dict[str, Path], db: Db, tmp_path: Path
) -> None:
    source = await upload(letitia, media["dynamic_stereo_44k"], name="mix_v3.wav")
    async with ari.client() as http:
        created = await http.post(
            "/api/master",
            json={"file_id": source["id"], "presets": ["streaming"],
                  "targets": [{"preset": "podcast", "format": "mp3", "channels": 1}]},
        )  # fmt: skip
        assert created.status_code == 202, created.text
        assert created.json()["status"] == "queued"
        job = await wait_for_job(ari, created.json()["id"])
    assert job["status"] == "completed", job["error"]
    assert job["progress"] == 1.0 and job["analysis"]["channels"] == 2

    masters = await letitia_files(letitia, "master", f"source:{source['id']}")
    by_preset = {next(t for t in m["tags"] if t in ("streaming", "podcast")): m for m in masters}
    assert set(by_preset) == {"streaming", "podcast"}
    assert by_preset["podcast"]["filename"] == "mix_v3.master-podcast-mp3.mp3"
    async with letitia.client() as http:
        for preset, lufs, suffix in (("streaming", -14.0, "wav"), ("podcast", -19.0, "mp3")):
            record = by_preset[preset]
            tagged_lufs = float(next(t for t in record["tags"] if t.startswith("lufs:"))[5:])
            assert abs(tagged_lufs - lufs) <= 0.5  # the measured loudness, as a tag
            content = await http.get(f"/api/files/{record['id']}/content")
            path = tmp_path / f"{preset}.{suffix}"
            path.write_bytes(content.content)
            assert abs(pyloudnorm_lufs(path) - lufs) <= 0.5
            assert ffmpeg_true_peak(path) <= -1.0 + 0.1

        report_files = await letitia_files(letitia, "loudness-report", f"source:{source['id']}")
        assert len(report_files) == 1
        report = (await http.get(f"/api/files/{report_files[0]['id']}/content")).json()
        waveforms = await letitia_files(letitia, "waveform", f"source:{source['id']}")
        png = (await http.get(f"/api/files/{waveforms[0]['id']}/content")).content
    assert report["source"]["filename"] == "mix_v3.wav"
    assert {m["key"] for m in report["masters"]} == {"streaming-wav24", "podcast-mp3"}
    assert len(waveforms) == 2 and png.startswith(b"\x89PNG")

    mastered = await events(db, "audio.mastered")
    assert len(mastered) == 1
    data = mastered[0]["data"]
    assert data["file_id"] == source["id"] and data["report_file_id"] == report_files[0]["id"]
    figures = {m["preset"]: m["measured"]["integrated_lufs"] for m in data["masters"]}
    assert abs(figures["streaming"] + 14) <= 0.5 and abs(figures["podcast"] + 19) <= 0.5
    assert len(await events(db, "audio.mastering_started")) == 1
    progress = [e["data"]["percent"] for e in await events(db, "audio.mastering_progress")]
    assert progress and progress == sorted(progress) and progress[-1] <= 100


async def test_bad_requests_get_clear_errors_and_write_nothing(
    ari: ServedApp, letitia: ServedApp, media: dict[str, Path], db: Db
) -> None:
    notes = await upload(letitia, media["not_audio"], name="notes.wav")
    wma = await upload(letitia, media["mix.wma"])
    empty = await upload(letitia, media["empty"], name="empty.wav")
    good = await upload(letitia, media["tones_stereo_44k"])
    async with letitia.client() as http:
        record_only = (await http.post("/api/files", json={"filename": "idea.wav"})).json()
    before = len(await letitia_files(letitia))
    cases = [
        ({"file_id": "0190a0a0-0000-7000-8000-000000000000", "presets": ["streaming"]},
         404, "source_not_found"),
        ({"file_id": notes["id"], "presets": ["streaming"]}, 422, "not_audio"),
        ({"file_id": wma["id"], "presets": ["streaming"]}, 422, "unsupported_format"),
        ({"file_id": record_only["id"], "presets": ["streaming"]}, 422, "no_content"),
        ({"file_id": good["id"], "presets": ["radio-loud"]}, 422, "validation_error"),
        ({"file_id": good["id"], "targets": [{"integrated_lufs": -2}]}, 422, "validation_error"),
        ({"file_id": good["id"], "targets": [{"preset": "streaming", "true_peak_dbtp": 3}]},
         422, "validation_error"),
        ({"file_id": good["id"], "targets": [{"preset": "streaming", "format": "mp3",
                                              "sample_rate": 96000}]}, 422, "validation_error"),
        ({"file_id": good["id"]}, 422, "validation_error"),
    ]  # fmt: skip
    async with ari.client() as http:
        for body, status, code in cases:
            response = await http.post("/api/master", json=body)
            assert response.status_code == status, (body, response.text)
            error = response.json()["error"]
            assert error["code"] == code and error["message"], body
        empty_answer = (await http.post("/api/master", json={"file_id": empty["id"],
                                                             "presets": ["podcast"]})).json()  # fmt: skip
        assert empty_answer["error"]["code"] in ("empty_audio", "not_audio")
        unknown = (await http.post("/api/master", json={"file_id": good["id"],
                                                        "presets": ["radio-loud"]})).json()  # fmt: skip
    assert "unknown preset 'radio-loud'" in unknown["error"]["message"]
    cur = await db.execute("SELECT count(*) AS n FROM mastering_jobs")
    assert (await cur.fetchone() or {})["n"] == 0
    assert len(await letitia_files(letitia)) == before


async def test_silent_audio_fails_the_job_saying_so_and_stores_nothing(
    ari: ServedApp, letitia: ServedApp, media: dict[str, Path], db: Db
) -> None:
    silent = await upload(letitia, media["silent"], name="room_tone.wav")
    async with ari.client() as http:
        created = (await http.post("/api/master", json={"file_id": silent["id"],
                                                        "presets": ["podcast"]})).json()  # fmt: skip
        job = await wait_for_job(ari, created["id"])
        analysed = (await http.post("/api/analyse", json={"file_id": silent["id"]})).json()
    assert job["status"] == "failed" and job["error"]["code"] == "silent_audio"
    assert "silent" in job["error"]["message"]
    assert analysed["silent"] is True and analysed["integrated_lufs"] is None
    assert await letitia_files(letitia, f"source:{silent['id']}") == []
    failed = await events(db, "audio.failed")
    assert [e["data"]["error"]["code"] for e in failed] == ["silent_audio"]


async def test_analyse_reports_the_figures_of_a_letitia_file(
    ari: ServedApp, letitia: ServedApp, media: dict[str, Path]
) -> None:
    clipped = await upload(letitia, media["clipped_mono_48k"], name="hot.wav")
    async with ari.client() as http:
        figures = (await http.post("/api/analyse", json={"file_id": clipped["id"]})).json()
        presets = (await http.get("/api/presets")).json()
    assert abs(figures["integrated_lufs"] - pyloudnorm_lufs(media["clipped_mono_48k"])) <= 0.3
    assert figures["clipped_samples"] > 100_000 and figures["channels"] == 1
    assert figures["sample_rate"] == 48000 and abs(figures["duration_seconds"] - 5) < 0.001
    assert [p["name"] for p in presets["items"]] == [
        "streaming", "apple_music", "podcast", "ebu_r128", "atsc_a85",
    ]  # fmt: skip


async def test_a_file_tagged_master_with_a_preset_is_mastered_once(
    ari: ServedApp, letitia: ServedApp, media: dict[str, Path], db: Db
) -> None:
    source = await upload(letitia, media["speech_mono"], name="episode_12.wav")
    async with letitia.client() as http:
        tagged = await http.post(f"/api/files/{source['id']}/tags",
                                 json={"tags": ["master:podcast", "master:ebu"]})  # fmt: skip
        assert tagged.status_code == 200
    async with ari.client() as http:
        for _ in range(600):
            listed = (await http.get("/api/jobs", params={"source_file_id": source["id"]})).json()
            if listed["items"] and listed["items"][0]["status"] == "completed":
                break
            await __import__("asyncio").sleep(0.1)
    assert len(listed["items"]) == 1
    job = listed["items"][0]
    assert job["requested_by"] == "tag" and job["status"] == "completed"
    assert [t["preset"] for t in job["targets"]] == ["podcast", "ebu_r128"]
    masters = await letitia_files(letitia, "master", f"source:{source['id']}")
    assert sorted(m["filename"] for m in masters) == [
        "episode_12.master-ebu_r128-wav24.wav", "episode_12.master-podcast-wav24.wav",
    ]  # fmt: skip
    # The masters are tagged `master` too: Ari does not master its own masters.
    assert len(await events(db, "audio.mastered")) == 1


async def test_a_master_tag_naming_no_preset_says_so(
    ari: ServedApp, letitia: ServedApp, media: dict[str, Path], db: Db
) -> None:
    await upload(letitia, media["tones_stereo_44k"], tags="master:loudest")
    for _ in range(100):
        failed = await events(db, "audio.failed")
        if failed:
            break
        await __import__("asyncio").sleep(0.1)
    assert failed[0]["data"]["error"]["code"] == "unknown_preset"
    assert "loudest" in failed[0]["data"]["error"]["message"]
    assert json.dumps(failed[0]["data"])  # JSON all the way
