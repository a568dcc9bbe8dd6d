"""A Cal.com API v2 stand-in (bookings), strict about the published wire contract.

- `Authorization: Bearer <key>`: missing or wrong -> 401 with Cal.com's error envelope.
- `cal-api-version`: the bookings endpoints are versioned by it; the real API
  silently falls back to an older version with another request/response shape
  when it is missing, so this stand-in refuses anything but the version it
  serves (400), to catch a client that forgets it.
- `GET /v2/bookings` (take/skip, afterStart/beforeEnd, sortStart) and
  `POST /v2/bookings` (start in UTC, eventTypeId, attendee{name,email,timeZone},
  metadata, lengthInMinutes) answer `{"status": "success", "data": ...}`.
"""

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

BOOKINGS_VERSION = "2024-08-13"


@dataclass
class CalcomState:
    api_key: str
    event_types: dict[int, dict[str, Any]] = field(
        default_factory=lambda: {
            42: {"id": 42, "slug": "mix-review", "title": "Mix review", "length": 30}
        }
    )
    bookings: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1000


def _error(
    request: Request, status: int, code: str, message: str, details: Any = None
) -> JSONResponse:
    return JSONResponse(
        {
            "status": "error",
            "timestamp": datetime.now(UTC).isoformat(),
            "path": request.url.path,
            "error": {"code": code, "message": message, "details": details or {}},
        },
        status_code=status,
    )


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def calcom_app(state: CalcomState) -> FastAPI:
    app = FastAPI(title="Cal.com API v2 stand-in")

    def check(request: Request) -> JSONResponse | None:
        state.requests.append(
            {"method": request.method, "path": request.url.path, "headers": dict(request.headers)}
        )
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] != state.api_key:
            return _error(request, 401, "UnauthorizedException", "Invalid Access Token.")
        version = request.headers.get("cal-api-version")
        if version != BOOKINGS_VERSION:
            return _error(
                request,
                400,
                "BadRequestException",
                f"cal-api-version must be {BOOKINGS_VERSION} for /v2/bookings (got {version!r})",
            )
        return None

    @app.get("/v2/bookings")
    async def list_bookings(request: Request) -> JSONResponse:
        if (refused := check(request)) is not None:
            return refused
        params = request.query_params
        try:
            take = int(params.get("take", "100"))
            skip = int(params.get("skip", "0"))
        except ValueError:
            return _error(request, 400, "BadRequestException", "take and skip must be integers")
        if not 1 <= take <= 250 or skip < 0:
            return _error(request, 400, "BadRequestException", "take must be 1-250, skip >= 0")
        after = _parse_time(params.get("afterStart")) if params.get("afterStart") else None
        before = _parse_time(params.get("beforeEnd")) if params.get("beforeEnd") else None
        if (params.get("afterStart") and after is None) or (
            params.get("beforeEnd") and before is None
        ):
            return _error(
                request, 400, "BadRequestException", "afterStart/beforeEnd must be ISO 8601"
            )
        rows = [
            b
            for b in state.bookings
            if (after is None or _parse_time(b["start"]) >= after)  # type: ignore[operator]
            and (before is None or _parse_time(b["end"]) <= before)  # type: ignore[operator]
        ]
        rows.sort(key=lambda b: b["start"], reverse=params.get("sortStart") == "desc")
        page = rows[skip : skip + take]
        total = len(rows)
        return JSONResponse(
            {
                "status": "success",
                "data": page,
                "pagination": {
                    "totalItems": total,
                    "remainingItems": max(0, total - skip - len(page)),
                    "returnedItems": len(page),
                    "itemsPerPage": take,
                    "currentPage": skip // take + 1,
                    "totalPages": max(1, -(-total // take)),
                    "hasNextPage": skip + len(page) < total,
                    "hasPreviousPage": skip > 0,
                },
            }
        )

    @app.post("/v2/bookings")
    async def create_booking(request: Request) -> JSONResponse:
        if (refused := check(request)) is not None:
            return refused
        try:
            body = await request.json()
        except ValueError:
            return _error(request, 400, "BadRequestException", "Body must be JSON")
        problems = []
        start = _parse_time(body.get("start"))
        if start is None:
            problems.append("start must be an ISO 8601 date-time in UTC")
        if not isinstance(body.get("eventTypeId"), int):
            problems.append("eventTypeId must be an integer")
        attendee = body.get("attendee")
        if not isinstance(attendee, dict):
            problems.append("attendee must be an object")
        else:
            if not attendee.get("name"):
                problems.append("attendee.name should not be empty")
            if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", str(attendee.get("email", ""))):
                problems.append("attendee.email must be an email")
            if not attendee.get("timeZone"):
                problems.append("attendee.timeZone should not be empty")
        metadata = body.get("metadata", {})
        if not isinstance(metadata, dict) or any(
            not isinstance(v, str) or len(v) > 500 for v in metadata.values()
        ):
            problems.append("metadata values must be strings of at most 500 characters")
        if problems:
            return _error(request, 400, "BadRequestException", "; ".join(problems))
        event_type = state.event_types.get(body["eventTypeId"])
        if event_type is None:
            return _error(
                request,
                404,
                "NotFoundException",
                f"Event type with id={body['eventTypeId']} not found",
            )
        assert start is not None and isinstance(attendee, dict)
        length = int(body.get("lengthInMinutes") or event_type["length"])
        state.next_id += 1
        booking = {
            "id": state.next_id,
            "uid": uuid.uuid4().hex[:22],
            "title": f"{event_type['title']} between Studio and {attendee['name']}",
            "description": "",
            "hosts": [
                {"id": 1, "name": "Studio", "email": "studio@example.com", "timeZone": "UTC"}
            ],
            "status": "accepted",
            "start": _iso(start),
            "end": _iso(start + timedelta(minutes=length)),
            "duration": length,
            "eventTypeId": event_type["id"],
            "eventType": {"id": event_type["id"], "slug": event_type["slug"]},
            "meetingUrl": f"https://video.example.com/{state.next_id}",
            "location": "integrations:daily",
            "absentHost": False,
            "attendees": [
                {
                    "name": attendee["name"],
                    "email": attendee["email"],
                    "timeZone": attendee["timeZone"],
                    "language": attendee.get("language", "en"),
                    "absent": False,
                }
            ],
            "guests": [],
            "bookingFieldsResponses": {"name": attendee["name"], "email": attendee["email"]},
            "metadata": metadata,
            "createdAt": _iso(datetime.now(UTC)),
            "updatedAt": _iso(datetime.now(UTC)),
        }
        state.bookings.append(booking)
        return JSONResponse({"status": "success", "data": booking}, status_code=201)

    return app
