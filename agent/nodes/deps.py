"""What every node is given: the agent's dependencies, and the small helpers they share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.brain import Brain
from agent.lockout import LockoutRules
from agent.policy import PolicyGate, PolicyProfile
from agent.replies import ReplyCatalogue
from agent.runner import ActionRunner, Proposal, started_by_customer_turn
from agent.state import ConversationState
from agent.understanding import IntentClassifier
from commerce.db import Store
from tools import Caller, Toolbox

URGENCY_ORDER = ["blue", "yellow", "orange", "red"]


@dataclass
class AgentDeps:
    store: Store
    profile: PolicyProfile
    gate: PolicyGate
    brain: Brain
    classifier: IntentClassifier
    catalogue: ReplyCatalogue
    knowledge: Any | None  # knowledge.store.KnowledgeBase; optional so the agent runs without one
    clock: Callable[[], dt.datetime]
    shop_name: str = "our shop"
    lockout: LockoutRules = field(default_factory=LockoutRules)

    @property
    def runner(self) -> ActionRunner:
        return ActionRunner(self.store, self.gate, self.clock)


def customer_proposal(deps: AgentDeps, state: ConversationState, tool: str, arguments: dict[str, Any]) -> Proposal:
    """An action for this conversation's customer, as the gate must judge it."""
    return Proposal(
        tool,
        arguments,
        started_by=started_by_customer_turn(deps.brain.name),
        customer_id=state.get("customer_id"),
        conversation_id=state.get("conversation_id"),
        identity_verified=bool(state.get("customer_id")),
        identity_method=state.get("identity_method") if state.get("customer_id") else None,
        confirmed=bool(state.get("confirming")),
    )


def customer_toolbox(deps: AgentDeps, state: ConversationState) -> Toolbox:
    """Reads on behalf of the conversation's customer: other customers' records are refused."""
    caller = Caller(
        actor=started_by_customer_turn(deps.brain.name),
        customer_id=state.get("customer_id"),
        conversation_id=state.get("conversation_id"),
        clock=deps.clock,
    )
    return Toolbox(deps.store, caller)


def identity_toolbox(deps: AgentDeps, state: ConversationState) -> Toolbox:
    """Look-ups that prove who the customer is, before anyone is verified."""
    return Toolbox(deps.store, Caller(actor="agent:identity", conversation_id=state.get("conversation_id"), clock=deps.clock))


def higher_urgency(a: str | None, b: str | None) -> str:
    levels = [x for x in (a, b) if x in URGENCY_ORDER]
    return max(levels, key=URGENCY_ORDER.index) if levels else "blue"


def add_usage(state: ConversationState, usage: dict[str, int]) -> dict[str, Any]:
    """The turn's and the conversation's model usage, with `usage` added."""
    if not usage:
        return {}
    turn, total = dict(state.get("usage") or {}), dict(state.get("usage_total") or {})
    for name, value in usage.items():
        turn[name] = turn.get(name, 0) + int(value)
        total[name] = total.get(name, 0) + int(value)
    return {"usage": turn, "usage_total": total}
