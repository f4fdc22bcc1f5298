"""identify: proves who the customer is (order number + email, email, name + postal code),
as the policy profile allows, and returns to the customer's open goal once they are known."""

from __future__ import annotations

from typing import Any, Literal

from agent.nodes.deps import AgentDeps, identity_toolbox
from agent.policy import IdentityMethod
from agent.state import ORDER_INTENTS, ConversationState
from tools import Caller, Toolbox


def _find_customer(deps: AgentDeps, state: ConversationState, order_ids: list[str]) -> tuple[str | None, str | None, bool]:
    """(customer id, method used, whether a proof was tried) from this turn's slots."""
    slots = state.get("slots") or {}
    methods = set(deps.profile.identity.methods)
    staff = identity_toolbox(deps, state)
    emails = slots.get("emails", [])
    if emails and order_ids and IdentityMethod.ORDER_NUMBER_EMAIL in methods:
        found = staff.call("find_customer_by_email", {"email": emails[0]})
        order = staff.call("get_order", {"order_id": order_ids[0]})
        if found.ok and order.ok and found.result and order.result and order.result["customer_id"] == found.result["customer_id"]:
            return found.result["customer_id"], IdentityMethod.ORDER_NUMBER_EMAIL.value, True
        attempted = True
    else:
        attempted = False
    # An email that does not match the order it came with proves nothing on its own.
    if emails and not attempted and IdentityMethod.EMAIL in methods:
        attempted = True
        found = staff.call("find_customer_by_email", {"email": emails[0]})
        if found.ok and found.result:
            return found.result["customer_id"], IdentityMethod.EMAIL.value, True
    names, postal = slots.get("names", []), slots.get("postal_codes", [])
    if names and postal and IdentityMethod.NAME_POSTAL_CODE in methods:
        attempted = True
        first, _, last = names[0].strip().partition(" ")
        if last:
            found = staff.call(
                "find_customer_by_name_postal_code", {"first_name": first, "last_name": last, "postal_code": postal[0]}
            )
            if found.ok and found.result:
                return found.result["customer_id"], IdentityMethod.NAME_POSTAL_CODE.value, True
    return None, None, attempted


def identify(deps: AgentDeps, state: ConversationState) -> dict[str, Any]:
    if state.get("reply_parts") or state.get("customer_id"):
        return {}
    intent = state.get("intent", "other")
    slots = state.get("slots") or {}
    order_ids = slots.get("order_ids", []) or ([state["order_id"]] if state.get("order_id") else [])
    customer_id, method_used, attempted = _find_customer(deps, state, order_ids)
    if customer_id is not None:
        profile = Toolbox(deps.store, Caller(customer_id=customer_id, clock=deps.clock)).call(
            "get_customer", {"customer_id": customer_id}
        )
        name = profile.result["first_name"] if profile.ok and profile.result else ""
        updates: dict[str, Any] = {"customer_id": customer_id, "identity_method": method_used, "customer_name": name}
        deferred = state.get("deferred_intent")
        if deferred and intent in ("other", "greeting", deferred):
            updates["intent"] = deferred
        updates["deferred_intent"] = None
        if not order_ids:
            updates["order_id"] = None
        updates["reply_parts"] = [("identity_ok", {"name": name})]
        return updates
    needed = intent in ORDER_INTENTS or (state.get("deferred_intent") is not None and attempted)
    if not needed:
        return {}
    key = "identity_failed" if attempted else "ask_identity"
    return {"deferred_intent": state.get("deferred_intent") or intent, "reply_parts": [(key, {})], "status": "open"}


def after_identify(state: ConversationState) -> Literal["retrieve", "respond"]:
    parts = state.get("reply_parts") or []
    if parts and not state.get("customer_id"):
        return "respond"
    if parts and parts[0][0] == "cancelled_by_customer":
        return "respond"
    return "retrieve"
