"""Plane: the configured project's work items (tasks are synced there by a worker)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from skyras.errors import ApiError
from skyras_marcus.api.deps import PlaneDep
from skyras_marcus.integrations.plane import EXTERNAL_SOURCE, PlaneError

router = APIRouter(prefix="/api/plane", tags=["plane"])


@router.get("/issues")
async def list_issues(
    plane: PlaneDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    per_page: Annotated[int, Query(ge=1, le=100)] = 100,
) -> dict[str, Any]:
    """One page of Plane work items (`configured: false` without Plane credentials)."""
    if plane is None:
        return {"configured": False, "items": [], "next_cursor": None}
    try:
        page = await plane.list_work_items(cursor=cursor, per_page=per_page)
    except PlaneError as exc:
        raise ApiError(502, f"Plane: {exc.message}", details=exc.details) from None
    items = []
    for item in page["results"]:
        ours = item.get("external_source") == EXTERNAL_SOURCE
        items.append({**item, "task_id": item.get("external_id") if ours else None})
    return {"configured": True, "items": items, "next_cursor": page["next_cursor"]}
