"""A Plane REST API v1 stand-in (work items and states of one project).

Follows the published contract of Plane's API:
- `X-API-Key` on every request; missing -> 401 "Authentication credentials
  were not provided.", wrong -> 401 "Given API token is not valid".
- `/api/v1/workspaces/{slug}/projects/{project_id}/work-items/` GET (cursor
  pages: `cursor` = "per_page:page:is_prev", `per_page` 1-100; answer with
  `results`, `next_cursor`, `prev_cursor`, `next_page_results`,
  `prev_page_results`, `count`, `total_pages`, `total_results`), POST (409 with
  the existing id for a repeated external_id/external_source), and
  `.../work-items/{id}/` GET/PATCH/DELETE; `.../states/` GET.
- Rate limit per key in fixed windows: successes carry `X-RateLimit-Remaining`
  and `X-RateLimit-Reset` (Unix time); over the limit -> 429 with `Retry-After`.
"""

import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

PRIORITIES = ("none", "urgent", "high", "medium", "low")


def _default_states() -> list[dict[str, Any]]:
    return [
        {"id": str(uuid.uuid4()), "name": name, "group": group}
        for name, group in (
            ("Backlog", "backlog"),
            ("Todo", "unstarted"),
            ("In Progress", "started"),
            ("Done", "completed"),
            ("Cancelled", "cancelled"),
        )
    ]


@dataclass
class PlaneState:
    api_key: str
    workspace: str
    project_id: str
    rate_limit: int | None = None  # requests per window; None = unlimited
    window_seconds: float = 1.0
    work_items: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=_default_states)
    throttled: int = 0
    requests: list[tuple[str, str]] = field(default_factory=list)
    _window_start: float = 0.0
    _window_count: int = 0
    _sequence: int = 0


