"""`POST /api/chat`: "@giorgio make a cover for Night Drive, neon"."""

from fastapi import APIRouter
from pydantic import ValidationError

from skyras.errors import ApiError
from skyras_giorgio import chat, generations, store
from skyras_giorgio.api.deps import RuntimeDep
from skyras_giorgio.models import ChatReply, ChatRequest, GenerateRequest
from skyras_giorgio.palettes import PALETTES

router = APIRouter(prefix="/api/chat", tags=["chat"])


@router.post("", response_model=ChatReply)
async def chat_with_giorgio(message: ChatRequest, runtime: RuntimeDep) -> ChatReply:
    """Deterministic understanding: make a cover, copy or both for a named release."""
    intent = chat.understand(message.message)
    if intent.kind is None:
        if "palette" in message.message.lower() or "style" in message.message.lower():
            names = ", ".join(f"{p.name} ({p.description})" for p in PALETTES.values())
            return ChatReply(reply=f"Palettes: {names}.", data={"palettes": list(PALETTES)})
        return ChatReply(reply=chat.HELP, data={"understood": False})
    if not intent.title:
        return ChatReply(reply=f"For which release? {chat.HELP}", data={"understood": False})
    try:
        request = GenerateRequest.model_validate(intent.request_body())
    except ValidationError as exc:
        first = exc.errors()[0]
        return ChatReply(reply=f"I can't make that: {first['msg']}.", data={"understood": False})
    try:
        row = await generations.submit(runtime, request)
    except ApiError as exc:
        return ChatReply(reply=f"I can't make that: {exc.message}", data={"understood": True})
    generation = store.generation_json(row)
    if row["status"] != "succeeded":
        return ChatReply(reply=f"That didn't work: {row['error']}", data={"generation": generation})
    what = {"artwork": "artwork", "copy": "copy", "release_kit": "artwork and copy"}[request.kind]
    images = [o for o in generation["outputs"] if o["name"] != "copy"]
    parts = [f"{len(images)} image(s)"] if images else []
    if request.wants_copy:
        parts.append("the copy")
    fallback = f" ({'; '.join(generation['fallbacks'])})" if generation["fallbacks"] else ""
    artist = f" by {request.release.artist}" if request.release.artist else ""
    return ChatReply(
        reply=f"Made {what} for \u201c{request.release.title}\u201d{artist} in {request.palette}, "
        f"seed {generation['params']['seed']}: {' and '.join(parts)} are in the library{fallback}.",
        data={"generation": generation},
    )
