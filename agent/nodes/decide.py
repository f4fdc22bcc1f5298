"""decide: the brain plans the turn (a reply, a proposed action, or a hand-over); a "yes" to
a pending proposal replays that proposal."""

from __future__ import annotations

from typing import Any, Literal

from agent.brain import Decision
from agent.nodes.deps import AgentDeps, add_usage
from agent.nodes.retrieve import ORDER_QUESTIONS, asked_order_twice
from agent.state import ConversationState

LOST = Decision(
    "escalate",
    reason="The agent failed three times to understand the customer.",
    urgency="yellow",
    recommendation="Read the customer's messages and answer them directly.",
)


# The reply keys of the choices offered after two messages the agent did not understand.
CHOICES = ("choice_track", "choice_return", "choice_cancel", "choice_address", "choice_human")


NO_ORDER = Decision(
    "escalate",
    reason="The customer did not say which of their orders this is about, asked twice.",
    urgency="yellow",
    recommendation="Find the order from the conversation and the customer's history, then help.",
)


def decide(deps: AgentDeps, state: ConversationState) -> dict[str, Any]:
    pending = state.get("pending")
    extra_choices: list[str] = []
    updates_parts: list[Any] | None = None
    if state.get("confirming") and pending:
        decision = Decision("propose", tool=pending["tool"], arguments=pending["arguments"])
    elif asked_order_twice(state):
        decision = NO_ORDER
        updates_parts = [(k, v) for k, v in state.get("reply_parts", []) if k not in ORDER_QUESTIONS]
    elif state.get("intent") == "other" and state.get("misunderstood", 0) >= 3 and deps.brain.escalates_when_lost:
        decision = LOST
    elif state.get("intent") == "other" and state.get("misunderstood", 0) == 2 and deps.brain.escalates_when_lost:
        # Before a human: the topics the agent can help with, as buttons in the widget.
        decision = Decision("reply", parts=[("clarify_choices", {})])
        extra_choices = list(CHOICES)
    else:
        decision = deps.brain.decide(state, state.get("context") or {})
    updates: dict[str, Any] = {"decision": decision.to_state()}
    if updates_parts is not None:
        updates["reply_parts"] = updates_parts
    if extra_choices:
        updates["choices"] = extra_choices
    extra = decision.state_updates
    for key in ("brain_status", "brain_fallback", "cited_by_model"):
        if key in extra:
            updates[key] = extra[key]
    if "usage" in extra:
        updates.update(add_usage(state, extra["usage"]))
    if extra.get("cited_by_model"):
        updates["cited"] = list(dict.fromkeys([*state.get("cited", []), *extra["cited_by_model"]]))
    if decision.kind == "reply":
        updates["reply_parts"] = [*state.get("reply_parts", []), *decision.parts]
    return updates


def after_decide(state: ConversationState) -> Literal["guard", "escalate", "respond"]:
    kind = (state.get("decision") or {}).get("kind")
    return "guard" if kind == "propose" else "escalate" if kind == "escalate" else "respond"
