"""Calendar events, the iCalendar feed, and Cal.com bookings against a Cal.com stand-in."""

import uuid
from datetime import UTC, date, datetime

import httpx
from icalendar import Calendar

from skyras.testing import serve
from tests.standins.calcom import CalcomState, calcom_app

from .conftest import SettingsFactory, running_marcus
from .test_tasks import assert_error


async def test_events_and_ics_feed(client: httpx.AsyncClient) -> None:
    all_day = (
        await client.post(
            "/api/tasks",
            json={
                "title": "Master album",
                "due_date": "2026-12-04",
                "priority": "urgent",
                "tags": ["album"],
            },
        )
    ).json()
    timed = (
        await client.post(
            "/api/tasks",
            json={
                "title": "Call the label",
                "due_date": "2026-12-02T15:30:00+00:00",
                "description": "Long notes " * 30,
                "status": "cancelled",
            },
        )
    ).json()
    await client.post("/api/tasks", json={"title": "No due date"})

    events = (await client.get("/api/calendar/events")).json()
    assert events["calcom"] == {"configured": False}
    assert [e["title"] for e in events["items"]] == ["Call the label", "Master album"]
    first, second = events["items"]
    assert first["all_day"] is False and first["start"] == first["end"] == "2026-12-02T15:30:00Z"
    assert first["status"] == "cancelled" and first["task_id"] == timed["id"]
    assert (
        second["all_day"] is True
        and second["start"] == "2026-12-04"
        and second["end"] == "2026-12-05"
    )
    assert second["source"] == "skyras" and second["priority"] == "urgent"
    assert second["url"] == f"http://hub.test/api/v2/agents/marcus/tasks/{all_day['id']}"

    window = (
        await client.get("/api/calendar/events", params={"from": "2026-12-03", "to": "2026-12-04"})
    ).json()
    assert [e["title"] for e in window["items"]] == ["Master album"]
    assert_error(
        await client.get("/api/calendar/events", params={"from": "2026-12-05", "to": "2026-12-01"}),
        422,
        "validation_error",
    )
    assert_error(
        await client.get("/api/calendar/events", params={"from": "2026-12-05T10:00:00"}),
        422,
        "validation_error",
    )

    response = await client.get("/api/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    raw = response.content
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    assert b"\r\n " in raw  # the long description was folded

    cal = Calendar.from_ical(raw)
    assert cal["VERSION"] == "2.0" and "SkyRas" in str(cal["PRODID"])
    vevents = {str(v["SUMMARY"]): v for v in cal.walk("VEVENT")}
    assert set(vevents) == {"Master album", "Call the label"}
    album = vevents["Master album"]
    assert str(album["UID"]) == f"task-{all_day['id']}@skyras"
    assert album.decoded("DTSTART") == date(2026, 12, 4) and album.decoded("DTEND") == date(
        2026, 12, 5
    )
    assert str(album["STATUS"]) == "CONFIRMED" and album.decoded("PRIORITY") == 1
    assert isinstance(album.decoded("DTSTAMP"), datetime)
    call = vevents["Call the label"]
    assert call.decoded("DTSTART") == datetime(2026, 12, 2, 15, 30, tzinfo=UTC)
    assert str(call["STATUS"]) == "CANCELLED"
    assert str(call["DESCRIPTION"]).startswith("Long notes Long notes")


async def test_bookings_without_calcom_say_not_configured(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/calendar/bookings")).json() == {"configured": False, "items": []}
    task = (await client.post("/api/tasks", json={"title": "Review"})).json()
    response = await client.post(
        "/api/calendar/bookings",
        json={"task_id": task["id"], "start": "2026-12-01T10:00:00Z", "event_type_id": 42,
              "attendee": {"name": "Ana", "email": "ana@example.com", "timeZone": "Europe/Rome"}},
    )  # fmt: skip
    assert_error(response, 503, "not_configured")


async def test_calcom_bookings_through_the_v2_contract(marcus_settings: SettingsFactory) -> None:
    state = CalcomState(api_key="cal_test_key")
    async with serve(calcom_app(state)) as calcom:
        settings = marcus_settings(calcom_url=calcom.url, calcom_api_key="cal_test_key")
        async with running_marcus(settings) as marcus, marcus.client() as client:
            task = (
                await client.post(
                    "/api/tasks", json={"title": "Mix review", "due_date": "2026-12-01"}
                )
            ).json()
            assert (await client.get("/api/calendar/bookings")).json() == {
                "configured": True,
                "items": [],
            }

            booking_in = {
                "task_id": task["id"],
                "start": "2026-12-01T11:00:00+01:00",
                "event_type_id": 42,
                "attendee": {"name": "Ana", "email": "ana@example.com", "timeZone": "Europe/Rome"},
            }
            created = await client.post("/api/calendar/bookings", json=booking_in)
            assert created.status_code == 201, created.text
            booking = created.json()["booking"]
            assert (
                booking["start"] == "2026-12-01T10:00:00.000Z" and booking["status"] == "accepted"
            )
            assert booking["metadata"]["skyras_task_id"] == task["id"]
            assert booking["attendees"][0]["timeZone"] == "Europe/Rome"

            listed = (await client.get("/api/calendar/bookings")).json()
            assert [b["uid"] for b in listed["items"]] == [booking["uid"]]
            events = (
                await client.get(
                    "/api/calendar/events", params={"from": "2026-12-01", "to": "2026-12-01"}
                )
            ).json()
            assert events["calcom"] == {"configured": True, "bookings": 1}
            sources = {e["source"]: e for e in events["items"]}
            assert sources["calcom"]["task_id"] == task["id"]
            assert sources["calcom"]["id"] == f"calcom:{booking['uid']}"

            for request in state.requests:
                assert request["headers"]["authorization"] == "Bearer cal_test_key"
                assert request["headers"]["cal-api-version"] == "2024-08-13"

            unknown_type = await client.post(
                "/api/calendar/bookings", json={**booking_in, "event_type_id": 7}
            )
            assert_error(unknown_type, 422, "validation_error")
            unknown_task = await client.post(
                "/api/calendar/bookings", json={**booking_in, "task_id": str(uuid.uuid4())}
            )
            assert_error(unknown_task, 404, "not_found")
            bad_email = {**booking_in, "attendee": {**booking_in["attendee"], "email": "nope"}}
            assert_error(
                await client.post("/api/calendar/bookings", json=bad_email), 422, "validation_error"
            )

        # A wrong key is Cal.com's 401, which we report as a bad gateway, never a crash.
        settings = marcus_settings(calcom_url=calcom.url, calcom_api_key="wrong")
        async with running_marcus(settings) as marcus, marcus.client() as client:
            error = assert_error(await client.get("/api/calendar/bookings"), 502, "bad_gateway")
            assert "Invalid Access Token" in error["message"]
            events = (await client.get("/api/calendar/events")).json()
            assert "Invalid Access Token" in events["calcom"]["error"]
