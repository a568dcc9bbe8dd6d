"""`POST /api/chat`: Jamal answers plain-language requests about releases."""

from fastapi import APIRouter

from skyras_jamal import chat
from skyras_jamal.api.deps import LetitiaDep, PoolDep, SettingsDep, WakeDep
from skyras_jamal.models import ChatRequest, ChatResponse

router = APIRouter(prefix="/api/chat", tags=["chat"])


@router.post("", response_model=ChatResponse)
async def chat_with_jamal(
    message: ChatRequest, pool: PoolDep, letitia: LetitiaDep, settings: SettingsDep, wake: WakeDep
) -> ChatResponse:
    """Deterministic understanding: schedule, withdraw and list releases."""
    response = await chat.answer(message.message, pool=pool, letitia=letitia, settings=settings)
    wake.set()
    return response
