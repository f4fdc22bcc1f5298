"""The agent console's API: the queue by SLA deadline, a case with its brief and thread,
replies, approval of actions the policy left to a human, take-over and hand-back."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from agent.replies import default_catalogue, render_parts
from api.runtime import Runtime
from commerce.models import Case, CaseStatus, Conversation, Message
from tools import Caller, Toolbox


class StaffReply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)
    resolve: bool = False


class FlagVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: Literal["confirmed", "false_alarm"]


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=1000)


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter(prefix="/api/console", tags=["console"])

    def summary(case: Case, conversation: Conversation | None) -> dict[str, Any]:
        brief = case.brief or {}
        customer = brief.get("customer") or {}
        now = runtime.clock()
        pending = brief.get("pending_action") or {}
        return {
            "id": case.id,
            "conversation_id": case.conversation_id,
            "urgency": case.urgency.value,
            "sla_due_at": case.sla_due_at.isoformat(),
            "seconds_left": int((case.sla_due_at - now).total_seconds()),
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

    def load(session: Any, case_id: int) -> Case:
        case = session.get(Case, case_id)
        if case is None:
            raise LookupError(f"no case {case_id}")
        return case  # type: ignore[no-any-return]

    @api.get("/cases")
    def queue(request: Request, status: str = "open") -> list[dict[str, Any]]:
        """Cases by SLA deadline, soonest first (status: open or all)."""
        runtime.staff(request)
        with runtime.store.read() as session:
            query = select(Case).order_by(Case.sla_due_at, Case.id)
            if status != "all":
                query = query.where(Case.status != CaseStatus.RESOLVED)
            cases = session.scalars(query.limit(500)).all()
            ids = [c.conversation_id for c in cases if c.conversation_id]
            conversations = {c.id: c for c in session.scalars(select(Conversation).where(Conversation.id.in_(ids))).all()}
            return [summary(c, conversations.get(c.conversation_id or "")) for c in cases]

    @api.get("/cases/{case_id}")
    def case_detail(case_id: int, request: Request) -> dict[str, Any]:
        """A case: its brief, the conversation thread and any action waiting for approval."""
        runtime.staff(request)
        with runtime.store.read() as session:
            case = load(session, case_id)
            conversation = session.get(Conversation, case.conversation_id) if case.conversation_id else None
            detail = summary(case, conversation)
            detail["brief"] = case.brief or {}
            messages = []
            if case.conversation_id:
                rows = session.scalars(
                    select(Message)
                    .where(Message.conversation_id == case.conversation_id)
                    .order_by(Message.created_at, Message.id)
                ).all()
                messages = [{"role": m.role, "text": m.text, "at": m.created_at.isoformat()} for m in rows]
        detail["messages"] = messages
        flag_ref = detail["brief"].get("flag")
        if flag_ref:
            from commerce.models import Flag

            with runtime.store.read() as session:
                flag = session.get(Flag, int(flag_ref["id"]))
                detail["flag"] = {"id": flag.id, "rule": flag.rule, "status": flag.status.value} if flag else None
        pending = detail["brief"].get("pending_action")
        detail["pending"] = pending if detail["pending_approval"] else None
        return detail

    def answer(case_id: int, conversation_id: str | None, text: str, author: str, *, resolve: bool) -> None:
        """A staff member's words reach the customer: through the paused thread when the agent
        handed the case over, as a plain message otherwise."""
        agent = runtime.agent
        if conversation_id and agent.waiting_for_human(conversation_id):
            agent.reply_as_human(conversation_id, text, agent=author, resolve=resolve)
        elif conversation_id:
            with runtime.store.write() as session:
                session.add(Message(conversation_id=conversation_id, role="human", text=text, created_at=runtime.clock()))
        with runtime.store.write() as session:
            case = load(session, case_id)
            if resolve:
                case.status, case.resolved_at = CaseStatus.RESOLVED, runtime.clock()
        if conversation_id:
            runtime.bus.publish(conversation_id, "message", {"role": "human", "text": text, "at": runtime.clock().isoformat()})
            if resolve:
                runtime.bus.publish(conversation_id, "status", {"status": "resolved"})

    @api.post("/cases/{case_id}/reply")
    def reply(case_id: int, body: StaffReply, request: Request) -> dict[str, Any]:
        """Answer the customer in the case's conversation (and optionally resolve the case)."""
        staff = runtime.staff(request)
        with runtime.store.read() as session:
            conversation_id = load(session, case_id).conversation_id
        answer(case_id, conversation_id, body.text.strip(), f"human:{staff.email}", resolve=body.resolve)
        return case_detail(case_id, request)

    def decide(case_id: int, request: Request, approve: bool, note: str | None) -> dict[str, Any]:
        staff = runtime.staff(request)
        with runtime.store.read() as session:
            case = load(session, case_id)
            brief = dict(case.brief or {})
            conversation_id = case.conversation_id
        pending = brief.get("pending_action")
        if not pending or pending.get("decided"):
            raise LookupError(f"case {case_id} has no action waiting for approval")
        agent = runtime.agent
        language = str(agent.state(conversation_id).get("language", "en")) if conversation_id else "en"
        catalogue = default_catalogue()
        if approve:
            caller = Caller(actor=f"human:{staff.email}", conversation_id=conversation_id, clock=runtime.clock)
            outcome = Toolbox(runtime.store, caller).call(
                pending["tool"], pending["arguments"], idempotency_key=f"case:{case_id}:approved"
            )
            if not outcome.ok or outcome.result is None:
                raise ValueError(f"the {pending['tool']} action failed: {outcome.error}")
            state = agent.state(conversation_id) if conversation_id else {}
            parts = agent.deps.brain.describe_result(state, state.get("context") or {}, pending["tool"], outcome.result)  # type: ignore[arg-type]
            text = render_parts(catalogue, parts, language)
        else:
            text = catalogue.render("not_allowed", language, reason=note or "a colleague reviewed the request and declined it.")
        pending = {**pending, "decided": "approved" if approve else "denied", "by": staff.email, "note": note}
        with runtime.store.write() as session:
            case = load(session, case_id)
            case.brief = {**brief, "pending_action": pending}
        answer(case_id, conversation_id, text, f"human:{staff.email}", resolve=approve)
        return case_detail(case_id, request)

    @api.post("/cases/{case_id}/flag-feedback")
    def flag_feedback(case_id: int, body: FlagVerdict, request: Request) -> dict[str, Any]:
        """Say whether the exception monitor's flag behind this case was a real problem; each
        rule's precision is computed from these verdicts."""
        from commerce.monitor import record_feedback

        staff = runtime.staff(request)
        with runtime.store.read() as session:
            flag_ref = (load(session, case_id).brief or {}).get("flag")
        if not flag_ref:
            raise LookupError(f"case {case_id} did not come from the exception monitor")
        record_feedback(runtime.store, int(flag_ref["id"]), body.verdict, staff.email, now=runtime.clock())
        return case_detail(case_id, request)

    @api.post("/cases/{case_id}/approve")
    def approve(case_id: int, body: Decision, request: Request) -> dict[str, Any]:
        """Run the action the policy left to a human, once, and tell the customer."""
        return decide(case_id, request, True, body.note)

    @api.post("/cases/{case_id}/deny")
    def deny(case_id: int, body: Decision, request: Request) -> dict[str, Any]:
        """Decline the action and tell the customer why."""
        return decide(case_id, request, False, body.note)

    def set_mode(case_id: int, request: Request, mode: str) -> dict[str, Any]:
        staff = runtime.staff(request)
        with runtime.store.write() as session:
            case = load(session, case_id)
            if not case.conversation_id:
                raise LookupError(f"case {case_id} has no conversation")
            conversation = session.get(Conversation, case.conversation_id)
            if conversation is None:
                conversation = Conversation(id=case.conversation_id, created_at=runtime.clock())
                session.add(conversation)
            conversation.mode = mode
            conversation.handled_by = staff.email if mode == "human" else None
        return case_detail(case_id, request)

    @api.post("/cases/{case_id}/takeover")
    def takeover(case_id: int, request: Request) -> dict[str, Any]:
        """A human answers this conversation from now on; the agent stays silent."""
        return set_mode(case_id, request, "human")

    @api.post("/cases/{case_id}/handback")
    def handback(case_id: int, request: Request) -> dict[str, Any]:
        """The agent answers this conversation again."""
        return set_mode(case_id, request, "agent")

    return api
