"""The graph's nodes one at a time, with the agent's real dependencies: each node is a
function of the dependencies and the state, testable without running a whole turn."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from agent.brain import Decision
from agent.nodes.decide import decide
from agent.nodes.deps import AgentDeps
from agent.nodes.guard import after_guard, guard
from agent.nodes.understand import understand
from agent.offline import OfflineBrain
from agent.service import SupportAgent
from agent.state import ConversationState, TurnScratch, fresh_turn
from commerce.db import Store
from config import Settings
from tests.conftest import NOW, build_shop
from tools import keys


@pytest.fixture
def deps(tmp_path: Path, cache_dir: Path) -> Iterator[AgentDeps]:
    settings = Settings(data_dir=tmp_path, cache_dir=cache_dir, secret_key="test-secret")
    store = Store(settings.resolved_database_url)
    build_shop(store)
    support = SupportAgent(settings, store=store, clock=lambda: NOW, use_knowledge=False)
    yield support.deps
    support.close()
    store.dispose()


def test_a_turn_starts_from_fresh_scratch_whatever_the_last_turn_left(deps: AgentDeps) -> None:
    leftover: dict[str, Any] = {
        "message": "hello",
        "turn": 3,
        "decision": {"kind": "propose", "tool": "issue_refund"},
        "gate": {"verdict": "allow"},
        "actions": [{"tool": "issue_refund", "arguments": {}, "ok": True, "result": {}, "error": None}],
        "context": {"order": {"order_id": "#A1002"}},
        "cited_by_model": ["returns-1"],
        "brain_fallback": "timeout",
        "usage": {"model_calls": 2},
    }
    updates = understand(deps, ConversationState(**leftover))  # type: ignore[typeddict-item]
    for name, empty in fresh_turn().items():
        if name not in ("slots", "signals", "reply_parts"):  # filled from this message
            assert updates[name] == empty, name
    assert updates["turn"] == 4
    assert set(fresh_turn()) == set(TurnScratch.__annotations__) - {"message"}


def test_the_guard_fixes_the_key_of_a_proposal_waiting_for_a_yes(deps: AgentDeps) -> None:
    decision = Decision("propose", tool="issue_refund", arguments={"order_id": "#A1002", "amount": "5.00", "reason": "late"})
    state: dict[str, Any] = {
        "conversation_id": "c9",
        "turn": 2,
        "customer_id": "alice",
        "intent": "refund_request",
        "decision": decision.to_state(),
    }
    updates = guard(deps, ConversationState(**state))  # type: ignore[typeddict-item]
    assert updates["gate"]["verdict"] == "confirm"
    assert updates["pending"]["key"] == keys.turn_action("c9", 2, "issue_refund")
    assert after_guard(ConversationState(**{**state, **updates})) == "respond"  # type: ignore[typeddict-item]


class _PatientBrain(OfflineBrain):
    """A brain that keeps trying rather than handing a lost customer to a human."""

    escalates_when_lost = False


def test_a_lost_customer_goes_to_a_human_only_when_the_brain_says_so(deps: AgentDeps) -> None:
    state = ConversationState(intent="other", misunderstood=3, context={}, reply_parts=[])
    assert decide(deps, state)["decision"]["kind"] == "escalate"
    patient = replace(deps, brain=_PatientBrain())
    assert decide(patient, state)["decision"]["kind"] == "reply"


def test_the_second_misunderstanding_offers_choices(deps: AgentDeps) -> None:
    state = ConversationState(intent="other", misunderstood=2, context={}, reply_parts=[])
    updates = decide(deps, state)
    assert updates["decision"]["kind"] == "reply" and len(updates["choices"]) == 5
    assert updates["reply_parts"] == [("clarify_choices", {})]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ah ok also ist es unterwegs, gut zu wissen. dann wart ich noch n paar tage. danke, tschüss!", "de"),
        ("ah beleza, entao é so esperar. brigadao!", "pt"),
    ],
)
def test_leave_taken_after_which_order_chooses_no_order(deps: AgentDeps, text: str, language: str) -> None:
    state: dict[str, Any] = {
        "message": text,
        "language": language,
        "intent": "not_received",
        "customer_id": "alice",
        "asked": "ask_which_order",
        "transcript": [{"text": "wo bleibt meine bestellung?", "language": language}],
    }
    updates = understand(deps, ConversationState(**state))  # type: ignore[typeddict-item]
    assert updates["intent"] == "greeting" and updates["signals"]["closing"] is True
