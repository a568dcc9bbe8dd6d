"""Giorgio end to end through the hub: hub, Marcus, Letitia and Giorgio as processes.

Giorgio stores what it makes in Letitia through the hub (its default), so
this is the path a user's request and its files really take.
"""

import hashlib
import io
from collections.abc import Iterator

import pytest
from PIL import Image

from skyras.testing import ServiceProcess
from tests.utils import Stack, eventually


@pytest.fixture
def giorgio(stack: Stack) -> Iterator[ServiceProcess]:
    env = {
        "SKYRAS_DATABASE_URL": stack.database_url,
        "SKYRAS_REDIS_URL": stack.hub.env["SKYRAS_REDIS_URL"],
        "SKYRAS_DATA_DIR": str(stack.logs / "data"),
        "SKYRAS_HUB_URL": stack.hub.url,
        "SKYRAS_CONSUMER_BLOCK_MS": "100",
        "SKYRAS_JOB_POLL_SECONDS": "0.1",
    }
    with ServiceProcess("skyras_giorgio.main:app", env, log=stack.logs / "giorgio.log") as proc:
        stack.register("giorgio", proc)
        yield proc


def test_a_cover_requested_for_a_task_s_release_appears_in_the_library_linked_to_the_task(
    stack: Stack, giorgio: ServiceProcess
) -> None:
    with stack.client() as client:
        task = client.post(
            "/agents/marcus/task", json={"title": "Artwork for the Night Drive single"}
        ).json()
        made = client.post(
            "/agents/giorgio/generate",
            json={
                "kind": "artwork",
                "release": {"title": "Night Drive", "artist": "Aurora Lane"},
                "palette": "neon",
                "seed": 42,
                "task_id": task["id"],
            },
            timeout=120,
        )
        generation = made.json()
        cover = next(o for o in generation["outputs"] if o["name"] == "cover")
        library = client.get("/agents/letitia/files", params={"tag": "giorgio"}).json()
        content = client.get(f"/agents/letitia/files/{cover['file_id']}/content").content
        file_tasks = client.get(f"/agents/letitia/files/{cover['file_id']}/tasks").json()
        task_files = client.get(f"/agents/marcus/tasks/{task['id']}/files").json()
        listed = client.get("/agents/giorgio/generations", params={"task_id": task["id"]}).json()

    assert made.status_code == 201, made.text
    assert {f["id"] for f in library["items"]} == {o["file_id"] for o in generation["outputs"]}
    assert hashlib.sha256(content).hexdigest() == cover["sha256"]
    image = Image.open(io.BytesIO(content))
    assert image.format == "JPEG" and image.size == (3000, 3000) and image.mode == "RGB"
    assert [t["id"] for t in file_tasks["items"]] == [task["id"]]
    assert {f["id"] for f in task_files["items"]} == {o["file_id"] for o in generation["outputs"]}
    assert [g["id"] for g in listed["items"]] == [generation["id"]]
    subject = f"generations/{generation['id']}"
    events = eventually(
        lambda: [
            e["type"] for e in stack.events(source="/agents/giorgio") if e["subject"] == subject
        ],
        what="giorgio's events in the hub's audit trail",
    )
    assert sorted(events) == ["creative.generated", "creative.requested"]
    associated = [
        e for e in stack.events(type="file.associated") if e["data"]["task_id"] == task["id"]
    ]
    assert len(associated) == 4


def test_chat_through_the_hub_reaches_giorgio_and_a_task_assigned_to_it_gets_made(
    stack: Stack, giorgio: ServiceProcess
) -> None:
    with stack.client() as client:
        chat = client.post(
            "/chat", json={"message": "@giorgio make a cover for Night Drive, neon"}, timeout=120
        )
        routed = client.post(
            "/chat", json={"message": "write copy for Blue Hour by Mila Stone"}, timeout=120
        )
        task = client.post(
            "/agents/marcus/task",
            json={
                "title": 'Release kit for "Dawn" by Mo',
                "assignee": "giorgio",
                "description": "sunset",
            },
        ).json()

        def made_for_task() -> dict | None:
            items = client.get(
                "/agents/giorgio/generations", params={"task_id": task["id"]}
            ).json()["items"]
            return items[0] if items and items[0]["status"] == "succeeded" else None

        generation = eventually(made_for_task, timeout=90, what="the release kit for the task")
        task_files = client.get(f"/agents/marcus/tasks/{task['id']}/files").json()

    assert chat.status_code == 200, chat.text
    assert chat.json()["agent"] == "giorgio" and "in the library" in chat.json()["reply"]
    assert (
        routed.json()["agent"] == "giorgio"
        and routed.json()["data"]["generation"]["kind"] == "copy"
    )
    assert generation["params"]["palette"] == "sunset" and generation["kind"] == "release_kit"
    assert len(task_files["items"]) == 5  # four images and the copy document
