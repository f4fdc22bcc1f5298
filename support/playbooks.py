"""What the shop does about a flag before the customer writes.

Where the policy profile allows it, a playbook runs on its own: every write goes through the
action runner (the policy gate, then the tool under an idempotency key per flag, so a restart
mid-run acts once), and the ledger records the playbook and the flag that started it:

- `delay_outreach` (a late, stalled or held parcel): a message in the customer's language
  with the tracking facts and, when the profile allows it, a coupon;
- `confirm_address` (an address that looks wrong): the shipment is held, the customer is asked
  to confirm the address, and a case tells a colleague to release it;
- stock held for an order whose payment failed: the units go back to the shelf;
- an oversold variant: the customers of the newest pending orders holding it (as many as are
  short) are offered another variant of the product that is in stock, or a refund, and a case
  asks a colleague to restock or cancel;
- anything else, or a playbook the policy does not allow: a case in the console queue with
  its SLA deadline.

Messages go to the customer's last chat conversation and to the outbox (email)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select

from agent.offline import OfflineBrain
from agent.policy import PolicyGate, PolicyProfile, load_profile
from agent.replies import default_catalogue, render_parts
from agent.runner import ActionResult, ActionRunner, Proposal, started_by_playbook
from commerce.conversations import record_message
from commerce.db import Store
from commerce.models import (
    AuditEntry,
    Conversation,
    Customer,
    Flag,
    Order,
    OrderItem,
    OrderStatus,
    OutboxMessage,
    UrgencyLevel,
    Variant,
)
from commerce.sla import sla_deadline
from tools import keys

Notify = Callable[[str, dict[str, Any]], None]  # (conversation id, event) for open chat windows
SUBJECTS = {
    "delay_outreach": "News about your order {order_id}",
    "confirm_address": "Please confirm the delivery address of order {order_id}",
}


# The monitor's playbook names (commerce/monitor_rules.yaml) and what runs for each; any other
# name opens a case with the flag's reason.
OUTREACH = {
    "apologise_for_delay": "delay_outreach",
    "chase_carrier": "delay_outreach",
    "customs_documents": "delay_outreach",
    "verify_address": "confirm_address",
    "release_stock": "release_stock",
    "restock_or_cancel": "offer_alternative",
}


def run_playbooks(
    store: Store,
    flag_ids: Iterable[int],
    now: dt.datetime,
    profile: PolicyProfile | None = None,
    *,
    notify: Notify | None = None,
) -> dict[str, int]:
    """Run the playbook of each open flag once; returns how many ran, by what was done
    (delay_outreach, confirm_address, open_case)."""
    profile = profile or load_profile("default")
    runner = ActionRunner(store, PolicyGate(profile), lambda: now)
    ran: Counter[str] = Counter()
    for flag_id in flag_ids:
        with store.read() as session:
            flag = session.get(Flag, flag_id)
            if flag is None or flag.status != "open":
                continue
            facts = {
                "id": flag.id,
                "rule": flag.rule,
                "playbook": flag.playbook or "open_case",
                "order_id": flag.order_id,
                "customer_id": flag.customer_id,
                "reason": flag.reason,
                "subject_key": flag.subject_key,
                "measured": flag.measured,
                "urgency": str(flag.urgency.value if hasattr(flag.urgency, "value") else flag.urgency),
            }
        if _already_done(store, facts, OUTREACH.get(str(facts["playbook"]), "open_case")):
            continue
        done = _run(runner, facts, now, profile, notify)
        if done:
            ran[done] += 1
    return dict(ran)


def _outreach_key(flag: dict[str, Any]) -> str:
    """One message of a kind per order, however many rules flagged it (late and stalled, say)."""
    return keys.outreach(OUTREACH.get(flag["playbook"], flag["playbook"]), flag["order_id"])


def _act(runner: ActionRunner, flag: dict[str, Any], tool: str, arguments: dict[str, Any], key: str) -> ActionResult:
    """A playbook's write, through the policy gate: the system knows the customer, and a
    playbook the profile allows needs no one's yes."""
    proposal = Proposal(
        tool,
        arguments,
        started_by=started_by_playbook(OUTREACH.get(flag["playbook"], flag["playbook"]), int(flag["id"])),
        customer_id=flag["customer_id"],
        conversation_id=flag.get("conversation_id"),
        identity_verified=True,
        confirmed=True,
    )
    return runner.run(proposal, key=key)


