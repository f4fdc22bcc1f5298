"""The case brief a human agent reads before answering: who, which order, what happened
when, what the customer said, what policy says, what was tried, how urgent."""

from __future__ import annotations

from typing import Any

from agent.state import ConversationState

ISSUE_SENTENCES = {
    "track_order": "The customer asks where their parcel is",
    "delivery_delay": "The customer's parcel is late",
    "not_received": "The customer says the parcel never arrived",
    "damaged_item": "The customer received a damaged item",
    "wrong_item": "The customer received the wrong item",
    "missing_item": "An item is missing from the customer's parcel",
    "return_request": "The customer wants to return items",
    "exchange_request": "The customer wants to exchange items",
    "refund_request": "The customer asks for a refund",
    "refund_status": "The customer asks about a refund",
    "cancel_order": "The customer wants to cancel the order",
    "change_address": "The customer wants to change the delivery address",
    "modify_order": "The customer wants to change the order",
    "switch_carrier": "The customer wants another carrier or faster shipping",
    "reship_request": "The customer asks for the items to be sent again",
    "payment_issue": "The customer reports a payment problem",
    "invoice_request": "The customer asks for an invoice",
    "customs_duties": "The customer asks about customs or import duties",
    "policy_question": "The customer has a question about the shop's policy",
    "complaint": "The customer is complaining",
    "human_agent": "The customer asked to speak to a person",
    "greeting": "The customer opened the conversation",
    "other": "The agent could not understand the customer's request",
}


def issue_sentence(state: ConversationState, context: dict[str, Any], reason: str) -> str:
    intent = state.get("deferred_intent") or state.get("intent") or "other"
    sentence = ISSUE_SENTENCES.get(intent, ISSUE_SENTENCES["other"])
    order = context.get("order")
    if order:
        sentence += f" (order {order['order_id']}, {order['total']} {order['currency']}, status {order['status']})"
    return f"{sentence}; handed over because: {reason.rstrip('.')}."


def order_timeline(context: dict[str, Any]) -> list[dict[str, str]]:
    order = context.get("order")
    if not order:
        return []
    events = [
        {"at": order["placed_at"], "what": f"Order placed on {order['marketplace']} ({order['total']} {order['currency']})"}
    ]
    for parcel in (context.get("tracking") or {}).get("parcels", []):
        shipment = parcel["shipment"]
        label = f"{shipment['carrier'].upper()} {shipment['tracking_number']}"
        for event in parcel.get("events", []):
            where = f" in {event['location']}" if event.get("location") else ""
            text = event.get("description") or event["code"].replace("_", " ")
            events.append({"at": event["occurred_at"], "what": f"{label}: {text}{where}"})
        if shipment.get("promised_delivery_date"):
            events.append({"at": shipment["promised_delivery_date"], "what": f"{label}: promised delivery date"})
    for transaction in order.get("payment_history", []):
        events.append(
            {
                "at": "",
                "what": f"{transaction['kind'].title()} of {transaction['amount']} {order['currency']} "
                f"({transaction['payment_method_id']})",
            }
        )
    return sorted(events, key=lambda e: e["at"] or "9999")


def build_case_brief(
    state: ConversationState,
    context: dict[str, Any],
    *,
    reason: str,
    recommendation: str,
    urgency: str,
    urgency_reasons: list[str],
    sla_due_at: str,
    translation: str | None = None,
) -> dict[str, Any]:
    customer = context.get("customer") or {}
    order = context.get("order")
    return {
        "customer": {
            "id": customer.get("customer_id") or state.get("customer_id"),
            "name": f"{customer.get('first_name', '')} {customer.get('last_name', '')}".strip() or None,
            "email": customer.get("email"),
            "language": state.get("language"),
            "country": customer.get("country_code"),
            "vip": customer.get("is_vip", False),
            "lifetime_value": customer.get("lifetime_value"),
        },
        "order": None
        if not order
        else {
            "id": order["order_id"],
            "status": order["status"],
            "total": order["total"],
            "currency": order["currency"],
            "marketplace": order["marketplace"],
            "placed_at": order["placed_at"],
        },
        "timeline": order_timeline(context),
        "issue": issue_sentence(state, context, reason),
        "customer_words": [t["text"] for t in state.get("transcript", [])],
        "translation": translation,
        "policy_clauses": list(dict.fromkeys(state.get("cited", []))),
        "actions_tried": list(state.get("actions_log", [])),
        "urgency": urgency,
        "urgency_reasons": urgency_reasons,
        "sla_due_at": sla_due_at,
        "recommended_resolution": recommendation or "Read the conversation and decide.",
    }
