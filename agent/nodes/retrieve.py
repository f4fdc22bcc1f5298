"""retrieve: the verified customer, the order and its tracking, the policy passages the
answer may cite, and the case's urgency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from agent.knowledge_search import search_policy
from agent.nodes.deps import AgentDeps, customer_toolbox, higher_urgency
from agent.replies import format_list
from agent.state import ORDER_INTENTS, ConversationState
from agent.understanding import Signals, assess_urgency
from commerce.money import approx_eur

POLICY_INTENTS = frozenset({"policy_question", "customs_duties"})
# How the knowledge base is searched for intents whose playbook cites policy.
KB_TOPIC_HINT = {
    "return_request": "returns",
    "refund_request": "returns",
    "exchange_request": "exchanges",
    "delivery_delay": "delays",
    "not_received": "delays",
    "damaged_item": "damaged",
    "wrong_item": "damaged",
    "change_address": "address",
    "cancel_order": "cancellations",
    "switch_carrier": "carriers",
}
BLOCKING_PARTS = frozenset({"ask_order", "ask_which_order", "not_your_order", "order_not_found"})


def _order_context(deps: AgentDeps, state: ConversationState, context: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The order the customer means (the one named, else their latest) with its tracking; or
    what to tell them when there is none."""
    box = customer_toolbox(deps, state)
    said: list[Any] = []
    order_ids = context["customer"]["order_ids"]
    order_id = state.get("order_id")
    orders: dict[str, dict[str, Any]] = {}
    if order_id is None and len(order_ids) > 1:
        # None named: each of the customer's orders is read once, to choose or to list them.
        for known in order_ids:
            found = box.call("get_order", {"order_id": known})
            if found.ok and found.result:
                orders[known] = found.result
        order_id = likeliest_order(state, orders)
        if order_id is None and state.get("asked") == "ask_which_order":
            # Asked once and answered without a number: the newest order with the items they named,
            # said in the reply, so the customer sees which one before saying yes to anything.
            order_id = likeliest_order(state, orders, guess=True)
            if order_id is not None:
                names = [item["name"] for item in orders[order_id].get("items", [])[:3]]
                language = state.get("language") or "en"
                said.append(("assumed_order", {"order": order_id, "items": str(format_list(names, language))}))
        if order_id is None and orders:
            return {}, [("ask_which_order", {"orders": _order_choices(orders, state.get("language") or "en")})]
    order_id = order_id or (order_ids or [None])[-1]
    if order_id is None:
        return {}, [("ask_order", {})]
    order = box.call("get_order", {"order_id": order_id})
    if order.ok and order.result:
        context["order"] = order.result
        tracking = box.call("track_shipment", {"order_id": order.result["order_id"]})
        context["tracking"] = tracking.result if tracking.ok else None
        goal = state.get("problem") or state.get("intent")
        if goal in REPLACEABLE or goal in SWAPPABLE:
            context["stock"], context["variants"] = _catalogue(box, order.result)
        return {"order_id": order.result["order_id"]}, said
    if order.error_code == "forbidden":
        return {"order_id": None}, [("not_your_order", {})]
    return {"order_id": None}, [("order_not_found", {"order_id": str(order_id)})]


# Goals that change an order: never acted on an order the customer did not name when several fit.
WRITE_GOALS = frozenset(
    {
        "damaged_item",
        "wrong_item",
        "missing_item",
        "not_received",
        "return_request",
        "exchange_request",
        "refund_request",
        "reship_request",
        "cancel_order",
        "change_address",
        "switch_carrier",
        "modify_order",
    }
)
# The order states each goal usually concerns, most likely first.
FITTING_STATUSES = {
    "damaged_item": ("delivered",),
    "wrong_item": ("delivered",),
    "missing_item": ("delivered",),
    "not_received": ("delivered", "processed"),
    "return_request": ("delivered",),
    "exchange_request": ("delivered",),
    "refund_request": ("delivered", "cancelled", "return_requested"),
    "refund_status": ("cancelled", "return_requested", "delivered"),
    "reship_request": ("delivered", "processed"),
    "cancel_order": ("pending", "processed"),
    "change_address": ("pending", "processed"),
    "switch_carrier": ("pending", "processed"),
    "modify_order": ("pending",),
    "track_order": ("processed", "pending"),
    "delivery_delay": ("processed",),
}


