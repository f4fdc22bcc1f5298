"""understand: the message's language, signals, slots and intent; a yes or no to a pending
proposal; the fresh scratch every turn starts from."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from agent.language import detect_language
from agent.nodes.deps import AgentDeps, add_usage
from agent.state import ConversationState, fresh_turn
from agent.understanding import extract_slots, read_signals

SHOP_ORDER_REF = re.compile(r"#[A-Za-z0-9][A-Za-z0-9-]{2,30}")
IDENTITY_NOISE = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|#?[A-Za-z]?\d[\d-]{3,}[A-Za-z0-9]*|#[A-Za-z0-9-]*\d[A-Za-z0-9-]*"
    r"|\b(?:e-?mail|correo|courriel)\b\s*:?",
    re.IGNORECASE,
)


def request_text(text: str) -> str:
    """The message without emails and order numbers, so identity details do not drown the request."""
    cleaned = re.sub(r"\s+", " ", IDENTITY_NOISE.sub(" ", text)).strip(" ,.:;-")
    return cleaned if len(cleaned) >= 3 else text


def read_slots(text: str, language: str) -> dict[str, Any]:
    slots = extract_slots(text, language)
    found: dict[str, Any] = {
        "order_ids": list(slots.order_ids),
        "emails": list(slots.emails),
        "postal_codes": list(slots.postal_codes),
        "names": list(slots.names),
        "amounts": [[str(a), c] for a, c in slots.amounts],
        "address": slots.address,
        "item_hints": list(slots.item_hints),
    }
    if not found["order_ids"]:
        # Shops number orders their own way (#A1003, #SO-2291): any '#' reference with a digit counts.
        found["order_ids"] = [m.group(0) for m in SHOP_ORDER_REF.finditer(text) if any(c.isdigit() for c in m.group(0))]
    return found


def understand(deps: AgentDeps, state: ConversationState) -> dict[str, Any]:
    text = state.get("message", "")
    language = detect_language(text, state.get("language")).language
    signals = read_signals(text, language)
    slots = read_slots(text, language)
    updates: dict[str, Any] = {
        **fresh_turn(),
        "turn": state.get("turn", 0) + 1,
        "language": language,
        "signals": dataclasses.asdict(signals),
        "slots": slots,
        "transcript": [*state.get("transcript", []), {"text": text, "language": language}],
        "actions_log": state.get("actions_log", []),
        "cited": state.get("cited", []),
    }
    pending = state.get("pending")
    if pending and signals.affirmation in ("yes", "no"):
        updates["intent"] = pending["intent"]
        updates["intent_confidence"] = 1.0
        if signals.affirmation == "yes":
            updates["confirming"] = True
        else:
            updates["pending"] = None
            updates["status"] = "open"
            updates["reply_parts"] = [("cancelled_by_customer", {}), ("anything_else", {})]
        return updates
    by_brain = deps.brain.classify(text, language, state)
    if by_brain is not None and by_brain.get("intent"):
        intent, confidence = str(by_brain["intent"]), 1.0
        updates["model_urgency"] = by_brain.get("urgency")
        updates.update(add_usage({**state, "usage": {}}, by_brain.get("usage") or {}))
    else:
        guess = deps.classifier.classify(request_text(text), language)
        intent, confidence = guess.intent, guess.confidence
    gives_identity = bool(slots["emails"] or (slots["names"] and slots["postal_codes"]))
    if intent in ("other", "greeting") and (state.get("deferred_intent") and (gives_identity or slots["order_ids"])):
        intent = state["deferred_intent"] or intent
    if intent in ("other", "greeting") and state.get("intent") == "change_address" and slots["address"]:
        intent = "change_address"
    updates.update(
        intent=intent,
        intent_confidence=confidence,
        pending=None,
        misunderstood=(state.get("misunderstood", 0) + 1) if intent == "other" else 0,
    )
    if slots["order_ids"]:
        updates["order_id"] = slots["order_ids"][0]
    if state.get("status") in (None, "awaiting_confirmation"):
        updates["status"] = "open"
    return updates
