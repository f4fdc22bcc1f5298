"""identify: proves who the customer is (order number + email, email, name + postal code),
as the policy profile allows, and returns to the customer's open goal once they are known."""

from __future__ import annotations

from typing import Any, Literal

from agent.brain import Decision
from agent.lockout import Target, locked, record_failure, targets_of
from agent.nodes.deps import AgentDeps, identity_toolbox
from agent.policy import IdentityMethod
from agent.state import ORDER_INTENTS, WRITE_REQUESTS, ConversationState
from tools import Caller, Toolbox

# Details of each kind kept across turns (the newest first).
HINTS_KEPT = 4
# Failed proofs of identity in one conversation before a person takes over.
FAILURES_TO_HUMAN = 2
# Emails tried with the order numbers given, newest first.
EMAILS_TRIED = 2
HINT_KEYS = ("emails", "order_ids", "order_candidates", "names", "postal_codes", "name_candidates", "postal_candidates")


def merged_hints(state: ConversationState) -> dict[str, list[str]]:
    """The identity details of this turn, then those of earlier turns (an email in one message,
    the order number in the next), newest first: in one message the last one written comes first
    ("mail a@… … nee sorry falsche, b@…")."""
    slots = state.get("slots") or {}
    earlier = state.get("identity_hints") or {}
    return {key: list(dict.fromkeys([*reversed(slots.get(key, [])), *earlier.get(key, [])]))[:HINTS_KEPT] for key in HINT_KEYS}


def _find_customer(
    deps: AgentDeps, state: ConversationState, hints: dict[str, list[str]]
) -> tuple[str | None, str | None, bool, str | None]:
    """(customer id, method used, whether a proof was tried, the order number that proved it)."""
    methods = set(deps.profile.identity.methods)
    staff = identity_toolbox(deps, state)
    emails = hints["emails"]
    order_ids = hints["order_ids"] or hints["order_candidates"]
    attempted = False
    if emails and order_ids and IdentityMethod.ORDER_NUMBER_EMAIL in methods:
        attempted = True
        # The newest email first, then the one before it ("… nee sorry falsche, thijs@…").
        for email in emails[:EMAILS_TRIED]:
            found = staff.call("find_customer_by_email", {"email": email})
            for order_id in order_ids:
                order = staff.call("get_order", {"order_id": order_id})
                if (
                    found.ok
                    and order.ok
                    and found.result
                    and order.result
                    and order.result["customer_id"] == found.result["customer_id"]
                ):
                    return found.result["customer_id"], IdentityMethod.ORDER_NUMBER_EMAIL.value, True, order.result["order_id"]
    # An email that does not match the order it came with proves nothing on its own.
    if emails and not attempted and IdentityMethod.EMAIL in methods:
        attempted = True
        found = staff.call("find_customer_by_email", {"email": emails[0]})
        if found.ok and found.result:
            return found.result["customer_id"], IdentityMethod.EMAIL.value, True, None
    names = [*hints["names"], *hints["name_candidates"]][:HINTS_KEPT]
    postal = [*hints["postal_codes"], *hints["postal_candidates"]][:2]
    if names and postal and IdentityMethod.NAME_POSTAL_CODE in methods:
        # Candidates alone (a product's name next to a number) are no attempt at a proof.
        attempted = attempted or bool(hints["names"] or hints["postal_codes"])
        for name in names:
            words = name.split()
            # Names come in either order ("Rossi Yusuf"); a middle name may sit between.
            tries = [(words[0], " ".join(words[1:])), (words[-1], " ".join(words[:-1]))] if len(words) > 1 else []
            if len(words) > 2:
                tries.append((words[0], words[-1]))
            for first, last in tries:
                for code in postal:
                    found = staff.call(
                        "find_customer_by_name_postal_code", {"first_name": first, "last_name": last, "postal_code": code}
                    )
                    if found.ok and found.result:
                        return found.result["customer_id"], IdentityMethod.NAME_POSTAL_CODE.value, True, None
    return None, None, attempted, None


def proof_targets(deps: AgentDeps, state: ConversationState, hints: dict[str, list[str]]) -> list[Target]:
    """What a proof from these details would name, and the address it comes from; none when the
    details make no proof."""
    methods = set(deps.profile.identity.methods)
    emails, order_ids = hints["emails"][:EMAILS_TRIED], hints["order_ids"] or hints["order_candidates"]
    names = [*hints["names"], *hints["name_candidates"]][:HINTS_KEPT]
    postal = [*hints["postal_codes"], *hints["postal_candidates"]][:2]
    by_order = bool(emails and order_ids and IdentityMethod.ORDER_NUMBER_EMAIL in methods)
    by_email = bool(emails and IdentityMethod.EMAIL in methods)
    by_name = bool(names and postal and IdentityMethod.NAME_POSTAL_CODE in methods)
    if not (by_order or by_email or by_name):
        return []
    return targets_of(
        emails if by_order or by_email else [],
        order_ids if by_order else [],
        [(name, code) for name in names for code in postal] if by_name else [],
        state.get("client"),
    )