# Goals that may end in sending items again: the agent checks their stock before offering it.
REPLACEABLE = frozenset({"damaged_item", "wrong_item", "missing_item", "reship_request", "not_received"})


# Goals that swap an item for another variant: the agent reads the product's variants.
SWAPPABLE = frozenset({"exchange_request", "modify_order"})


def _catalogue(box: Any, order: dict[str, Any]) -> tuple[dict[str, int | None], dict[str, list[dict[str, Any]]]]:
    """Units in stock of each variant of the order's products (None where stock is not
    tracked), and each product's variants."""
    stock: dict[str, int | None] = {}
    variants: dict[str, list[dict[str, Any]]] = {}
    for product_id in dict.fromkeys(item["product_id"] for item in order.get("items", [])):
        found = box.call("get_product", {"product_id": product_id})
        if not found.ok or not found.result:
            continue
        variants[product_id] = list(found.result.get("variants", []))
        for variant in variants[product_id]:
            stock[variant["item_id"]] = variant["in_stock"] if variant.get("available", True) else 0
    return stock, variants


ORDER_CHOICES = 4


def _order_choices(orders: dict[str, dict[str, Any]], language: str) -> str:
    """The customer's latest orders, each with its items, for a question of which one they mean."""
    shown = []
    for order_id, order in list(orders.items())[-ORDER_CHOICES:][::-1]:
        names = ", ".join(item["name"] for item in order.get("items", [])[:3])
        shown.append(f"{order_id} ({names})" if names else order_id)
    return str(format_list(shown, language))


def likeliest_order(state: ConversationState, orders: dict[str, dict[str, Any]], *, guess: bool = False) -> str | None:
    """The order a verified customer most likely means when they named none: one whose items
    they named, else the newest whose state fits the request, else their newest. For a change
    to an order (cancel, redirect, send again…) with several orders that fit and none named, no
    guess: the customer is asked which order, unless `guess` (asked already). `orders` are the
    customer's, oldest first."""
    order_ids = list(orders)
    if len(order_ids) <= 1:
        return order_ids[-1] if order_ids else None
    recent = " ".join(t["text"] for t in (state.get("transcript") or [])[-4:]).lower()
    fitting = FITTING_STATUSES.get(state.get("problem") or state.get("intent", ""), ())
    best: tuple[int, int, int] | None = None
    chosen = order_ids[-1]
    scores: list[tuple[int, int, int]] = []
    for position, (order_id, order) in enumerate(orders.items()):
        named = sum(1 for item in order.get("items", []) if item["name"].lower() in recent)
        fits = len(fitting) - fitting.index(order["status"]) if order["status"] in fitting else 0
        score = (named, fits, position)
        scores.append(score)
        if best is None or score > best:
            best, chosen = score, order_id
    goal = state.get("problem") or state.get("intent", "")
    if goal in WRITE_GOALS and best is not None:
        rivals = [s for s in scores if s[:2] == best[:2]]
        # A second time, the newest order with the items the customer named is the one they mean;
        # without a named item, a change is never made on a guess.
        if len(rivals) > 1 and not (guess and best[0] > 0):
            return None
    return chosen


def _policy_hits(deps: AgentDeps, state: ConversationState) -> list[dict[str, Any]]:
    assert deps.knowledge is not None
    # The same text the intent was read from: its embedding is remembered, not computed again.
    message = state.get("message", "")
    hits = search_policy(deps.knowledge, deps.classifier, message, language=state.get("language"))
    if hits and hits[0].chunk.language != state.get("language"):
        # No document in the customer's language: English is the most widely read fallback.
        hits = search_policy(deps.knowledge, deps.classifier, message, language="en") or hits
    return [
        {
            "id": h.chunk.id,
            "text": h.chunk.text,
            "language": h.chunk.language,
            "title": h.chunk.title,
            "section": h.chunk.section,
            "score": h.score,
        }
        for h in hits
    ]


