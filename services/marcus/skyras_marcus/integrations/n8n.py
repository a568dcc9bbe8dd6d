"""Task events as n8n (or any Standard Webhooks receiver) messages.

Signing, retries and backoff are `skyras.webhooks`, shared with Jamal's
webhook channel; this module only says what Marcus sends: the CloudEvents
envelope of an `events` row, with the event id as the `webhook-id`.
"""

import json
from typing import Any


def event_body(event: dict[str, Any]) -> bytes:
    """The JSON delivered for an `events` row: its CloudEvents envelope."""
    envelope = {
        "id": str(event["id"]),
        "specversion": "1.0",
        "type": event["type"],
        "source": event["source"],
        "subject": event.get("subject"),
        "time": event["created_at"].isoformat(),
        "datacontenttype": "application/json",
        "correlationid": event.get("correlation_id"),
        "data": event.get("data") or {},
    }
    return json.dumps(envelope, separators=(",", ":"), default=str).encode()
