"""The console's case work: the queue by SLA deadline, a case with its brief and thread, a staff
member's reply, approval or denial of an action the policy left to a human, the verdict on
the monitor flag behind a case, take-over and hand-back."""

from __future__ import annotations

from typing import Any, Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.replies import default_catalogue, render_parts
from agent.runner import ActionRunner, Proposal, started_by_staff
from agent.state import ConversationState
from commerce.conversations import record_message
from commerce.models import Case, CaseStatus, Conversation, Flag, Message, Order
from commerce.monitor import record_feedback
from support.runtime import Runtime
from tools import keys

Mode = Literal["agent", "human"]  # who answers the conversation


def _load(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise LookupError(f"no case {case_id}")
    return case


def _summary(runtime: Runtime, case: Case, conversation: Conversation | None) -> dict[str, Any]:
    brief = case.brief or {}
    customer = brief.get("customer") or {}
    pending = brief.get("pending_action") or {}
    return {
        "id": case.id,
        "conversation_id": case.conversation_id,
        "urgency": case.urgency.value,
        "sla_due_at": case.sla_due_at.isoformat(),
        "seconds_left": int((case.sla_due_at - runtime.clock()).total_seconds()),
        "status": case.status.value,
        "reason": case.reason,
        "language": customer.get("language"),
        "customer_name": customer.get("name"),
        "order_id": case.order_id,
        "mode": conversation.mode if conversation else "agent",
        "handled_by": conversation.handled_by if conversation else None,
        "pending_approval": bool(pending) and not pending.get("decided"),
        "created_at": case.created_at.isoformat(),
    }


def queue(runtime: Runtime, *, include_resolved: bool = False) -> list[dict[str, Any]]:
    """Cases by SLA deadline, soonest first (the open ones unless `include_resolved`)."""
    with runtime.store.read() as session:
        query = select(Case).order_by(Case.sla_due_at, Case.id)
        if not include_resolved:
            query = query.where(Case.status != CaseStatus.RESOLVED)
        cases = session.scalars(query.limit(500)).all()
        ids = [c.conversation_id for c in cases if c.conversation_id]
        conversations = {c.id: c for c in session.scalars(select(Conversation).where(Conversation.id.in_(ids))).all()}
        return [_summary(runtime, c, conversations.get(c.conversation_id or "")) for c in cases]


def case_detail(runtime: Runtime, case_id: int) -> dict[str, Any]:
    """A case: its brief, the conversation thread, the monitor flag behind it and any action
    waiting for approval."""
    with runtime.store.read() as session:
        case = _load(session, case_id)
        conversation = session.get(Conversation, case.conversation_id) if case.conversation_id else None
        detail = _summary(runtime, case, conversation)
        detail["brief"] = brief = case.brief or {}
        messages = []
        if case.conversation_id:
            rows = session.scalars(
                select(Message).where(Message.conversation_id == case.conversation_id).order_by(Message.created_at, Message.id)
            ).all()
            messages = [{"role": m.role, "text": m.text, "at": m.created_at.isoformat()} for m in rows]
        detail["messages"] = messages
        flag_ref = brief.get("flag")
        if flag_ref:
            flag = session.get(Flag, int(flag_ref["id"]))
            detail["flag"] = {"id": flag.id, "rule": flag.rule, "status": flag.status.value} if flag else None
    detail["pending"] = brief.get("pending_action") if detail["pending_approval"] else None
    return detail


def _tell_customer(runtime: Runtime, case_id: int, conversation_id: str | None, text: str, email: str, *, resolve: bool) -> None:
    """A staff member's words reach the customer: through the paused thread when the agent
    handed the case over, as a plain message otherwise."""
    agent = runtime.support_agent()
    author = started_by_staff(email)
    if conversation_id and agent.waiting_for_human(conversation_id):
        agent.reply_as_human(conversation_id, text, agent=author, resolve=resolve)
    elif conversation_id:
        with runtime.store.write() as session:
            record_message(session, conversation_id, "human", text, at=runtime.clock())
    if resolve:
        with runtime.store.write() as session:
            case = _load(session, case_id)
            case.status, case.resolved_at = CaseStatus.RESOLVED, runtime.clock()
    if conversation_id:
        runtime.bus.publish(conversation_id, "message", {"role": "human", "text": text, "at": runtime.clock().isoformat()})
        if resolve:
            runtime.bus.publish(conversation_id, "status", {"status": "resolved"})


def reply(runtime: Runtime, case_id: int, email: str, text: str, *, resolve: bool = False) -> dict[str, Any]:
    """Answer the customer in the case's conversation (and resolve the case if asked)."""
    with runtime.store.read() as session:
        conversation_id = _load(session, case_id).conversation_id
    _tell_customer(runtime, case_id, conversation_id, text.strip(), email, resolve=resolve)
    return case_detail(runtime, case_id)


def approve(runtime: Runtime, case_id: int, email: str, note: str | None = None) -> dict[str, Any]:
    """Run the action the policy left to a human, once, and tell the customer what it did."""
    return _decide(runtime, case_id, email, approved=True, note=note)


def deny(runtime: Runtime, case_id: int, email: str, note: str | None = None) -> dict[str, Any]:
    """Decline the action the policy left to a human, and tell the customer why."""
    return _decide(runtime, case_id, email, approved=False, note=note)


def _decide(runtime: Runtime, case_id: int, email: str, *, approved: bool, note: str | None) -> dict[str, Any]:
    with runtime.store.read() as session:
        case = _load(session, case_id)
        brief = dict(case.brief or {})
        conversation_id = case.conversation_id
        order = session.get(Order, case.order_id) if case.order_id else None
        customer_id = (brief.get("customer") or {}).get("id") or case.customer_id or (order.customer_id if order else None)
    pending = brief.get("pending_action")
    if not pending or pending.get("decided"):
        raise LookupError(f"case {case_id} has no action waiting for approval")
    agent = runtime.support_agent()
    # The checkpointer keeps the graph's state: a ConversationState.
    state = cast(ConversationState, agent.state(conversation_id)) if conversation_id else ConversationState()
    language = str(state.get("language", "en"))
    catalogue = default_catalogue()
    if approved:
        proposal = Proposal(
            pending["tool"],
            pending["arguments"],
            started_by=started_by_staff(email),
            customer_id=customer_id,
            conversation_id=conversation_id,
            identity_verified=True,
            confirmed=True,
            approved=True,
        )
        result = ActionRunner(runtime.store, agent.deps.gate, runtime.clock).run(proposal, key=keys.case_approval(case_id))
        if not result.ok or result.outcome is None or result.outcome.result is None:
            raise ValueError(f"the {pending['tool']} action failed: {result.error}")
        context = state.get("context") or {}
        parts = agent.deps.brain.describe_result(state, context, pending["tool"], result.outcome.result)
        text = render_parts(catalogue, parts, language)
    else:
        text = catalogue.render("not_allowed", language, reason=note or "a colleague reviewed the request and declined it.")
    decided = {**pending, "decided": "approved" if approved else "denied", "by": email, "note": note}
    with runtime.store.write() as session:
        _load(session, case_id).brief = {**brief, "pending_action": decided}
    _tell_customer(runtime, case_id, conversation_id, text, email, resolve=approved)
    return case_detail(runtime, case_id)


def judge_flag(runtime: Runtime, case_id: int, email: str, verdict: str) -> dict[str, Any]:
    """Say whether the exception monitor's flag behind a case was a real problem (confirmed) or
    a false alarm; each rule's precision is computed from these verdicts."""
    with runtime.store.read() as session:
        flag_ref = (_load(session, case_id).brief or {}).get("flag")
    if not flag_ref:
        raise LookupError(f"case {case_id} did not come from the exception monitor")
    record_feedback(runtime.store, int(flag_ref["id"]), verdict, email, now=runtime.clock())
    return case_detail(runtime, case_id)


def take_over(runtime: Runtime, case_id: int, email: str) -> dict[str, Any]:
    """A human answers the case's conversation from now on; the agent stays silent."""
    return _set_mode(runtime, case_id, "human", email)


def hand_back(runtime: Runtime, case_id: int) -> dict[str, Any]:
    """The agent answers the case's conversation again."""
    return _set_mode(runtime, case_id, "agent", None)


def _set_mode(runtime: Runtime, case_id: int, mode: Mode, email: str | None) -> dict[str, Any]:
    with runtime.store.write() as session:
        case = _load(session, case_id)
        if not case.conversation_id:
            raise LookupError(f"case {case_id} has no conversation")
        conversation = session.get(Conversation, case.conversation_id)
        if conversation is None:
            conversation = Conversation(id=case.conversation_id, created_at=runtime.clock())
            session.add(conversation)
        conversation.mode = mode
        conversation.handled_by = email
    return case_detail(runtime, case_id)
