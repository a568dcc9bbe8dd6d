"""A stand-in agent for hub tests: a real FastAPI app that reports what it received."""

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@dataclass
class AgentLog:
    """What the agent saw, for assertions."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    stream_closed: asyncio.Event = field(default_factory=asyncio.Event)
    chunks_sent: int = 0


def agent_app(name: str = "echo", log: AgentLog | None = None) -> FastAPI:
    app = FastAPI()
    log = log if log is not None else AgentLog()
    app.state.log = log

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": name}

    @app.post("/api/chat")
    async def chat(body: dict[str, Any]) -> dict[str, Any]:
        return {"reply": f"{name} heard: {body['message']}", "data": {"agent": name}}

    @app.get("/api/slow")
    async def slow(seconds: float = 1.0) -> dict[str, str]:
        await asyncio.sleep(seconds)
        return {"status": "late"}

    @app.get("/api/stream")
    async def stream(chunks: int = 1000, delay: float = 0.02) -> StreamingResponse:
        async def body():  # type: ignore[no-untyped-def]
            try:
                for i in range(chunks):
                    log.chunks_sent += 1
                    yield f"chunk {i}\n".encode()
                    await asyncio.sleep(delay)
            finally:
                log.stream_closed.set()

        return StreamingResponse(body(), media_type="text/plain")

    @app.post("/api/sink")
    async def sink(request: Request) -> dict[str, Any]:
        digest = hashlib.sha256()
        size = 0
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
        return {"size": size, "sha256": digest.hexdigest()}

    @app.api_route("/{path:path}", methods=METHODS)
    async def echo(path: str, request: Request) -> JSONResponse:
        body = await request.body()
        record = {
            "agent": name,
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.scope["query_string"].decode(),
            "headers": [[k.decode(), v.decode()] for k, v in request.scope["headers"]],
            "body": body.decode(errors="replace"),
        }
        log.requests.append(record)
        return JSONResponse(record, headers={"x-agent": name, "set-cookie": "a=1"})

    return app


def header_values(record: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in record["headers"] if k == name]
