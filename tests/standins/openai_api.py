"""An OpenAI-compatible API stand-in: chat completions and image generation.

Follows the published contract of the OpenAI REST API (which vLLM, Ollama's
`/v1` and most gateways copy):
- `Authorization: Bearer <key>`; missing -> 401 "You didn't provide an API
  key..." (code null), wrong -> 401 "Incorrect API key provided" (code
  `invalid_api_key`).
- `POST /v1/chat/completions` `{model, messages, response_format?}` ->
  `{id: "chatcmpl-...", object: "chat.completion", created, model, choices:
  [{index, message: {role: "assistant", content, refusal: null}, logprobs:
  null, finish_reason: "stop"}], usage: {prompt_tokens, completion_tokens,
  total_tokens}, system_fingerprint}`.
- `POST /v1/images/generations` `{model, prompt, n, size, response_format}`
  -> `{created, data: [{b64_json | url, revised_prompt}]}`.
- Errors: `{"error": {"message", "type", "param", "code"}}`; a missing
  parameter is 400 `invalid_request_error`; an unknown model is 404
  `model_not_found`.
- Rate limits: 429 with `retry-after` (seconds), `x-ratelimit-*` headers and
  code `rate_limit_exceeded`.

Tests script what the next requests get with `StandinState.script`:
"ok", ("429", retry_after_seconds), ("slow", seconds), ("500", message).
"""

import asyncio
import base64
import io
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from PIL import Image

Action = str | tuple[str, Any]


@dataclass
class StandinState:
    api_key: str = "sk-test-giorgio"
    models: tuple[str, ...] = ("gpt-4o-mini", "gpt-image-1")
    chat_content: str = "{}"
    image_colour: tuple[int, int, int] = (20, 120, 200)
    script: list[Action] = field(default_factory=list)
    # (monotonic time, path, body) of every request that passed authentication.
    requests: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)


def _error(
    status: int,
    message: str,
    type_: str,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": type_, "param": param, "code": code}},
        status_code=status,
        headers={"x-request-id": f"req_{uuid.uuid4().hex}", **(headers or {})},
    )


def openai_app(state: StandinState) -> FastAPI:
    app = FastAPI(title="OpenAI API stand-in")

    async def gate(
        request: Request, required: tuple[str, ...]
    ) -> tuple[dict[str, Any] | None, JSONResponse | None]:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return None, _error(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
            )
        if auth[7:].strip() != state.api_key:
            return None, _error(
                401,
                f"Incorrect API key provided: {auth[7:11]}****. You can find your API key at your provider's dashboard.",
                "invalid_request_error",
                "invalid_api_key",
            )
        try:
            body = await request.json()
        except ValueError:
            return None, _error(
                400, "We could not parse the JSON body of your request.", "invalid_request_error"
            )
        if not isinstance(body, dict):
            return None, _error(400, "The body must be a JSON object.", "invalid_request_error")
        for name in required:
            if name not in body:
                return None, _error(
                    400,
                    f"Missing required parameter: '{name}'.",
                    "invalid_request_error",
                    "missing_required_parameter",
                    name,
                )
        if body["model"] not in state.models:
            return None, _error(
                404,
                f"The model `{body['model']}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
            )
        state.requests.append((time.monotonic(), request.url.path, body))
        action: Action = state.script.pop(0) if state.script else "ok"
        name, arg = (action, None) if isinstance(action, str) else action
        if name == "429":
            return None, _error(
                429,
                f"Rate limit reached for {body['model']} on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in {arg}s.",
                "requests",
                "rate_limit_exceeded",
                headers={
                    "retry-after": str(arg),
                    "x-ratelimit-limit-requests": "3",
                    "x-ratelimit-remaining-requests": "0",
                    "x-ratelimit-reset-requests": f"{arg}s",
                },
            )
        if name == "slow":
            await asyncio.sleep(float(arg))
        elif name == "500":
            return None, _error(
                500, arg or "The server had an error while processing your request.", "server_error"
            )
        return body, None

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> JSONResponse:
        body, refusal = await gate(request, ("model", "messages"))
        if refusal is not None:
            return refusal
        assert body is not None
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        completion_tokens = len(state.chat_content.split())
        return JSONResponse(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": state.chat_content,
                            "refusal": None,
                        },
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
                "system_fingerprint": "fp_standin",
            },
            headers={"x-request-id": f"req_{uuid.uuid4().hex}"},
        )

    @app.post("/v1/images/generations")
    async def images_generations(request: Request) -> JSONResponse:
        body, refusal = await gate(request, ("model", "prompt"))
        if refusal is not None:
            return refusal
        assert body is not None
        width, _, height = str(body.get("size") or "1024x1024").partition("x")
        image = Image.new("RGB", (int(width), int(height)), state.image_colour)
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        item: dict[str, Any] = {"revised_prompt": body["prompt"]}
        if body.get("response_format", "url") == "b64_json":
            item["b64_json"] = base64.b64encode(buffer.getvalue()).decode()
        else:
            item["url"] = "http://127.0.0.1:9/not-served.png"
        return JSONResponse({"created": int(time.time()), "data": [item] * int(body.get("n") or 1)})

    return app
