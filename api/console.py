"""The agent console's API: the queue by SLA deadline, a case with its brief and thread,
replies, approval of actions the policy left to a human, the verdict on a monitor flag,
take-over and hand-back."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from api.deps import RuntimeDep, StaffDep, signed_in_staff
from support import cases

# A case id fits the database's 64-bit integer; anything else is refused before a query.
CaseId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The case's number.")]
router = APIRouter(prefix="/api/console", tags=["console"], dependencies=[Depends(signed_in_staff)])


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


@router.get("/cases")
def queue(runtime: RuntimeDep, status: str = "open") -> list[dict[str, Any]]:
    """Cases by SLA deadline, soonest first (status: open or all)."""
    return cases.queue(runtime, include_resolved=status == "all")


@router.get("/cases/{case_id}")
def case_detail(case_id: CaseId, runtime: RuntimeDep) -> dict[str, Any]:
    """A case: its brief, the conversation thread and any action waiting for approval."""
    return cases.case_detail(runtime, case_id)


@router.post("/cases/{case_id}/reply")
def reply(case_id: CaseId, body: StaffReply, staff: StaffDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Answer the customer in the case's conversation (and optionally resolve the case)."""
    return cases.reply(runtime, case_id, staff.email, body.text, resolve=body.resolve)


@router.post("/cases/{case_id}/flag-feedback")
def flag_feedback(case_id: CaseId, body: FlagVerdict, staff: StaffDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Say whether the exception monitor's flag behind this case was a real problem; each
    rule's precision is computed from these verdicts."""
    return cases.judge_flag(runtime, case_id, staff.email, body.verdict)


@router.post("/cases/{case_id}/approve")
def approve(case_id: CaseId, body: Decision, staff: StaffDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Run the action the policy left to a human, once, and tell the customer."""
    return cases.approve(runtime, case_id, staff.email, body.note)


@router.post("/cases/{case_id}/deny")
def deny(case_id: CaseId, body: Decision, staff: StaffDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Decline the action and tell the customer why."""
    return cases.deny(runtime, case_id, staff.email, body.note)


@router.post("/cases/{case_id}/takeover")
def takeover(case_id: CaseId, staff: StaffDep, runtime: RuntimeDep) -> dict[str, Any]:
    """A human answers this conversation from now on; the agent stays silent."""
    return cases.take_over(runtime, case_id, staff.email)


@router.post("/cases/{case_id}/handback")
def handback(case_id: CaseId, runtime: RuntimeDep) -> dict[str, Any]:
    """The agent answers this conversation again."""
    return cases.hand_back(runtime, case_id)
