"""An n8n-style webhook receiver that verifies Standard Webhooks signatures.

`POST /webhook/{path}` (what an n8n Webhook node exposes) checks, as the
spec tells a receiver to: the three headers are present, the timestamp is
within 5 minutes, and one `v1,<base64>` entry of `webhook-signature` equals
HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{raw body}" keyed with the
base64-decoded `whsec_` secret (constant-time comparison). It can be told to
fail the first N deliveries (with a 5xx or a 429 + Retry-After), and records
every attempt and every accepted message (deduplicated by webhook-id).
"""

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

TOLERANCE_SECONDS = 5 * 60


@dataclass
class N8nState:
    secret: str
    fail_first: int = 0
    fail_status: int = 500
    retry_after: str | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    received: dict[str, dict[str, Any]] = field(default_factory=dict)


def verify(
    secret: str, headers: dict[str, str], body: bytes, now: float | None = None
) -> str | None:
    """None when the delivery is authentic, else why not."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        sent = int(timestamp)
    except ValueError:
        return "webhook-timestamp is not an integer"
    if abs((now or time.time()) - sent) > TOLERANCE_SECONDS:
        return "webhook-timestamp outside the tolerance"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return None
    return "no matching signature"


def n8n_app(state: N8nState) -> FastAPI:
    app = FastAPI(title="n8n webhook stand-in")

    @app.post("/webhook/{path:path}")
    async def webhook(path: str, request: Request) -> JSONResponse:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        problem = verify(state.secret, headers, body)
        attempt: dict[str, Any] = {
            "path": path,
            "webhook_id": headers.get("webhook-id"),
            "problem": problem,
            # As received, so tests can check them with a reference verifier.
            "headers": headers,
            "body": body,
        }
        state.attempts.append(attempt)
        if problem is not None:
            attempt["status"] = 401
            return JSONResponse({"code": 401, "message": f"Invalid signature: {problem}"}, 401)
        if state.fail_first > 0:
            state.fail_first -= 1
            attempt["status"] = state.fail_status
            extra = {"Retry-After": state.retry_after} if state.retry_after else None
            return JSONResponse(
                {"code": state.fail_status, "message": "Error in workflow"},
                state.fail_status,
                headers=extra,
            )
        attempt["status"] = 200
        state.received.setdefault(headers["webhook-id"], json.loads(body))
        return JSONResponse({"message": "Workflow was started"})

    return app
