"""`POST /api/chat`: Ari answers plain-language requests about audio finishing."""

from fastapi import APIRouter

from skyras_ari import chat
from skyras_ari.api.deps import LetitiaDep, PoolDep, SettingsDep
from skyras_ari.models import ChatReply, ChatRequest

router = APIRouter(prefix="/api/chat", tags=["chat"])


@router.post("", response_model=ChatReply)
async def chat_with_ari(
    message: ChatRequest, pool: PoolDep, letitia: LetitiaDep, settings: SettingsDep
) -> ChatReply:
    """Deterministic understanding: master a file for presets, measure it, job status."""
    return await chat.answer(message.message, pool=pool, letitia=letitia, settings=settings)
