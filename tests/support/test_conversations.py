"""A customer's conversation without HTTP: the agent's turn and what it publishes, a message
kept for the human who took the conversation over, the thread, and the rating."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from commerce.models import Conversation, Message
from support import conversations
from support.runtime import Runtime


def test_a_message_gets_the_agents_turn_and_its_events_reach_the_open_chat(runtime: Runtime) -> None:
    conversation_id = conversations.open_conversation(runtime, locale="en", customer_id=None)
    record = conversations.find_conversation(runtime.store, conversation_id)
    seen: list[tuple[str, Any]] = []

    async def chat() -> dict[str, Any]:
        with runtime.bus.subscribe(conversation_id) as subscription:
            turn = await asyncio.to_thread(conversations.send_message, runtime, record, "Where is my order #A1003?")
            while (event := await subscription.next(timeout=0.2)) is not None:
                seen.append(event)
        return turn

    turn = asyncio.run(chat())
    assert turn["conversation"] == conversation_id and turn["reply"] and turn["pending"] is None
    assert seen[-1] == ("status", {"status": turn["status"]})
    thread = conversations.thread(runtime, record)
    assert [m["role"] for m in thread["messages"]] == ["customer", "agent"] and thread["language"] == "en"


def test_a_message_to_a_conversation_a_human_took_over_is_kept_for_them(runtime: Runtime) -> None:
    conversation_id = conversations.open_conversation(runtime, locale="de", customer_id="alice")
    with runtime.store.write() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        conversation.mode = "human"
    record = conversations.find_conversation(runtime.store, conversation_id)
    turn = conversations.send_message(runtime, record, "Hallo, ist jemand da?")
    assert (turn["status"], turn["brain"], turn["language"], turn["reply"]) == ("with_human", "human", "de", "")
    with runtime.store.read() as session:
        message = session.scalars(select(Message).where(Message.conversation_id == conversation_id)).one()
        assert (message.role, message.text, message.language) == ("customer", "Hallo, ist jemand da?", "de")


def test_a_rating_is_kept_with_the_conversation(runtime: Runtime) -> None:
    conversation_id = conversations.open_conversation(runtime, locale=None, customer_id=None)
    conversations.rate(runtime, conversation_id, 4, "quick")
    assert conversations.find_conversation(runtime.store, conversation_id).rating == 4
    with pytest.raises(LookupError, match="no conversation w-nope"):
        conversations.rate(runtime, "w-nope", 5, None)
    with pytest.raises(LookupError, match="no conversation w-nope"):
        conversations.find_conversation(runtime.store, "w-nope")
