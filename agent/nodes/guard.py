"""guard: the policy gate judges the proposed action. It may run, it needs the customer's yes
(the proposal waits, its idempotency key fixed now), it needs a human, or it is refused."""

from __future__ import annotations

from typing import Any, Literal

from agent.brain import Decision
from agent.nodes.deps import AgentDeps, customer_proposal
from agent.policy import PROOF_FOR_WRITES, Verdict
from agent.state import ConversationState, PendingAction
from tools import keys


def guard(deps: AgentDeps, state: ConversationState) -> dict[str, Any]:
    decision = Decision.from_state(state.get("decision") or {"kind": "reply"})
    assert decision.tool is not None
    if done_before(state, decision.tool, decision.arguments):
        # "yep, do both - send the right one and set up the return" after both were done: the
        # same write for the same items is not proposed (or counted against a cap) again.
        return {"gate": None, "pending": None, "reply_parts": [*state.get("reply_parts", []), ("already_done", {})]}
    verdict = deps.runner.judge(customer_proposal(deps, state, decision.tool, decision.arguments))
    result: dict[str, Any] = {
        "gate": verdict.model_dump(mode="json"),
        "cited": [*state.get("cited", []), *verdict.clauses],
    }
    parts = list(state.get("reply_parts", [])) + list(decision.parts)
    confirm = verdict.verdict is Verdict.CONFIRM or (
        verdict.verdict is Verdict.ALLOW and decision.offer and not state.get("confirming")
    )
    if confirm:
        pending: PendingAction = {
            "tool": decision.tool,
            "arguments": decision.arguments,
            "key": keys.turn_action(state.get("conversation_id"), state.get("turn", 0), decision.tool),
            "intent": state.get("intent", "other"),
            "order_id": state.get("order_id"),
        }
        if decision.ask:
            parts.append(decision.ask)
        result.update(pending=pending, status="awaiting_confirmation", reply_parts=parts)
    elif verdict.verdict is Verdict.DENY and PROOF_FOR_WRITES in verdict.clauses:
        # A name and a postal code showed the order; to change it the customer proves more. The
        # goal stays: once the order number and email come, it is proposed.
        result.update(reply_parts=[*parts, ("ask_stronger_identity", {})], pending=None, status="open")
    elif verdict.verdict is Verdict.DENY:
        key = refusal_reply(deps, decision.tool)
        days = deps.profile.returns.window_days if deps.profile.returns else None
        result.update(reply_parts=[*parts, (key, {"days": str(days or "")})], pending=None)
    else:
        result["reply_parts"] = parts
    return result


def done_before(state: ConversationState, tool: str, arguments: dict[str, Any]) -> bool:
    """Whether this conversation already did this very write (the same tool and arguments, the
    reason given aside)."""

    def what(args: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in args.items() if key != "reason" and value is not None}

    return tool != "escalate_to_human" and any(
        action["ok"] and action["tool"] == tool and what(action["arguments"]) == what(arguments)
        for action in state.get("actions_log", [])
    )


def refusal_reply(deps: AgentDeps, tool: str) -> str:
    """The reply key that tells the customer, in their language, why the policy says no."""
    key = f"refused_{tool}"
    return key if key in deps.catalogue else "refused_generic"


def after_guard(state: ConversationState) -> Literal["act", "escalate", "respond"]:
    verdict = (state.get("gate") or {}).get("verdict")
    if state.get("status") == "awaiting_confirmation" and not state.get("confirming"):
        return "respond"
    if verdict == Verdict.ALLOW.value:
        return "act"
    if verdict == Verdict.APPROVE.value:
        return "escalate"
    return "respond"
