"""What a brain proposes for a turn. Both brains (offline and LLM) only propose; the guard
disposes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from agent.state import ConversationState

ReplyPart = tuple[str, dict[str, str]]
NESTED = "\x00"  # a value that is itself a template key, rendered in the same language
VERBATIM = "\x00text"  # a reply part whose {"text": ...} is sent as written (a model's checked reply)


def nested(key: str) -> str:
    return NESTED + key


@dataclass
class Decision:
    """One turn's plan: a reply, a proposed tool call, or a hand-over to a human."""

    kind: Literal["reply", "propose", "escalate"]
    parts: list[ReplyPart] = field(default_factory=list)  # said before anything else
    tool: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    ask: ReplyPart | None = None  # how the proposal is put to the customer
    offer: bool = False  # ask for a yes even when the policy would not require it
    reason: str = ""  # for escalations: why a human must decide (English)
    urgency: str | None = None  # raise the case's urgency
    recommendation: str = ""  # the resolution a human should consider (English)
    read_only: bool = False  # a read tool the brain wants run before answering
    # Conversation state the brain records (usage, fallbacks, model understanding); not part of the plan.
    state_updates: dict[str, Any] = field(default_factory=dict)

    def to_state(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "parts": [list(p) for p in self.parts],
            "tool": self.tool,
            "arguments": self.arguments,
            "ask": list(self.ask) if self.ask else None,
            "offer": self.offer,
            "reason": self.reason,
            "urgency": self.urgency,
            "recommendation": self.recommendation,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Decision:
        return cls(
            kind=data["kind"],
            parts=[(k, dict(v)) for k, v in data.get("parts", [])],
            tool=data.get("tool"),
            arguments=dict(data.get("arguments") or {}),
            ask=(str(data["ask"][0]), dict(data["ask"][1])) if data.get("ask") else None,
            offer=bool(data.get("offer")),
            reason=data.get("reason", ""),
            urgency=data.get("urgency"),
            recommendation=data.get("recommendation", ""),
        )


class Brain(Protocol):
    """What the graph asks of a brain. Both brains implement every method; one that has nothing
    to add answers with its empty value (no reading of its own, no translation)."""

    name: str
    # Hand the conversation to a human after two turns the brain could not understand.
    escalates_when_lost: bool

    def attach(self, deps: Any) -> None:
        """Called once when the graph is built, with the agent's dependencies."""
        ...

    def classify(self, text: str, language: str, state: ConversationState) -> dict[str, Any] | None:
        """The brain's own reading of a message ({"intent", "urgency", "usage"}), or None to let
        the embedded classifier read it."""
        ...

    def decide(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        """Plan the turn from the understood message and the retrieved context."""
        ...

    def describe_result(
        self, state: ConversationState, context: dict[str, Any], tool: str, result: dict[str, Any]
    ) -> list[ReplyPart]:
        """Tell the customer what a successful action did."""
        ...

    def translate(self, state: ConversationState, words: list[str]) -> tuple[str | None, dict[str, int]]:
        """An English translation of the customer's words for the case brief (None when the
        brain cannot translate), with the usage it cost."""
        ...

    def close(self) -> None:
        """Release what the brain holds (connections, threads)."""
        ...
