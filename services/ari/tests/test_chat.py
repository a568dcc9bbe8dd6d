"""Chat: "@ari master mix_v3.wav for streaming and podcast" and the other requests."""

from pathlib import Path

from skyras.testing import ServedApp
from skyras_ari.handlers import presets_asked

from .conftest import upload, wait_for_job


async def test_master_a_file_by_name_for_two_presets(
    ari: ServedApp, letitia: ServedApp, media: dict[str, Path]
) -> None:
    source = await upload(letitia, media["tones_stereo_44k"], name="mix_v3.wav")
    async with ari.client() as http:
        reply = (await http.post("/api/chat", json={
            "message": "master mix_v3.wav for streaming and podcast"})).json()  # fmt: skip
        assert reply["agent"] == "ari" and "Mastering mix_v3.wav" in reply["reply"]
        job = reply["data"]["job"]
        assert job["requested_by"] == "chat" and job["source_file_id"] == source["id"]
        assert [t["preset"] for t in job["targets"]] == ["streaming", "podcast"]
        done = await wait_for_job(ari, job["id"])
        assert done["status"] == "completed"

        as_mp3 = (await http.post("/api/chat", json={
            "message": "please master mix_v3.wav for apple music as mp3"})).json()  # fmt: skip
        assert as_mp3["data"]["job"]["targets"][0] == {**as_mp3["data"]["job"]["targets"][0],
                                                        "preset": "apple_music", "format": "mp3"}  # fmt: skip
        status = (await http.post("/api/chat", json={"message": "status"})).json()
        assert "mix_v3.wav: " in status["reply"]


async def test_how_loud_missing_files_and_help(
    ari: ServedApp, letitia: ServedApp, media: dict[str, Path]
) -> None:
    await upload(letitia, media["speech_mono"], name="vo_take2.wav")
    async with ari.client() as http:
        loud = (await http.post("/api/chat", json={"message": "how loud is vo_take2.wav?"})).json()
        missing = (await http.post("/api/chat", json={"message": "master nope.wav"})).json()
        presets = (await http.post("/api/chat", json={"message": "which presets?"})).json()
        other = (await http.post("/api/chat", json={"message": "hello"})).json()
    assert "vo_take2.wav: " in loud["reply"] and "LUFS integrated" in loud["reply"]
    assert loud["data"]["analysis"]["channels"] == 1
    assert missing["reply"] == "I can't find nope.wav in the library."
    assert "podcast: -16 LUFS, -1 dBTP" in presets["reply"]
    assert "master mix_v3.wav for streaming and podcast" in other["reply"]


def test_master_tags_name_presets() -> None:
    assert presets_asked(["master"]) == (["streaming"], [])
    assert presets_asked(["master:podcast", "master:ebu", "final"]) == (["podcast", "ebu_r128"], [])
    assert presets_asked(["master:loudest"]) == ([], ["loudest"])
    assert presets_asked(["mastered", "remaster"]) == ([], [])
