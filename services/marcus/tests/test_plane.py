"""Plane sync and listing against a Plane API v1 stand-in with rate limits."""

import asyncio
import time
from collections.abc import Callable

import httpx

from skyras.testing import serve
from skyras_marcus.integrations.plane import PlaneClient
from tests.standins.plane import PlaneState, plane_app

from .conftest import SettingsFactory, running_marcus
from .test_tasks import assert_error

PROJECT = "4af68566-94a4-4eb3-94aa-50dc9427067b"


async def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_without_credentials_plane_is_not_configured(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/plane/issues")).json() == {
        "configured": False,
        "items": [],
        "next_cursor": None,
    }


async def test_tasks_sync_to_work_items_and_list_in_pages(marcus_settings: SettingsFactory) -> None:
    state = PlaneState(
        api_key="plane_api_key", workspace="studio", project_id=PROJECT, rate_limit=4
    )
    async with serve(plane_app(state)) as plane:
        settings = marcus_settings(
            plane_url=plane.url,
            plane_api_key="plane_api_key",
            plane_workspace="studio",
            plane_project_id=PROJECT,
        )
        async with running_marcus(settings) as marcus, marcus.client() as client:
            created = []
            for title, priority in (
                ("Mix track 1", "high"),
                ("Mix track 2", "low"),
                ("Cover art", "urgent"),
            ):
                response = await client.post(
                    "/api/tasks",
                    json={"title": title, "priority": priority, "due_date": "2026-12-01"},
                )
                created.append(response.json())
            await client.patch(
                f"/api/tasks/{created[0]['id']}",
                json={"status": "completed", "title": "Mix track 1 (final)"},
            )
            await client.delete(f"/api/tasks/{created[1]['id']}")

            def synced() -> bool:
                names = {w["name"] for w in state.work_items.values()}
                return names == {"Mix track 1 (final)", "Cover art"}

            await wait_for(synced)
            by_task = {w["external_id"]: w for w in state.work_items.values()}
            final = by_task[created[0]["id"]]
            done = next(s["id"] for s in state.states if s["group"] == "completed")
            assert final["state"] == done and final["priority"] == "high"
            assert final["target_date"] == "2026-12-01" and final["external_source"] == "skyras"
            assert by_task[created[2]["id"]]["priority"] == "urgent"
            assert all(
                method != "GET" or "states" in path or "work-items" in path
                for method, path in state.requests
            )

            first = (await client.get("/api/plane/issues", params={"per_page": 1})).json()
            assert first["configured"] is True and len(first["items"]) == 1
            assert first["next_cursor"] == "1:1:0"
            second = (
                await client.get(
                    "/api/plane/issues", params={"per_page": 1, "cursor": first["next_cursor"]}
                )
            ).json()
            assert second["next_cursor"] is None
            ids = {first["items"][0]["task_id"], second["items"][0]["task_id"]}
            assert ids == {created[0]["id"], created[2]["id"]}

        settings = marcus_settings(
            plane_url=plane.url,
            plane_api_key="wrong",
            plane_workspace="studio",
            plane_project_id=PROJECT,
        )
        async with running_marcus(settings) as marcus, marcus.client() as client:
            error = assert_error(await client.get("/api/plane/issues"), 502, "bad_gateway")
            assert "Given API token is not valid" in error["message"]


async def test_client_waits_out_429_with_retry_after() -> None:
    state = PlaneState(
        api_key="k", workspace="studio", project_id=PROJECT, rate_limit=2, window_seconds=1.0
    )
    async with serve(plane_app(state)) as plane:
        # Someone else spends the budget of this key.
        async with httpx.AsyncClient(base_url=plane.url) as other:
            for _ in range(2):
                ok = await other.get(
                    f"/api/v1/workspaces/studio/projects/{PROJECT}/work-items/",
                    headers={"X-API-Key": "k"},
                )
                assert ok.status_code == 200
            assert ok.headers["X-RateLimit-Remaining"] == "0"
            missing = await other.get(f"/api/v1/workspaces/studio/projects/{PROJECT}/work-items/")
            assert missing.status_code == 401
        client = PlaneClient(
            base_url=plane.url, api_key="k", workspace="studio", project_id=PROJECT
        )
        try:
            started = time.monotonic()
            page = await client.list_work_items()
            assert page == {"results": [], "next_cursor": None}
            assert state.throttled >= 1 and time.monotonic() - started >= 0.5
            # Budget spent again: the client now holds back instead of hitting 429.
            throttled = state.throttled
            for _ in range(3):
                await client.list_work_items()
            assert state.throttled == throttled
        finally:
            await client.aclose()
