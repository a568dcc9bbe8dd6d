"""Chat: a message goes to the agent it addresses, or whose keywords it matches best."""

from fastapi import APIRouter, Request

from skyras_hub import chat, metrics
from skyras_hub.api.deps import AuthDep, ProxyDep, RegistryDep, SettingsDep
from skyras_hub.models import ChatReply, ChatRequest

router = APIRouter(prefix="/api/v2/chat", tags=["chat"])


@router.post(
    "",
    response_model=ChatReply,
    summary="Send a chat message to the right agent",
    description=(
        "The message goes to the agent named in `agent`, or addressed as `@name ...` (the "
        "mention is removed), or else to the agent whose chat keywords match the most words "
        "(ties: first by name). That agent's `POST /api/chat {message}` answers "
        "`{reply, data}`, returned here with the agent's name. No match: a reply listing the "
        "agents and what each does, with `agent: null`."
    ),
    responses={
        404: {"description": "The message addresses an agent that is not registered"},
        502: {"description": "The agent answered with an error"},
        503: {"description": "The agent is down"},
        504: {"description": "The agent took too long"},
    },
)
async def send_chat(
    chat_in: ChatRequest,
    request: Request,
    registry: RegistryDep,
    hub_proxy: ProxyDep,
    settings: SettingsDep,
    _: AuthDep,
) -> ChatReply:
    """Route a chat message."""
    agents = registry.all()
    choice = chat.choose_agent(agents, chat_in.message, chat_in.agent)
    metrics.CHAT_MESSAGES.labels(choice.agent.name if choice.agent else "", choice.how).inc()
    if choice.agent is None:
        return ChatReply.model_validate(chat.help_reply(agents))
    reply = await chat.ask_agent(
        hub_proxy,
        choice.agent,
        choice.message,
        request.state.request_id,
        settings.chat_timeout_seconds,
    )
    return ChatReply.model_validate(reply)
