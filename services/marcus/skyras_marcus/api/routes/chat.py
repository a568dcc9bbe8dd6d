"""Chat: `POST /api/chat {message}` answered deterministically (see skyras_marcus.chat)."""

from fastapi import APIRouter

from skyras_marcus import chat
from skyras_marcus.api.deps import PoolDep
from skyras_marcus.models import ChatRequest, ChatResponse

router = APIRouter(prefix="/api", tags=["chat"])


@router.post("/chat", response_model=ChatResponse)
async def chat_message(chat_in: ChatRequest, pool: PoolDep) -> ChatResponse:
    """Answer a message about tasks: create, list, what's due, mark done."""
    async with pool.connection() as conn:
        return await chat.answer(chat_in.message, conn=conn)
