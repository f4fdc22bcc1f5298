"""Handing a case to a human agent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from commerce.models import Case, CaseStatus, UrgencyLevel
from commerce.sla import sla_deadline
from tools.base import ToolArgs, ToolContext, ToolKind, ToolResult, tool


class EscalateToHumanArgs(ToolArgs):
    order_id: str | None = Field(default=None, max_length=64)
    reason: str = Field(min_length=1, max_length=500, description="Why a human must decide, in one sentence (English).")
    summary: str = Field(default="", max_length=4000, description="The issue and what was tried so far.")
    urgency: UrgencyLevel = UrgencyLevel.YELLOW
    recommendation: str = Field(default="", max_length=1000, description="The resolution you would suggest (English).")
    brief: dict[str, Any] = Field(default_factory=dict, description="The case brief, when the agent prepared one.")


class CaseOpened(ToolResult):
    case_id: int
    urgency: str
    sla_due_at: dt.datetime


@tool(
    kind=ToolKind.WRITE,
    target="none",
    gerund="handing over to a human",
    noun="Hand-overs",
    takes_reason=True,
    rule="escalate_to_human",
    consent=False,
    model_visible=True,
)
def escalate_to_human(context: ToolContext, args: EscalateToHumanArgs) -> CaseOpened:
    """Hand the conversation to a human agent when the request is outside what may be done
    alone; opens a case in the agents' queue with its response deadline."""
    customer_id = context.caller.customer_id
    if args.order_id:
        order = context.order(args.order_id)
        customer_id = order.customer_id
    now = context.now()
    brief = dict(args.brief)
    if args.recommendation and not brief.get("recommended_resolution"):
        brief["recommended_resolution"] = args.recommendation
    case = Case(
        customer_id=customer_id,
        order_id=args.order_id and context.order(args.order_id).id,
        conversation_id=context.caller.conversation_id,
        status=CaseStatus.OPEN,
        urgency=args.urgency,
        reason=args.reason,
        summary=args.summary,
        brief=brief,
        sla_due_at=sla_deadline(args.urgency, now),
        created_at=now,
    )
    context.session.add(case)
    context.session.flush()
    return CaseOpened(case_id=case.id, urgency=case.urgency.value, sla_due_at=case.sla_due_at)
