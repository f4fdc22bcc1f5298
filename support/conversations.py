"""A customer's conversation: opening it, a message (answered by the agent, or kept for the human
who took the conversation over), its record and thread, and the customer's rating."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from agent.identity import sign_customer_token
from commerce.conversations import record_message
from commerce.db import Store
from commerce.models import Conversation, Message
from commerce.privacy import mask_card_numbers
from support.runtime import Runtime


@dataclass(frozen=True)
class ConversationRecord:
    """What the application keeps about a conversation besides its thread."""

    id: str
    locale: str | None
    customer_id: str | None
    mode: str  # agent | human (taken over)
    rating: int | None


def open_conversation(runtime: Runtime, *, locale: str | None, customer_id: str | None) -> str:
    """Start a conversation (for a customer the seller's site already signed in, if given); returns its id."""
    conversation_id = "w-" + uuid.uuid4().hex[:20]
    with runtime.store.write() as session:
        session.add(Conversation(id=conversation_id, locale=locale, customer_id=customer_id, created_at=runtime.clock()))
    return conversation_id


def find_conversation(store: Store, conversation_id: str) -> ConversationRecord:
    with store.read() as session:
        found = session.get(Conversation, conversation_id)
        if found is None:
            raise LookupError(f"no conversation {conversation_id}")
        return ConversationRecord(found.id, found.locale, found.customer_id, found.mode, found.rating)


def send_message(runtime: Runtime, conversation: ConversationRecord, text: str, *, client: str | None = None) -> dict[str, Any]:
    """One customer message and what came of it: the agent's turn (its tokens go out on the
    conversation's channel while it writes), or, in a conversation a human took over, the
    message kept for them. `client` is the network address the message came from."""
    text = mask_card_numbers(text)  # before it is kept for a human or read by the agent
    if conversation.mode == "human":
        return _to_human(runtime, conversation, text)
    agent = runtime.support_agent()
    token = None
    if conversation.customer_id and not agent.state(conversation.id).get("customer_id"):
        token = sign_customer_token(conversation.customer_id, runtime.secret, ttl_seconds=60)
    result = None
    for event in agent.stream(conversation.id, text, customer_token=token, locale=conversation.locale, client=client):
        if event["type"] == "turn":
            result = event["result"]
        else:
            runtime.bus.publish(conversation.id, event["type"], {"text": event.get("text", "")})
    if result is None:
        raise RuntimeError(f"the agent ended conversation {conversation.id}'s turn without a result")
    pending = agent.state(conversation.id).get("pending")
    turn: dict[str, Any] = result.as_json()
    turn["pending"] = {"tool": pending["tool"]} if pending else None
    runtime.bus.publish(conversation.id, "status", {"status": result.status})
    if result.status == "escalated" and result.case_id:
        runtime.bus.publish("console", "case", {"case_id": result.case_id})
    return turn


def _to_human(runtime: Runtime, conversation: ConversationRecord, text: str) -> dict[str, Any]:
    """A message in a conversation a human has taken over: kept, shown in the console, no bot reply."""
    values = runtime.support_agent().state(conversation.id)
    language = str(values.get("language") or conversation.locale or "en")
    with runtime.store.write() as session:
        record_message(
            session,
            conversation.id,
            "customer",
            text,
            at=runtime.clock(),
            language=language,
            customer_id=values.get("customer_id"),
        )
    runtime.bus.publish("console", "message", {"conversation_id": conversation.id})
    return {
        "conversation": conversation.id,
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
    }


def thread(runtime: Runtime, conversation: ConversationRecord) -> dict[str, Any]:
    """The conversation so far: its messages, language, status, who answers it, any proposal
    waiting for the customer's yes, and the rating."""
    with runtime.store.read() as session:
        messages = session.scalars(
            select(Message).where(Message.conversation_id == conversation.id).order_by(Message.created_at, Message.id)
        ).all()
        rows = [{"role": m.role, "text": m.text, "at": m.created_at.isoformat()} for m in messages]
        language = next((m.language for m in reversed(messages) if m.language), None) or conversation.locale or "en"
    state = runtime.support_agent().state(conversation.id) if rows else {}
    pending = state.get("pending")
    return {
        "id": conversation.id,
        "language": language,
        "status": state.get("status", "open"),
        "mode": conversation.mode,
        "messages": rows,
        "pending": {"tool": pending["tool"]} if pending else None,
        "rating": conversation.rating,
    }


def rate(runtime: Runtime, conversation_id: str, score: int, comment: str | None) -> None:
    """The customer's satisfaction (1 to 5) with the conversation."""
    with runtime.store.write() as session:
        record = session.get(Conversation, conversation_id)
        if record is None:
            raise LookupError(f"no conversation {conversation_id}")
        record.rating, record.rating_comment = score, comment
