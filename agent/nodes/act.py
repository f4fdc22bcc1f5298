"""act: the allowed action runs through the action runner, once, under the key fixed when it
was proposed; the brain puts the result into words, or a failure goes to a human."""

from __future__ import annotations

from typing import Any, Literal

from agent.brain import Decision
from agent.nodes.deps import AgentDeps, customer_proposal
from agent.state import OWN_REQUEST, PROBLEM_INTENTS, ActionRecord, ConversationState
from tools import keys


def act(deps: AgentDeps, state: ConversationState) -> dict[str, Any]:
    decision = Decision.from_state(state.get("decision") or {"kind": "reply"})
    assert decision.tool is not None
    pending = state.get("pending")
    key = (
        pending["key"]
        if pending and state.get("confirming")
        else keys.turn_action(state.get("conversation_id"), state.get("turn", 0), decision.tool)
    )
    done = deps.runner.run(customer_proposal(deps, state, decision.tool, decision.arguments), key=key)
    outcome = done.outcome
    record: ActionRecord = {
        "tool": decision.tool,
        "arguments": outcome.arguments if outcome else decision.arguments,
        "ok": done.ok,
        "result": outcome.result if outcome else None,
        "error": None if done.ok else done.error or "unknown error",
    }
    context = dict(state.get("context") or {})
    if decision.tool == "intercept_parcel":
        context["proposed_address"] = decision.arguments.get("address")
    parts = list(state.get("reply_parts", []))
    updates: dict[str, Any] = {
        "actions": [*state.get("actions", []), record],
        "actions_log": [*state.get("actions_log", []), record],
        "pending": None,
        "context": context,
    }
    if done.ok and outcome is not None and outcome.result is not None:
        parts.extend(deps.brain.describe_result(state, context, decision.tool, outcome.result))
        updates["status"] = "open"
        queued = state.get("queued")
        if (
            not state.get("then_intent")
            and queued
            and queued != state.get("intent")
            and not settled(state, queued, decision.tool)
        ):
            # The other request the customer made with this one comes next, in the same turn.
            updates["then_intent"] = state.get("queued")
            updates["queued"] = None
    else:
        # The customer reads a reply in their language; the raw error goes to the case brief.
        parts.append((failure_reply(done.error_code), {}))
        updates["decision"] = Decision(
            "escalate",
            reason=f"The {decision.tool} action failed: {record['error']}",
            urgency="yellow",
            recommendation=decision.recommendation or "Check the order and finish the action by hand.",
        ).to_state()
    updates["reply_parts"] = parts
    return updates


# A problem with an item is settled once one of these ran for it in the conversation.
REMEDY_TOOLS = frozenset({"create_reshipment", "issue_refund", "exchange_items"})


def settled(state: ConversationState, request: str, tool_now: str) -> bool:
    """Whether the request waiting to be taken up was answered already ("send the right one",
    done, then "register the return": the wrong item needs no second parcel)."""
    done = {a["tool"] for a in state.get("actions_log", []) if a["ok"]} | {tool_now}
    if request in PROBLEM_INTENTS:
        return bool(done & REMEDY_TOOLS)
    return any(OWN_REQUEST.get(tool) == request for tool in done)


FAILURE_REPLIES = {
    "out_of_stock": "failed_out_of_stock",
    "invalid_state": "failed_invalid_state",
    "not_found": "failed_not_found",
}


def failure_reply(code: Any) -> str:
    """The reply key for a tool error code: every failure has a template in each language."""
    return FAILURE_REPLIES.get(str(getattr(code, "value", code) or ""), "failed_generic")


def after_act(state: ConversationState) -> Literal["escalate", "take_up", "respond"]:
    if not all(a["ok"] for a in state.get("actions", [])):
        return "escalate"
    return "take_up" if state.get("then_intent") else "respond"


def take_up(deps: AgentDeps, state: ConversationState) -> dict[str, Any]:
    """The request the customer made after their yes ("yes. And can it go express?"), now that the
    yes is done: it goes through retrieval and the brain like a message of its own."""
    return {
        "intent": state.get("then_intent"),
        "intent_confidence": 1.0,
        "then_intent": None,
        # "Yes, both": the customer asked for this one too and agreed to both at once.
        "confirming": bool(state.get("both")),
        "both": False,
        "decision": None,
        "gate": None,
    }
