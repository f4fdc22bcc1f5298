"""The console's case work without HTTP: an approved action runs once through the action
runner and the customer is told; a denial or an action the policy refuses changes nothing; a
staff reply, take-over and hand-back reach the conversation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from commerce.models import AuditEntry, Case, Conversation, Message, Refund, UrgencyLevel
from support import cases, conversations
from support.runtime import Runtime
from tests.conftest import NOW

STAFF = "agent@shop.example"


def held_refund(runtime: Runtime, amount: str, *, conversation_id: str | None = None) -> int:
    """A case holding a refund of order #A1002 for a human's approval."""
    pending = {"tool": "issue_refund", "arguments": {"order_id": "#A1002", "amount": amount, "reason": "damaged"}}
    with runtime.store.write() as session:
        case = Case(
            order_id="#A1002",
            conversation_id=conversation_id,
            urgency=UrgencyLevel.ORANGE,
            reason="refund above what the agent may give alone",
            brief={"customer": {"id": "alice", "name": "Alice Martin", "language": "en"}, "pending_action": pending},
            sla_due_at=NOW,
            created_at=NOW,
        )
        session.add(case)
        session.flush()
        return case.id


def count(runtime: Runtime, model: Any) -> int:
    with runtime.store.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_approved_action_runs_once_in_the_staff_members_name(runtime: Runtime) -> None:
    case_id = held_refund(runtime, "10.00")
    detail = cases.approve(runtime, case_id, STAFF)
    assert detail["status"] == "resolved" and detail["pending"] is None
    assert detail["brief"]["pending_action"]["decided"] == "approved" and detail["brief"]["pending_action"]["by"] == STAFF
    with runtime.store.read() as session:
        refund = session.scalars(select(Refund)).one()
        assert refund.amount == Decimal("10.00")
        entry = session.scalars(select(AuditEntry).where(AuditEntry.tool == "issue_refund")).one()
        assert entry.actor == f"human:{STAFF}" and entry.idempotency_key == f"case:{case_id}:approved"
    with pytest.raises(LookupError, match="no action waiting"):
        cases.approve(runtime, case_id, STAFF)
    assert count(runtime, Refund) == 1


def test_an_action_the_policy_refuses_is_not_run_even_when_approved(runtime: Runtime) -> None:
    case_id = held_refund(runtime, "5000.00")
    with pytest.raises(ValueError, match="issue_refund action failed"):
        cases.approve(runtime, case_id, STAFF)
    assert count(runtime, Refund) == 0
    assert cases.case_detail(runtime, case_id)["pending_approval"]


def test_a_denial_tells_the_customer_why_and_runs_nothing(runtime: Runtime) -> None:
    conversation_id = conversations.open_conversation(runtime, locale="en", customer_id="alice")
    case_id = held_refund(runtime, "10.00", conversation_id=conversation_id)
    detail = cases.deny(runtime, case_id, STAFF, "the item was used for months")
    assert count(runtime, Refund) == 0 and detail["status"] == "open"
    assert detail["messages"][-1]["role"] == "human" and "used for months" in detail["messages"][-1]["text"]


def test_take_over_reply_and_hand_back(runtime: Runtime) -> None:
    conversation_id = conversations.open_conversation(runtime, locale="en", customer_id=None)
    case_id = held_refund(runtime, "10.00", conversation_id=conversation_id)

    taken = cases.take_over(runtime, case_id, STAFF)
    assert (taken["mode"], taken["handled_by"]) == ("human", STAFF)
    record = conversations.find_conversation(runtime.store, conversation_id)
    kept = conversations.send_message(runtime, record, "Is anyone there?")
    assert kept["status"] == "with_human" and kept["reply"] == ""

    answered = cases.reply(runtime, case_id, STAFF, "  Yes, I am looking at your order now.  ", resolve=True)
    assert answered["status"] == "resolved"
    assert [(m["role"], m["text"]) for m in answered["messages"]] == [
        ("customer", "Is anyone there?"),
        ("human", "Yes, I am looking at your order now."),
    ]
    back = cases.hand_back(runtime, case_id)
    assert (back["mode"], back["handled_by"]) == ("agent", None)
    assert [c["id"] for c in cases.queue(runtime)] == []
    assert [c["id"] for c in cases.queue(runtime, include_resolved=True)] == [case_id]


def test_a_case_that_is_not_there(runtime: Runtime) -> None:
    with pytest.raises(LookupError, match="no case 404"):
        cases.case_detail(runtime, 404)
    with pytest.raises(LookupError, match="no case 404"):
        cases.take_over(runtime, 404, STAFF)
    with pytest.raises(LookupError, match="no case 404"):
        cases.judge_flag(runtime, 404, STAFF, "confirmed")
    assert count(runtime, Conversation) == 0 and count(runtime, Message) == 0
    assert cases.queue(runtime) == []
