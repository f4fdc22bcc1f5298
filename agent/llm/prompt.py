"""What the model is told: the system prompt with the turn's facts, the conversation within a
token budget (older turns summarised), and the tools it may call, taken from the registry."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from agent.language import LANGUAGE_NAMES
from agent.reply_checks import mask_card_numbers
from agent.state import ConversationState
from tools import REGISTRY

PROMPTS = Path(__file__).resolve().parents[2] / "prompts" / "llm"

# What the model may call, from the tools' specs. Reads run straight away; writes are proposals
# for the guard; the hand-over is planned by the graph.
READ_TOOLS: tuple[str, ...] = tuple(name for name, spec in REGISTRY.items() if spec.model_visible and not spec.is_write)
# No customer record: allowed before identity.
CATALOGUE_TOOLS: frozenset[str] = frozenset(name for name in READ_TOOLS if REGISTRY[name].target == "catalogue")
WRITE_TOOLS: tuple[str, ...] = tuple(
    name for name, spec in REGISTRY.items() if spec.model_visible and spec.is_write and name != "escalate_to_human"
)
# The model says why, how urgent and what it recommends; the graph adds the order, the summary
# and the case brief.
ESCALATION_FIELDS = ("reason", "urgency", "recommendation")
ESCALATE_TOOL = REGISTRY["escalate_to_human"].json_schema(fields=ESCALATION_FIELDS)


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate (about four characters a token), enough to keep a budget."""
    return len(text) // 4 + 1


@lru_cache(maxsize=1)
def system_template() -> str:
    return (PROMPTS / "system.md").read_text(encoding="utf-8")


def as_json(value: Any) -> str:
    """Compact JSON for the prompt, with card numbers masked."""
    return mask_card_numbers(json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":")))


def tool_definitions() -> list[dict[str, Any]]:
    return [REGISTRY[name].json_schema() for name in (*READ_TOOLS, *WRITE_TOOLS)] + [ESCALATE_TOOL]


@dataclass
class PromptBudget:
    total: int
    reply: int


def build_messages(
    state: ConversationState, context: dict[str, Any], *, today: dt.date, budget: PromptBudget, tools_tokens: int
) -> list[dict[str, Any]]:
    """The system prompt with the turn's facts, the conversation within the token budget
    (older turns summarised in the system prompt) and the customer's new message."""
    language = state.get("language") or "en"
    customer = context.get("customer")
    if customer:
        who = "Verified: " + as_json(
            {
                k: customer.get(k)
                for k in ("customer_id", "first_name", "last_name", "email", "country_code", "is_vip", "order_ids")
            }
        )
    else:
        who = "Not verified yet. Ask for the order number and the email address before discussing any order."
    order = context.get("order")
    order_text = ""
    if order:
        order_text = "The order in question (from the order store):\n" + as_json(order)
        if context.get("tracking"):
            order_text += "\nTracking:\n" + as_json(context["tracking"])
    hits = context.get("hits") or []
    if hits:
        policy = "Policy passages (cite by id):\n" + "\n".join(
            f"[[{h['id']}]] {h.get('title', '')} / {h.get('section', '')}: {h['text']}" for h in hits
        )
    else:
        policy = "No policy passage was retrieved for this message."
    history = list(state.get("history") or [])
    message = mask_card_numbers(state.get("message", ""))
    fixed = estimate_tokens(system_template()) + estimate_tokens(order_text + policy + who + message) + tools_tokens + 200
    room = max(0, budget.total - budget.reply - fixed)
    kept: list[dict[str, str]] = []
    for entry in reversed(history):
        cost = estimate_tokens(entry["text"]) + 4
        if cost > room:
            break
        kept.insert(0, entry)
        room -= cost
    older = history[: len(history) - len(kept)]
    earlier = summarise(older, state) if older else ""
    system = system_template().format(
        shop=context.get("shop") or "the shop",
        today=today.isoformat(),
        language_name=LANGUAGE_NAMES.get(language, language),
        example_id=hits[0]["id"] if hits else "returns-1",
        customer=who,
        intent=state.get("intent", "other"),
        urgency=state.get("urgency", "blue"),
        order=order_text,
        policy=policy,
        earlier=earlier,
    )
    messages: list[dict[str, Any]] = [{"role": "system", "content": system.strip() + "\n"}]
    for entry in kept:
        messages.append(
            {"role": "user" if entry["role"] == "customer" else "assistant", "content": mask_card_numbers(entry["text"])}
        )
    messages.append({"role": "user", "content": message})
    return messages


def summarise(older: list[dict[str, str]], state: ConversationState) -> str:
    """The turns that no longer fit, in a few lines: what the customer wrote (shortened) and
    what was done."""
    lines = ["Earlier in this conversation (summarised):"]
    for entry in older:
        if entry["role"] == "customer":
            words = mask_card_numbers(entry["text"])
            lines.append("- customer: " + (words[:120] + "…" if len(words) > 120 else words))
    done = [f"{a['tool']} ({'done' if a['ok'] else 'failed'})" for a in state.get("actions_log", [])]
    if done:
        lines.append("- actions so far: " + ", ".join(done))
    return "\n".join(lines)
