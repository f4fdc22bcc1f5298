"""respond: the reply in the customer's language; wait_for_human: the thread pauses until a
human's answer resumes it."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END
from langgraph.types import interrupt

from agent.nodes.deps import AgentDeps
from agent.replies import render_parts
from agent.state import ConversationState

HISTORY_TURNS = 60
# Replies that ask the customer for one missing detail: their answer continues the same goal.
ASKING = frozenset(
    {
        "ask_which_items",
        "ask_address",
        "ask_order",
        "ask_which_order",
        "ask_remedy",
        "ask_variant",
        "variant_unavailable",
        "ask_order_for_identity",
        "ask_email_for_identity",
        "ask_stronger_identity",
    }
)


def respond(deps: AgentDeps, state: ConversationState) -> dict[str, Any]:
    parts = [*(state.get("reply_parts") or [("didnt_understand", {})]), *(state.get("reply_after") or [])]
    reply = render_parts(deps.catalogue, parts, state.get("language") or "en")
    history = [
        *state.get("history", []),
        {"role": "customer", "text": state.get("message", "")},
        {"role": "agent", "text": reply},
    ]
    asked = next((key for key, _ in parts if key in ASKING), None)
    return {"reply": reply, "history": history[-HISTORY_TURNS:], "asked": asked}


def after_respond(state: ConversationState) -> str:
    return "wait_for_human" if state.get("status") == "escalated" else END


def wait_for_human(state: ConversationState) -> dict[str, Any]:
    answer = interrupt({"case_id": state.get("case_id"), "conversation_id": state.get("conversation_id")})
    text = str(answer.get("text", "")) if isinstance(answer, dict) else str(answer)
    resolved = bool(answer.get("resolve")) if isinstance(answer, dict) else False
    history = [*state.get("history", []), {"role": "human", "text": text}]
    return {"reply": text, "status": "resolved" if resolved else "open", "pending": None, "history": history[-HISTORY_TURNS:]}
