"""The customer's side: open a conversation, send messages, follow the reply as it is
written, read the history, rate the help."""

from __future__ import annotations

import uuid
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from agent.language import SUPPORTED
from agent.service import MAX_MESSAGE_CHARS, MessageError
from api.auth import AuthError, bearer, check_conversation_token, conversation_token
from api.runtime import Runtime
from commerce.models import Conversation, Message

UI_FILE = Path(__file__).resolve().parents[1] / "prompts" / "ui.yaml"
RTL = frozenset({"ar"})


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


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["customer"])

    def conversation(session: Any, conversation_id: str) -> Conversation:
        found = session.get(Conversation, conversation_id)
        if found is None:
            raise LookupError(f"no conversation {conversation_id}")
        return found  # type: ignore[no-any-return]

    def authorised(conversation_id: str, token: str | None) -> None:
        check_conversation_token(runtime.secret, conversation_id, token)
        with runtime.store.read() as session:
            conversation(session, conversation_id)

    @api.post("/conversations", status_code=201)
    def open_conversation(body: OpenConversation, request: Request) -> dict[str, Any]:
        """Start a conversation; the token it returns opens this conversation only."""
        from agent.identity import verify_customer_token

        customer_id = None
        if body.customer_token:
            customer_id = verify_customer_token(body.customer_token, runtime.secret)
            if customer_id is None:
                raise AuthError(401, "the customer token is invalid or expired")
        conversation_id = "w-" + uuid.uuid4().hex[:20]
        locale = base_language(body.locale)
        with runtime.store.write() as session:
            session.add(Conversation(id=conversation_id, locale=locale, customer_id=customer_id, created_at=runtime.clock()))
        return {"id": conversation_id, "token": conversation_token(runtime.secret, conversation_id), "locale": locale}

    @api.post("/conversations/{conversation_id}/messages")
    def send_message(
        conversation_id: str,
        body: CustomerMessage,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        """One customer message; the answer is the agent's turn. While the agent writes, its
        tokens go out on the conversation's event stream."""
        authorised(conversation_id, bearer(authorization))
        assert runtime.per_conversation is not None
        runtime.per_conversation.hit(conversation_id)
        with runtime.store.read() as session:
            record = conversation(session, conversation_id)
            mode, locale, customer_id = record.mode, record.locale, record.customer_id
        if mode == "human":
            return _to_human(runtime, conversation_id, body.text, locale)
        agent = runtime.agent
        token = None
        if customer_id and not agent.state(conversation_id).get("customer_id"):
            from agent.identity import sign_customer_token

            token = sign_customer_token(customer_id, runtime.secret, ttl_seconds=60)
        result = None
        for event in agent.stream(conversation_id, body.text, customer_token=token):
            if event["type"] == "turn":
                result = event["result"]
            else:
                runtime.bus.publish(conversation_id, event["type"], {"text": event.get("text", "")})
        assert result is not None
        state = agent.state(conversation_id)
        pending = state.get("pending")
        turn: dict[str, Any] = result.as_json()
        turn.update(
            pending={"tool": pending["tool"]} if pending else None,
            ui=ui_labels(result.language),
            dir="rtl" if result.language in RTL else "ltr",
        )
        runtime.bus.publish(conversation_id, "status", {"status": result.status})
        if result.status == "escalated" and result.case_id:
            runtime.bus.publish("console", "case", {"case_id": result.case_id})
        return turn

    @api.get("/conversations/{conversation_id}")
    def history(conversation_id: str, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        """The conversation so far."""
        authorised(conversation_id, bearer(authorization))
        with runtime.store.read() as session:
            record = conversation(session, conversation_id)
            messages = session.scalars(
                select(Message).where(Message.conversation_id == conversation_id).order_by(Message.created_at, Message.id)
            ).all()
            rows = [{"role": m.role, "text": m.text, "at": m.created_at.isoformat()} for m in messages]
            language = next((m.language for m in reversed(messages) if m.language), None) or record.locale or "en"
            rating, mode = record.rating, record.mode
        state = runtime.agent.state(conversation_id) if rows else {}
        pending = state.get("pending")
        return {
            "id": conversation_id,
            "language": language,
            "dir": "rtl" if language in RTL else "ltr",
            "status": state.get("status", "open"),
            "mode": mode,
            "messages": rows,
            "pending": {"tool": pending["tool"]} if pending else None,
            "rating": rating,
            "ui": ui_labels(language),
        }

    @api.get("/conversations/{conversation_id}/events")
    async def events(
        conversation_id: str,
        token: Annotated[str | None, Query(description="The conversation token (EventSource cannot send headers).")] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        """Server-sent events: `token` and `reset` while the agent writes, `message` for a
        human agent's reply or a proactive message, `status` when the conversation changes."""
        authorised(conversation_id, token or bearer(authorization))
        return StreamingResponse(
            runtime.bus.stream(conversation_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @api.post("/conversations/{conversation_id}/rating")
    def rate(conversation_id: str, body: Rating, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        """The customer's satisfaction (1 to 5) with this conversation."""
        authorised(conversation_id, bearer(authorization))
        with runtime.store.write() as session:
            record = conversation(session, conversation_id)
            record.rating, record.rating_comment = body.score, body.comment
        return {"ok": True, "rating": body.score}

    @api.get("/ui/{language}")
    def labels(language: str) -> dict[str, str]:
        """The widget's words in a language (English for a language it does not know)."""
        return ui_labels(language)

    return api


def _to_human(runtime: Runtime, conversation_id: str, text: str, locale: str | None) -> dict[str, Any]:
    """A message in a conversation a human has taken over: kept, shown in the console, no bot reply."""
    values = runtime.agent.state(conversation_id)
    language = str(values.get("language") or locale or "en")
    with runtime.store.write() as session:
        session.add(
            Message(
                conversation_id=conversation_id,
                role="customer",
                text=text,
                language=language,
                customer_id=values.get("customer_id"),
                created_at=runtime.clock(),
            )
        )
    runtime.bus.publish("console", "message", {"conversation_id": conversation_id})
    return {
        "conversation": conversation_id,
        "reply": "",
        "language": language,
        "intent": values.get("intent", "other"),
        "urgency": values.get("urgency", "blue"),
        "actions": [],
        "status": "with_human",
        "case_id": values.get("case_id"),
        "brain": "human",
        "usage": {"model_calls": 0, "prompt_tokens": 0, "completion_tokens": 0},
        "pending": None,
        "ui": ui_labels(language),
        "dir": "rtl" if language in RTL else "ltr",
    }


def not_found(error: LookupError) -> JSONResponse:
    return JSONResponse({"error": str(error).strip("'\"")}, status_code=404)


__all__ = ["MessageError", "base_language", "not_found", "router", "ui_labels"]