def stronger_proof(deps: AgentDeps, state: ConversationState) -> dict[str, Any]:
    """A customer known by a weaker proof (name and postal code) sends an order number and email
    of their own: the stronger proof now stands, for the writes that need it."""
    weak = state.get("identity_method")
    hints = merged_hints(state)
    if weak in (None, IdentityMethod.ORDER_NUMBER_EMAIL.value, IdentityMethod.SIGNED_TOKEN.value):
        return {}
    if not (hints["emails"] and (hints["order_ids"] or hints["order_candidates"])):
        return {}
    strong = {**hints, "names": [], "name_candidates": []}
    targets = proof_targets(deps, state, strong)
    if locked(deps.store, targets, deps.clock(), deps.lockout):
        return {}
    found, method, _, proving_order = _find_customer(deps, state, strong)
    if found != state.get("customer_id") or method != IdentityMethod.ORDER_NUMBER_EMAIL.value:
        # (An email or order guessed to strengthen a weak proof counts as any failed proof.)
        record_failure(deps.store, targets, deps.clock(), deps.lockout, state.get("conversation_id"))
        return {}
    return {"identity_method": method, "order_id": proving_order or state.get("order_id"), "identity_hints": None}


def identify(deps: AgentDeps, state: ConversationState) -> dict[str, Any]:
    if state.get("customer_id") and not state.get("reply_parts"):
        return stronger_proof(deps, state)
    if state.get("reply_parts") or state.get("customer_id"):
        return {}
    intent = state.get("intent", "other")
    hints = merged_hints(state)
    current = state.get("order_id")
    if current and current not in hints["order_ids"]:
        hints["order_ids"].append(current)
    targets = proof_targets(deps, state, hints)
    if targets and locked(deps.store, targets, deps.clock(), deps.lockout):
        # Too many failed proofs named this email, order or name, or came from this address:
        # nothing is looked up, and the answer is the one any failure gets.
        customer_id, method_used, attempted, proving_order = None, None, True, None
    else:
        customer_id, method_used, attempted, proving_order = _find_customer(deps, state, hints)
        if customer_id is None and attempted:
            record_failure(deps.store, targets, deps.clock(), deps.lockout, state.get("conversation_id"))
    if customer_id is not None:
        profile = Toolbox(deps.store, Caller(customer_id=customer_id, clock=deps.clock)).call(
            "get_customer", {"customer_id": customer_id}
        )
        name = profile.result["first_name"] if profile.ok and profile.result else ""
        updates: dict[str, Any] = {
            "customer_id": customer_id,
            "identity_method": method_used,
            "customer_name": name,
            "identity_hints": None,
        }
        deferred = state.get("deferred_intent")
        if deferred and intent in ("other", "greeting", deferred):
            updates["intent"] = deferred
        updates["deferred_intent"] = None
        updates["order_id"] = proving_order or next(iter(hints["order_ids"]), None)
        updates["reply_parts"] = [("identity_ok", {"name": name})]
        return updates
    kept = {key: values for key, values in hints.items() if values}
    signals = state.get("signals") or {}
    if signals.get("wants_human") or signals.get("legal_threat"):
        # A person is asked for, or a dispute threatened: the case goes to a human without a proof.
        return {"identity_hints": kept or None}
    needed = intent in ORDER_INTENTS or (state.get("deferred_intent") is not None and (attempted or bool(kept)))
    if not needed:
        return {"identity_hints": kept or None}
    if attempted:
        failures = state.get("identity_failures", 0) + 1
        if failures >= FAILURES_TO_HUMAN:
            # A customer who cannot prove who they are gets a person, not a third guess.
            handover = Decision(
                "escalate",
                reason=f"The customer's details matched no order {failures} times.",
                urgency="yellow",
                recommendation="Verify the customer by hand (order confirmation email, last digits of the card) and help.",
            )
            return {
                "deferred_intent": goal_while_unknown(state.get("deferred_intent"), intent),
                "identity_failures": failures,
                "identity_hints": kept or None,
                "decision": handover.to_state(),
                "context": {},
                "reply_parts": [],
            }
        key = "identity_failed"
    elif kept.get("emails") and not (kept.get("order_ids") or kept.get("order_candidates")):
        key = "ask_order_for_identity"
    elif (kept.get("order_ids") or kept.get("order_candidates")) and not kept.get("emails"):
        key = "ask_email_for_identity"
    else:
        key = "ask_identity"
    return {
        "deferred_intent": goal_while_unknown(state.get("deferred_intent"), intent),
        "reply_parts": [(key, {})],
        "status": "open",
        "identity_hints": kept or None,
        "identity_failures": state.get("identity_failures", 0) + (1 if attempted else 0),
    }


def after_identify(state: ConversationState) -> Literal["retrieve", "respond", "escalate"]:
    if not state.get("customer_id") and (state.get("decision") or {}).get("kind") == "escalate":
        return "escalate"
    parts = state.get("reply_parts") or []
    if parts and not state.get("customer_id"):
        return "respond"
    if parts and parts[0][0] in ("cancelled_by_customer", "offer_coupon"):
        return "respond"
    return "retrieve"


def goal_while_unknown(deferred: str | None, intent: str) -> str:
    """The goal kept while the customer proves who they are: the first one read, unless a later
    message asks for a write where the first only told a problem ("… binnen, maar twee dingen", then
    "de sneakers wil ik terugsturen"): the request is the goal."""
    if deferred and not (intent in WRITE_REQUESTS and deferred not in WRITE_REQUESTS):
        return deferred
    return intent
