"""`POST /api/chat`: Letitia answers plain-language requests about the library."""

from fastapi import APIRouter

from skyras_letitia import chat
from skyras_letitia.api.deps import PoolDep, SearchDep
from skyras_letitia.models import ChatReply, ChatRequest

router = APIRouter(prefix="/api/chat", tags=["chat"])


@router.post("", response_model=ChatReply)
async def chat_with_letitia(message: ChatRequest, pool: PoolDep, search: SearchDep) -> ChatReply:
    """Deterministic understanding: find, list today's uploads, tag a file."""
    return await chat.answer(message.message, pool=pool, search=search)