def retrieve(deps: AgentDeps, state: ConversationState) -> dict[str, Any]:
    intent = state.get("intent", "other")
    coupon_rules = deps.profile.coupons
    dnr = deps.profile.delivered_not_received
    context: dict[str, Any] = {
        "shop": deps.shop_name,
        "hits": [],
        "order": None,
        "tracking": None,
        "customer": None,
        "profile": {
            "max_coupon_percent": coupon_rules.max_percent if coupon_rules.max_percent is not None else 0,
            "dnr_reship_below": {k: str(v) for k, v in (dnr.reship_below.items() if dnr else [])},
        },
    }
    updates: dict[str, Any] = {}
    parts = list(state.get("reply_parts", []))
    if state.get("customer_id"):
        customer = customer_toolbox(deps, state).call("get_customer", {"customer_id": state["customer_id"]})
        context["customer"] = customer.result if customer.ok else None
    if intent in ORDER_INTENTS and context["customer"] is not None:
        found, said = _order_context(deps, state, context)
        updates.update(found)
        parts.extend(said)
    if deps.knowledge is not None and (intent in POLICY_INTENTS or (intent in KB_TOPIC_HINT and not context["order"])):
        context["hits"] = _policy_hits(deps, state)
        updates["cited"] = [*state.get("cited", []), *(h["id"] for h in context["hits"][:1])]
    context["coupon_already_offered"] = any(a["tool"] == "issue_coupon" and a["ok"] for a in state.get("actions_log", []))
    updates["context"] = context
    signals = state.get("signals") or {}
    if signals.get("wants_human") or signals.get("legal_threat"):
        parts = [p for p in parts if p[0] not in ("ask_order", "ask_which_order")]  # a person takes over; no question first
    updates["reply_parts"] = parts
    updates.update(urgency_of(deps, state, context))
    return updates


def urgency_of(deps: AgentDeps, state: ConversationState, context: dict[str, Any]) -> dict[str, Any]:
    signals = Signals(
        **(state.get("signals") or {"affirmation": None, "wants_human": False, "legal_threat": False, "angry": False})
    )
    order = context.get("order")
    value = approx_eur(Decimal(str(order["total"])), order["currency"]) if order else None
    parcel = ((context.get("tracking") or {}).get("parcels") or [None])[-1]
    days_late = 0
    if parcel and parcel.get("promised_date_passed") and parcel["shipment"].get("promised_delivery_date"):
        promised = dt.date.fromisoformat(parcel["shipment"]["promised_delivery_date"])
        days_late = (deps.clock().date() - promised).days
    assessment = assess_urgency(
        intent=state.get("intent", "other"),
        signals=signals,
        order_value_eur=value,
        customer_is_vip=bool((context.get("customer") or {}).get("is_vip")),
        # A delivered parcel is not stalled, however long ago its last scan was.
        days_since_last_scan=parcel.get("days_since_last_event")
        if parcel and parcel["shipment"]["status"] not in ("delivered", "returned_to_sender")
        else None,
        promised_date_passed=bool(parcel and parcel.get("promised_date_passed")),
        days_late=days_late,
    )
    reasons = list(assessment.reasons)
    level = higher_urgency(assessment.level.value, state.get("model_urgency"))
    if level != assessment.level.value:
        reasons.append(f"the model read the message as {level}")
    return {"urgency": level, "urgency_reasons": reasons}


ORDER_QUESTIONS = ("ask_order", "ask_which_order")


def asked_order_twice(state: ConversationState) -> bool:
    """Whether the agent asked which order and the customer answered without one."""
    parts = state.get("reply_parts") or []
    if (state.get("signals") or {}).get("closing"):
        return False  # "ok, thanks, bye" answers no question: the customer leaves
    return state.get("asked") in ORDER_QUESTIONS and any(k in ORDER_QUESTIONS for k, _ in parts)


def after_retrieve(state: ConversationState) -> Literal["decide", "respond"]:
    signals = state.get("signals") or {}
    if signals.get("wants_human") or signals.get("legal_threat"):
        return "decide"  # the brain hands the case over, order found or not
    parts = state.get("reply_parts") or []
    if asked_order_twice(state):
        return "decide"  # asked which order twice without an answer: a person takes over
    return "respond" if any(k in BLOCKING_PARTS for k, _ in parts) else "decide"
