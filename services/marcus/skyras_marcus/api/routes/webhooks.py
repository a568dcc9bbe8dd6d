"""Webhook deliveries: every attempt to deliver a task event to an n8n webhook URL."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from skyras_marcus import store
from skyras_marcus.api.deps import PoolDep, SettingsDep
from skyras_marcus.models import WebhookDeliveriesPublic

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


@router.get("/deliveries", response_model=WebhookDeliveriesPublic)
async def list_deliveries(
    pool: PoolDep,
    settings: SettingsDep,
    event_id: UUID | None = None,
    url: Annotated[str | None, Query(max_length=2000)] = None,
    failed: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Delivery attempts, newest first (filters: event_id, url, failed)."""
    async with pool.connection() as conn:
        rows = await store.list_deliveries(
            conn=conn, event_id=event_id, url=url, failed=failed, limit=limit
        )
    return {"items": rows, "configured": bool(settings.webhook_urls)}
