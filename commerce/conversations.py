"""The messages of a conversation: the one place a message row is written, whoever wrote it
(the customer, the agent, a human agent, or a playbook reaching out first)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from commerce.models import Message


def record_message(
    session: Session,
    conversation_id: str,
    role: str,
    text: str,
    *,
    at: dt.datetime,
    language: str | None = None,
    intent: str | None = None,
    customer_id: str | None = None,
) -> Message:
    """Add one message (role: customer | agent | human | system) to the session."""
    message = Message(
        conversation_id=conversation_id,
        role=role,
        text=text,
        language=language,
        intent=intent,
        customer_id=customer_id,
        created_at=at,
    )
    session.add(message)
    return message