def _already_done(store: Store, flag: dict[str, Any], kind: str) -> bool:
    """The playbook's last step (the customer's message, or the case) is on file: it ran to the
    end before. A run cut short repeats its steps, and each acts once under its idempotency key."""
    with store.read() as session:
        if kind == "release_stock":
            # Done when the stock went back, or when it could not and a case asks a colleague to.
            done = [keys.flag_step(flag["id"], "release"), keys.flag_step(flag["id"], "case")]
            return session.scalars(select(AuditEntry.id).where(AuditEntry.idempotency_key.in_(done))).first() is not None
        if kind not in ("open_case", "offer_alternative"):
            key = _outreach_key(flag)
            return session.scalars(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first() is not None
        case_key = keys.flag_step(flag["id"], "case")
        return session.scalars(select(AuditEntry.id).where(AuditEntry.idempotency_key == case_key)).first() is not None


def _run(
    runner: ActionRunner, flag: dict[str, Any], now: dt.datetime, profile: PolicyProfile, notify: Notify | None
) -> str | None:
    store = runner.store
    playbook = OUTREACH.get(flag["playbook"], flag["playbook"])
    if playbook == "delay_outreach" and flag["order_id"] and flag["customer_id"]:
        if _delay_outreach(runner, {**flag, "playbook": playbook}, now, profile, notify):
            return "delay_outreach"
        return _open_case(runner, flag, now)
    if playbook == "release_stock" and flag["order_id"]:
        released = _act(
            runner,
            flag,
            "release_stock",
            {"order_id": flag["order_id"], "reason": f"payment failed ({flag['rule']})"},
            keys.flag_step(flag["id"], "release"),
        )
        if released.ok:
            return "release_stock"
        return _open_case(runner, flag, now, recommendation=f"Release the stock by hand: {released.error}")
    if playbook == "offer_alternative" and str(flag.get("subject_key", "")).startswith("variant:"):
        offered = _offer_alternatives(store, flag, now, notify)
        _open_case(
            runner,
            flag,
            now,
            recommendation=f"Restock or cancel; {offered} customer(s) were offered another variant in stock.",
        )
        return "offer_alternative"
    if playbook == "confirm_address" and flag["order_id"] and flag["customer_id"]:
        flag = {**flag, "playbook": playbook}
        held = _act(
            runner,
            flag,
            "hold_shipment",
            {"order_id": flag["order_id"], "reason": f"address to confirm: {flag['reason']}"[:300]},
            keys.flag_step(flag["id"], "hold"),
        )
        advice = (
            "The shipment is on hold: release it once the customer confirms the address."
            if held.ok
            else f"The parcel could not be held ({held.error}): check the address with the carrier."
        )
        _open_case(runner, flag, now, recommendation=advice)
        _ask_to_confirm_address(store, flag, now, notify)  # last: its message marks the playbook done
        return "confirm_address"
    return _open_case(runner, flag, now)


def _customer_facts(store: Store, customer_id: str) -> tuple[str, str, str | None]:
    """The customer's language, email and last chat conversation."""
    with store.read() as session:
        customer = session.get(Customer, customer_id)
        language = (customer.preferred_language if customer else None) or "en"
        email = customer.email if customer else ""
        conversation = session.scalars(
            select(Conversation.id).where(Conversation.customer_id == customer_id).order_by(Conversation.created_at.desc())
        ).first()
    return language, email, conversation


def _delay_outreach(
    runner: ActionRunner, flag: dict[str, Any], now: dt.datetime, profile: PolicyProfile, notify: Notify | None
) -> bool:
    store = runner.store
    order = _act(runner, flag, "get_order", {"order_id": flag["order_id"]}, "")
    tracking = _act(runner, flag, "track_shipment", {"order_id": flag["order_id"]}, "")
    if not (order.ok and tracking.ok and order.outcome and tracking.outcome):
        return False
    language, email, conversation_id = _customer_facts(store, flag["customer_id"])
    context = {
        "order": order.outcome.result,
        "tracking": tracking.outcome.result,
        "customer": None,
        "profile": {"max_coupon_percent": profile.coupons.max_percent or 0},
    }
    state: dict[str, Any] = {"language": language, "intent": "delivery_delay", "customer_id": flag["customer_id"]}
    brain = OfflineBrain()
    plan = brain.on_delivery_delay(state, context)  # type: ignore[arg-type]
    parts = list(plan.parts)
    if plan.kind == "propose" and plan.tool == "issue_coupon":
        coupon = _act(runner, flag, plan.tool, plan.arguments, keys.outreach_coupon(flag["playbook"], flag["order_id"]))
        if coupon.ok and coupon.outcome and coupon.outcome.result:
            parts += brain.describe_result(state, context, plan.tool, coupon.outcome.result)  # type: ignore[arg-type]
    if not parts:
        return False
    text = render_parts(default_catalogue(), parts, language)
    _deliver(store, flag, now, language, email, conversation_id, text, notify)
    return True


def _offer_alternatives(store: Store, flag: dict[str, Any], now: dt.datetime, notify: Notify | None) -> int:
    """The newest pending orders holding an oversold variant, as many as the shortfall: each
    customer is offered another variant of the same product that is in stock, or a refund."""
    variant_id = str(flag["subject_key"]).split(":", 1)[1]
    short = max(1, int(flag.get("measured") or 1))
    with store.read() as session:
        variant = session.get(Variant, variant_id)
        if variant is None:
            return 0
        free = {
            v.id: (sum(level.on_hand - level.reserved for level in v.stock), v.options)
            for v in variant.product.variants
            if v.id != variant_id and v.available
        }
        product_name = variant.product.name
        held = session.execute(
            select(Order.id, Order.customer_id, OrderItem.quantity, OrderItem.options)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .where(OrderItem.variant_id == variant_id, Order.status == OrderStatus.PENDING)
            .order_by(Order.placed_at.desc(), Order.id)
        ).all()
    offered = 0
    for order_id, customer_id, quantity, options in held:
        if short <= 0:
            break
        choice = next((vid for vid, (units, _) in sorted(free.items()) if units >= quantity), None)
        if choice is None:
            break
        free[choice] = (free[choice][0] - quantity, free[choice][1])
        short -= quantity
        language, email, conversation_id = _customer_facts(store, customer_id)
        text = default_catalogue().render(
            "offer_alternative",
            language,
            item=_described(product_name, options),
            alternative=_described(product_name, free[choice][1]),
            order_id=order_id,
        )
        offer = {**flag, "order_id": order_id, "customer_id": customer_id, "playbook": "offer_alternative"}
        _deliver(store, offer, now, language, email, conversation_id, text, notify)
        offered += 1
    return offered


def _described(name: str, options: dict[str, Any] | None) -> str:
    details = " ".join(str(value) for value in (options or {}).values())
    return f"{name} ({details})" if details else name


def _ask_to_confirm_address(store: Store, flag: dict[str, Any], now: dt.datetime, notify: Notify | None) -> None:
    language, email, conversation_id = _customer_facts(store, flag["customer_id"])
    text = default_catalogue().render("confirm_address", language, order_id=str(flag["order_id"]))
    _deliver(store, flag, now, language, email, conversation_id, text, notify)


def _deliver(
    store: Store,
    flag: dict[str, Any],
    now: dt.datetime,
    language: str,
    email: str,
    conversation_id: str | None,
    text: str,
    notify: Notify | None,
) -> None:
    """The message in the customer's chat (when they have one) and in the outbox, once per flag."""
    key = _outreach_key(flag)
    with store.write() as session:
        if session.scalars(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first() is not None:
            return
        session.add(
            OutboxMessage(
                channel="email",
                recipient=email,
                subject=SUBJECTS.get(flag["playbook"], "About your order {order_id}").format(order_id=flag["order_id"]),
                body=text,
                language=language,
                conversation_id=conversation_id,
                dedupe_key=key,
                created_at=now,
            )
        )
        if conversation_id:
            record_message(
                session,
                conversation_id,
                "agent",
                text,
                at=now,
                language=language,
                intent="proactive",
                customer_id=flag["customer_id"],
            )
    if conversation_id and notify:
        notify(conversation_id, {"role": "agent", "text": text, "at": now.isoformat()})


def _open_case(runner: ActionRunner, flag: dict[str, Any], now: dt.datetime, *, recommendation: str = "") -> str:
    urgency = UrgencyLevel(flag["urgency"]) if flag["urgency"] in UrgencyLevel._value2member_map_ else UrgencyLevel.YELLOW
    due = sla_deadline(urgency, now)  # the same deadline the case gets
    brief = {
        "customer": {"id": flag["customer_id"]},
        "order": {"id": flag["order_id"]} if flag["order_id"] else None,
        "timeline": [],
        "issue": flag["reason"],
        "customer_words": [],
        "translation": None,
        "policy_clauses": [],
        "actions_tried": [],
        "urgency": urgency.value,
        "urgency_reasons": [f"exception monitor: {flag['rule']}"],
        "sla_due_at": due.isoformat(),
        "recommended_resolution": recommendation
        or f"Check the {flag['rule'].replace('_', ' ')} and act before the customer writes.",
        "flag": {"id": flag["id"], "rule": flag["rule"]},
    }
    conversation_id = _customer_facts(runner.store, flag["customer_id"])[2] if flag["customer_id"] else None
    case = {
        "order_id": flag["order_id"],
        "reason": f"Exception monitor: {flag['reason']}"[:500],
        "summary": flag["reason"][:4000],
        "urgency": urgency.value,
        "brief": brief,
    }
    # A case is the colleagues' to-do, not an act on the customer's records: no customer on the call.
    _act(
        runner,
        {**flag, "customer_id": None, "conversation_id": conversation_id},
        "escalate_to_human",
        case,
        keys.flag_step(flag["id"], "case"),
    )
    return "open_case"
