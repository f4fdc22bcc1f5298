"""The customer's side: open a conversation, send messages, follow the reply as it is
written, read the history, rate the help."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from agent.identity import verify_customer_token
from agent.language import SUPPORTED
from agent.service import MAX_MESSAGE_CHARS
from api.auth import AuthError, conversation_token
from api.deps import ConversationDep, LimitsDep, RuntimeDep, StreamedConversationDep
from api.events import event_stream
from api.limits import LONG_MESSAGE_CHARS
from support import conversations

UI_FILE = Path(__file__).resolve().parents[1] / "prompts" / "ui.yaml"
RTL = frozenset({"ar"})

router = APIRouter(prefix="/api", tags=["customer"])


class OpenConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    locale: str | None = Field(default=None, max_length=16, description="The page's language, e.g. es or es-MX.")
    customer_token: str | None = Field(default=None, max_length=500, description="A signed token from the seller's site.")


class CustomerMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid")
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


@lru_cache(maxsize=1)
def _labels() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(UI_FILE.read_text(encoding="utf-8")) or {}
    return {str(k): {str(a): str(b) for a, b in v.items()} for k, v in data.items()}


def ui_labels(language: str) -> dict[str, str]:
    labels = _labels()
    return {**labels["en"], **labels.get(language.split("-")[0].lower(), {})}


def base_language(locale: str | None) -> str | None:
    if not locale:
        return None
    code = locale.replace("_", "-").split("-")[0].lower()
    return code if code in SUPPORTED else None


def _for_widget(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer with the widget's words and writing direction in the conversation's language."""
    language = str(answer["language"])
    return answer | {"ui": ui_labels(language), "dir": "rtl" if language in RTL else "ltr"}


@router.post("/conversations", status_code=201)
def open_conversation(body: OpenConversation, runtime: RuntimeDep) -> dict[str, Any]:
    """Start a conversation; the token it returns opens this conversation only."""
    customer_id = None
    if body.customer_token:
        customer_id = verify_customer_token(body.customer_token, runtime.secret)
        if customer_id is None:
            raise AuthError(401, "the customer token is invalid or expired")
    locale = base_language(body.locale)
    conversation_id = conversations.open_conversation(runtime, locale=locale, customer_id=customer_id)
    return {"id": conversation_id, "token": conversation_token(runtime.secret, conversation_id), "locale": locale}


@router.post("/conversations/{conversation_id}/messages")
def send_message(
    body: CustomerMessage, conversation: ConversationDep, runtime: RuntimeDep, limits: LimitsDep, request: Request
) -> dict[str, Any]:
    """One customer message; the answer is the agent's turn. While the agent writes, its
    tokens go out on the conversation's event stream."""
    limits.per_conversation.hit(conversation.id)
    client = request.client.host if request.client is not None else None
    if len(body.text) > LONG_MESSAGE_CHARS:
        limits.long_per_ip.hit(client or "unknown")
    return _for_widget(conversations.send_message(runtime, conversation, body.text, client=client))


@router.get("/conversations/{conversation_id}")
def history(conversation: ConversationDep, runtime: RuntimeDep) -> dict[str, Any]:
    """The conversation so far."""
    return _for_widget(conversations.thread(runtime, conversation))


@router.get("/conversations/{conversation_id}/events")
async def events(conversation: StreamedConversationDep, runtime: RuntimeDep) -> StreamingResponse:
    """Server-sent events: `token` and `reset` while the agent writes, `message` for a
    human agent's reply or a proactive message, `status` when the conversation changes."""
    return StreamingResponse(
        event_stream(runtime.bus, conversation.id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/conversations/{conversation_id}/rating")
def rate(conversation: ConversationDep, body: Rating, runtime: RuntimeDep) -> dict[str, Any]:
    """The customer's satisfaction (1 to 5) with this conversation."""
    conversations.rate(runtime, conversation.id, body.score, body.comment)
    return {"ok": True, "rating": body.score}


@router.get("/ui/{language}")
def labels(language: str) -> dict[str, str]:
    """The widget's words in a language (English for a language it does not know)."""
    return ui_labels(language)
