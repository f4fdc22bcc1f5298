"""The conversation state the graph carries from turn to turn (persisted by the checkpointer)."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from agent.understanding import INTENTS

ConversationStatus = Literal["open", "awaiting_confirmation", "escalated", "resolved"]

# Intents that are about one order and need a verified customer.
ORDER_INTENTS = frozenset(INTENTS) - {"customs_duties", "policy_question", "complaint", "human_agent", "greeting", "other"}
# The order requests that ask for a write, as against problems told and questions asked.
WRITE_REQUESTS = frozenset(
    {"cancel_order", "change_address", "switch_carrier", "refund_request", "reship_request", "return_request",
     "exchange_request", "modify_order"}
)  # fmt: skip
# Problems with an order's items the customer tells, as against requests they make.
PROBLEM_INTENTS = frozenset({"damaged_item", "wrong_item", "missing_item", "not_received"})
# The request each write answers: a no to its proposal refuses the request, and once it ran the
# request is done.
OWN_REQUEST: dict[str, str] = {
    "create_reshipment": "reship_request",
    "issue_refund": "refund_request",
    "return_items": "return_request",
    "exchange_items": "exchange_request",
    "modify_order_items": "modify_order",
    "cancel_order": "cancel_order",
    "intercept_parcel": "cancel_order",
    "change_shipping_address": "change_address",
    "switch_carrier": "switch_carrier",
}


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


class ConversationMemory(TypedDict, total=False):
    """What the conversation keeps from turn to turn: the customer, the verified identity, the
    open goal, the proposal waiting for a yes, the language, the case."""

    conversation_id: str
    turn: int
    language: str
    language_known: bool  # whether any message so far had words to tell the language by
    locale: str | None  # the language of the customer's page or browser, used while the messages tell none
    customer_id: str | None
    customer_name: str | None
    identity_method: str | None
    order_id: str | None
    intent: str
    intent_confidence: float
    deferred_intent: str | None  # what the customer asked before we had to verify them
    identity_hints: dict[str, list[str]] | None  # details given before the customer was verified
    identity_failures: int  # proofs of identity that matched no order, in this conversation
    client: str | None  # the hashed network address the last message came from (to count guesses)
    asked: str | None  # the detail the last reply asked for (which items, the address, the order)
    remedy: str | None  # "refund" or "replacement" when the customer said which they want
    problem: str | None  # what went wrong with the order (damaged, wrong, missing, not received)
    address: str | None  # a new delivery address the customer gave, until it is used
    declined: list[str]  # tools whose proposal the customer said no to
    worded: list[str]  # order requests the customer's own words named in the conversation (not only the classifier's read)
    queued: str | None  # a second request named with the one being handled, taken up once that one is done
    urgency: str
    urgency_reasons: list[str]
    pending: PendingAction | None
    last_offer: PendingAction | None  # the proposal that waited when the last message came
    misunderstood: int
    status: ConversationStatus
    actions_log: list[ActionRecord]  # the whole conversation, for the case brief
    cited: list[str]  # policy clause and knowledge chunk ids used so far
    case_id: int | None
    sla_due_at: str | None
    transcript: list[dict[str, str]]  # the customer's own words, with language
    history: list[dict[str, str]]  # every turn: {"role": "customer" | "agent", "text"}
    usage_total: dict[str, int]  # the conversation's model calls and tokens, summed
    brain_status: dict[str, Any] | None  # set when the conversation was switched to the offline brain


class TurnScratch(TypedDict, total=False):
    """What one turn works with. Every turn starts from `fresh_turn()`, so nothing of it leaks
    into the next turn (the message itself is the turn's input)."""

    message: str
    slots: dict[str, Any]
    signals: dict[str, Any]
    confirming: bool  # this turn answers a pending proposal with yes
    decision: dict[str, Any] | None
    gate: dict[str, Any] | None
    actions: list[ActionRecord]
    context: dict[str, Any]  # this turn's customer, order, tracking and policy hits
    reply_parts: list[tuple[str, dict[str, str]]]
    reply: str
    usage: dict[str, int]  # this turn's model calls and tokens
    brain_fallback: str | None  # why the offline brain answered this turn instead of the model
    cited_by_model: list[str]
    model_urgency: str | None
    choices: list[str]  # reply keys of the answers offered as buttons
    reply_after: list[tuple[str, dict[str, str]]]  # said after everything else (an offer still waiting)
    then_intent: str | None  # a request made after a yes in the same message, taken up once the yes is done
    both: bool  # the yes of this turn said "both": the queued request is agreed to as well


class ConversationState(ConversationMemory, TurnScratch, total=False):
    """The state the graph carries, persisted by the checkpointer."""


def fresh_turn() -> dict[str, Any]:
    """Every scratch field at its empty value, the way each turn begins."""
    return {
        "slots": {},
        "signals": {},
        "confirming": False,
        "decision": None,
        "gate": None,
        "actions": [],
        "context": {},
        "reply_parts": [],
        "reply": "",
        "usage": {},
        "brain_fallback": None,
        "cited_by_model": [],
        "model_urgency": None,
        "choices": [],
        "reply_after": [],
        "then_intent": None,
        "both": False,
    }


def _check_scratch_covered() -> None:
    missing = set(TurnScratch.__annotations__) - {"message"} - set(fresh_turn())
    if missing or set(ConversationMemory.__annotations__) & set(TurnScratch.__annotations__):
        raise TypeError(f"turn fields without an empty value, or kept and scratch at once: {sorted(missing)}")


_check_scratch_covered()
