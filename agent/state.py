"""The conversation state the graph carries from turn to turn (persisted by the checkpointer)."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from agent.understanding import INTENTS

ConversationStatus = Literal["open", "awaiting_confirmation", "escalated", "resolved"]

# Intents that are about one order and need a verified customer.
ORDER_INTENTS = frozenset(INTENTS) - {"customs_duties", "policy_question", "complaint", "human_agent", "greeting", "other"}


class PendingAction(TypedDict):
    """A write proposed to the customer, waiting for their yes."""

    tool: str
    arguments: dict[str, Any]
    key: str  # idempotency key fixed when proposed, so a repeated "yes" acts once
    intent: str
    order_id: str | None


class ActionRecord(TypedDict):
    tool: str
    arguments: dict[str, Any]
    ok: bool
    result: dict[str, Any] | None
    error: str | None


class ConversationState(TypedDict, total=False):
    conversation_id: str
    turn: int
    message: str
    language: str
    customer_id: str | None
    customer_name: str | None
    identity_method: str | None
    order_id: str | None
    intent: str
    intent_confidence: float
    deferred_intent: str | None  # what the customer asked before we had to verify them
    slots: dict[str, Any]
    signals: dict[str, Any]
    urgency: str
    urgency_reasons: list[str]
    pending: PendingAction | None
    confirming: bool  # this turn answers a pending proposal with yes
    misunderstood: int
    status: ConversationStatus
    decision: dict[str, Any] | None
    gate: dict[str, Any] | None
    actions: list[ActionRecord]  # this turn
    actions_log: list[ActionRecord]  # the whole conversation, for the case brief
    cited: list[str]  # policy clause and knowledge chunk ids used so far
    context: dict[str, Any]  # this turn's customer, order, tracking and policy hits
    reply_parts: list[tuple[str, dict[str, str]]]
    reply: str
    case_id: int | None
    sla_due_at: str | None
    transcript: list[dict[str, str]]  # the customer's own words, with language
    history: list[dict[str, str]]  # every turn: {"role": "customer" | "agent", "text"}
    usage: dict[str, int]  # this turn's model calls and tokens
    usage_total: dict[str, int]  # the conversation's, summed
    brain_status: dict[str, Any] | None  # set when the conversation was switched to the offline brain
    brain_fallback: str | None  # why the offline brain answered this turn instead of the model
    cited_by_model: list[str]
    model_urgency: str | None
