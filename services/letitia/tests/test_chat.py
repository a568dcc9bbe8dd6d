"""Letitia's chat: find, today's uploads, tagging, and help for anything else."""

from skyras.testing import ServedApp


async def test_chat_finds_lists_and_tags(letitia: ServedApp) -> None:
    async with letitia.client() as client:
        for body in (
            {"filename": "vocals_final.wav", "tags": ["final"]},
            {"filename": "vocals_rough.wav", "tags": ["draft"]},
            {"filename": "mixdown.wav", "tags": []},
        ):
            await client.post("/api/files", json=body)

        async def chat(message: str) -> dict:
            response = await client.post("/api/chat", json={"message": message})
            assert response.status_code == 200, response.text
            return response.json()

        found = await chat("find vocals files tagged final")
        today = await chat("What did we upload today?")
        tagged = await chat("tag mixdown.wav with final")
        after_tag = await chat("find files tagged final")
        missing = await chat("tag nothing-like-this.aiff with final")
        other = await chat("hello there")
        empty = await client.post("/api/chat", json={"message": ""})

    assert found["agent"] == "letitia"
    assert [f["filename"] for f in found["data"]["files"]] == ["vocals_final.wav"]
    assert "vocals_final.wav" in found["reply"]
    assert len(today["data"]["files"]) == 3 and "3 files uploaded today" in today["reply"]
    assert tagged["data"]["file"]["filename"] == "mixdown.wav"
    assert tagged["data"]["file"]["tags"] == ["final"]
    assert {f["filename"] for f in after_tag["data"]["files"]} == {
        "vocals_final.wav",
        "mixdown.wav",
    }
    assert missing["data"]["file"] is None and "couldn't find" in missing["reply"]
    assert "find vocals files tagged final" in other["reply"] and other["data"]["examples"]
    assert empty.status_code == 422