def plane_app(state: PlaneState) -> FastAPI:
    app = FastAPI(title="Plane API v1 stand-in")
    prefix = "/api/v1/workspaces/{slug}/projects/{project_id}"

    def gate(
        request: Request, slug: str, project_id: str
    ) -> tuple[JSONResponse | None, dict[str, str]]:
        state.requests.append((request.method, request.url.path))
        key = request.headers.get("x-api-key")
        if not key:
            return JSONResponse(
                {"detail": "Authentication credentials were not provided."}, 401
            ), {}
        if key != state.api_key:
            return JSONResponse({"detail": "Given API token is not valid"}, 401), {}
        headers: dict[str, str] = {}
        if state.rate_limit is not None:
            now = time.time()
            if now - state._window_start >= state.window_seconds:
                state._window_start, state._window_count = now, 0
            reset = state._window_start + state.window_seconds
            if state._window_count >= state.rate_limit:
                state.throttled += 1
                wait = max(1, math.ceil(reset - now))
                return (
                    JSONResponse(
                        {"detail": f"Request was throttled. Expected available in {wait} seconds."},
                        429,
                        headers={"Retry-After": str(wait)},
                    ),
                    {},
                )
            state._window_count += 1
            headers = {
                "X-RateLimit-Remaining": str(state.rate_limit - state._window_count),
                "X-RateLimit-Reset": str(math.ceil(reset)),
            }
        if slug != state.workspace or project_id != state.project_id:
            return JSONResponse({"error": "Project not found"}, 404, headers=headers), headers
        return None, headers

    def paginate(
        rows: list[dict[str, Any]], request: Request, headers: dict[str, str]
    ) -> JSONResponse:
        try:
            per_page = int(request.query_params.get("per_page", "100"))
            cursor = request.query_params.get("cursor") or f"{per_page}:0:0"
            _, page_text, _ = cursor.split(":")
            page = int(page_text)
        except ValueError:
            return JSONResponse({"error": "Invalid cursor format"}, 400, headers=headers)
        if not 1 <= per_page <= 100 or page < 0:
            return JSONResponse({"error": "Invalid per_page or cursor"}, 400, headers=headers)
        start = page * per_page
        results = rows[start : start + per_page]
        total = len(rows)
        has_next = start + per_page < total
        return JSONResponse(
            {
                "grouped_by": None,
                "sub_grouped_by": None,
                "total_count": total,
                "next_cursor": f"{per_page}:{page + 1}:0",
                "prev_cursor": f"{per_page}:{page - 1}:1",
                "next_page_results": has_next,
                "prev_page_results": page > 0,
                "count": len(results),
                "total_pages": max(1, math.ceil(total / per_page)),
                "total_results": total,
                "extra_stats": None,
                "results": results,
            },
            headers=headers,
        )

    def validate(body: dict[str, Any], *, partial: bool) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if not partial and not body.get("name"):
            errors["name"] = ["This field is required."]
        if "name" in body and (not isinstance(body["name"], str) or len(body["name"]) > 255):
            errors["name"] = ["Ensure this field has no more than 255 characters."]
        if "priority" in body and body["priority"] not in PRIORITIES:
            errors["priority"] = [f'"{body["priority"]}" is not a valid choice.']
        if "state" in body and body["state"] not in {s["id"] for s in state.states}:
            errors["state"] = ["Invalid pk - object does not exist."]
        return errors

    @app.get(prefix + "/states/")
    async def list_states(slug: str, project_id: str, request: Request) -> Response:
        refused, headers = gate(request, slug, project_id)
        return refused or paginate(state.states, request, headers)

    @app.get(prefix + "/work-items/")
    async def list_items(slug: str, project_id: str, request: Request) -> Response:
        refused, headers = gate(request, slug, project_id)
        rows = sorted(state.work_items.values(), key=lambda w: w["created_at"], reverse=True)
        return refused or paginate(rows, request, headers)

    @app.post(prefix + "/work-items/")
    async def create_item(slug: str, project_id: str, request: Request) -> Response:
        refused, headers = gate(request, slug, project_id)
        if refused:
            return refused
        body = await request.json()
        if errors := validate(body, partial=False):
            return JSONResponse(errors, 400, headers=headers)
        if body.get("external_id") and body.get("external_source"):
            for item in state.work_items.values():
                if (item["external_id"], item["external_source"]) == (
                    body["external_id"],
                    body["external_source"],
                ):
                    return JSONResponse(
                        {
                            "error": "Issue with the same external id and external source already exists",
                            "id": item["id"],
                        },
                        409,
                        headers=headers,
                    )
        state._sequence += 1
        now = datetime.now(UTC).isoformat()
        item = {
            "id": str(uuid.uuid4()),
            "sequence_id": state._sequence,
            "name": body["name"],
            "description_html": body.get("description_html", "<p></p>"),
            "priority": body.get("priority", "none"),
            "state": body.get("state") or state.states[0]["id"],
            "target_date": body.get("target_date"),
            "external_id": body.get("external_id"),
            "external_source": body.get("external_source"),
            "project": project_id,
            "workspace": slug,
            "created_at": now,
            "updated_at": now,
        }
        state.work_items[item["id"]] = item
        return JSONResponse(item, 201, headers=headers)

    @app.get(prefix + "/work-items/{item_id}/")
    async def get_item(slug: str, project_id: str, item_id: str, request: Request) -> Response:
        refused, headers = gate(request, slug, project_id)
        if refused:
            return refused
        item = state.work_items.get(item_id)
        if item is None:
            return JSONResponse(
                {"error": "The requested resource does not exist."}, 404, headers=headers
            )
        return JSONResponse(item, headers=headers)

    @app.patch(prefix + "/work-items/{item_id}/")
    async def patch_item(slug: str, project_id: str, item_id: str, request: Request) -> Response:
        refused, headers = gate(request, slug, project_id)
        if refused:
            return refused
        item = state.work_items.get(item_id)
        if item is None:
            return JSONResponse(
                {"error": "The requested resource does not exist."}, 404, headers=headers
            )
        body = await request.json()
        if errors := validate(body, partial=True):
            return JSONResponse(errors, 400, headers=headers)
        item.update({k: v for k, v in body.items() if k in item and k not in ("id", "sequence_id")})
        item["updated_at"] = datetime.now(UTC).isoformat()
        return JSONResponse(item, headers=headers)

    @app.delete(prefix + "/work-items/{item_id}/")
    async def delete_item(slug: str, project_id: str, item_id: str, request: Request) -> Response:
        refused, headers = gate(request, slug, project_id)
        if refused:
            return refused
        if state.work_items.pop(item_id, None) is None:
            return JSONResponse(
                {"error": "The requested resource does not exist."}, 404, headers=headers
            )
        return Response(status_code=204, headers=headers)

    return app
