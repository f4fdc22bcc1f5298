"""escalate: what the agent must not decide becomes a case for a human, with a brief (the
timeline, the clauses, the actions tried, the urgency and SLA deadline, the customer's words
and a translation) and, when the policy holds an action for approval, that action."""

from __future__ import annotations

import datetime as dt
from typing import Any

from agent.brain import ReplyPart
from agent.brief import build_case_brief
from agent.nodes.deps import AgentDeps, add_usage, customer_proposal, higher_urgency
from agent.policy import Verdict
from agent.replies import format_date
from agent.state import ConversationState
from commerce.models import UrgencyLevel
from tools import keys


def _parts_not_said(state: ConversationState) -> list[ReplyPart]:
    decision = state.get("decision") or {}
    already = {k for k, _ in state.get("reply_parts", [])}
    return [(k, dict(v)) for k, v in decision.get("parts", []) if k not in already]


def _translation(deps: AgentDeps, state: ConversationState) -> tuple[str | None, dict[str, int]]:
    if (state.get("language") or "en") == "en":
        return None, {}
    return deps.brain.translate(state, [t["text"] for t in state.get("transcript", [])])


def escalate(deps: AgentDeps, state: ConversationState) -> dict[str, Any]:
    decision = state.get("decision") or {}
    gate = state.get("gate") or {}
    reason = decision.get("reason") or " ".join(gate.get("reasons", [])) or "The policy requires a human decision."
    held = gate.get("verdict") == Verdict.APPROVE.value
    if held:
        reason = " ".join(gate.get("reasons", [])) or reason
    urgency = higher_urgency(state.get("urgency"), decision.get("urgency"))
    now = deps.clock()
    due = now + dt.timedelta(hours=deps.profile.urgency_sla_hours.hours_for(UrgencyLevel(urgency)))
    context = state.get("context") or {}
    translation, usage = _translation(deps, state)
    brief = build_case_brief(
        state,
        context,
        reason=reason,
        recommendation=decision.get("recommendation", ""),
        urgency=urgency,
        urgency_reasons=list(state.get("urgency_reasons", [])),
        sla_due_at=due.isoformat(),
        translation=translation,
    )
    if held and decision.get("tool"):
        # The action the policy wants a human to approve; the console runs it on approval.
        brief["pending_action"] = {"tool": decision["tool"], "arguments": decision.get("arguments") or {}}
    if state.get("brain_status") or state.get("brain_fallback"):
        brief["brain"] = {
            "mode": (state.get("brain_status") or {}).get("mode", "llm"),
            "note": (state.get("brain_status") or {}).get("reason") or state.get("brain_fallback"),
        }
    order_id = (context.get("order") or {}).get("order_id")
    case = {"order_id": order_id, "reason": reason[:500], "summary": brief["issue"][:4000], "urgency": urgency, "brief": brief}
    handed = deps.runner.run(
        customer_proposal(deps, state, "escalate_to_human", case),
        key=keys.turn_escalation(state.get("conversation_id"), state.get("turn", 0)),
    )
    case_id = handed.outcome.result["case_id"] if handed.ok and handed.outcome and handed.outcome.result else None
    parts = [*state.get("reply_parts", []), *_parts_not_said(state)]
    language = state.get("language") or "en"
    parts.append(("escalated", {"deadline": f"{format_date(due, language)} {due:%H:%M} UTC", "case_id": str(case_id)}))
    return {
        "reply_parts": parts,
        "status": "escalated",
        "case_id": case_id,
        "urgency": urgency,
        "sla_due_at": due.isoformat(),
        "pending": None,
        **add_usage(state, usage),
    }
