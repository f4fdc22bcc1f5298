"""The guard: builds the facts the policy gate needs from the store, asks the gate, and
runs the tool only when the gate allows it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from agent.policy import ActionRequest, GateDecision, ItemFacts, OrderFacts, PolicyGate, Verdict
from commerce.db import Store
from commerce.models import Coupon, Customer, Order, ShipmentStatus
from tools import REGISTRY, Toolbox, ToolKind, ToolOutcome


def order_facts(order: Order) -> OrderFacts:
    delivered = [s.delivered_at for s in order.shipments if s.delivered_at is not None]
    return OrderFacts(
        order_id=order.id,
        customer_id=order.customer_id,
        status=order.status,
        items_modified=order.items_modified,
        currency=order.currency,
        total=order.total,
        amount_paid=order.amount_paid,
        amount_refunded=order.amount_refunded,
        items=[
            ItemFacts(variant_id=i.variant_id, product_id=i.product_id, unit_price=i.unit_price, quantity=i.quantity)
            for i in order.items
        ],
        shipment_statuses=[ShipmentStatus(s.status) for s in order.shipments],
        delivered_at=max(delivered) if delivered else None,
        placed_at=order.placed_at,
    )


def build_request(
    store: Store,
    tool: str,
    arguments: dict[str, Any],
    *,
    identity_verified: bool,
    verified_customer_id: str | None,
    now: dt.datetime | None = None,
    coupon_window_days: int = 30,
) -> ActionRequest:
    """What the gate must know about an action: the order it touches, the customer's standing."""
    facts = None
    is_vip = False
    recent_coupons = 0
    with store.read() as session:
        order_id = arguments.get("order_id")
        if isinstance(order_id, str) and order_id.strip():
            order = session.get(Order, order_id.strip()) or session.get(Order, f"#{order_id.strip()}")
            if order is not None:
                facts = order_facts(order)
        customer_id = facts.customer_id if facts else arguments.get("customer_id") or verified_customer_id
        if isinstance(customer_id, str):
            customer = session.get(Customer, customer_id)
            is_vip = bool(customer and customer.is_vip)
            if tool == "issue_coupon" and now is not None:
                since = now - dt.timedelta(days=coupon_window_days)
                recent_coupons = (
                    session.scalar(
                        select(func.count())
                        .select_from(Coupon)
                        .where(Coupon.customer_id == customer_id, Coupon.created_at >= since)
                    )
                    or 0
                )
    return ActionRequest(
        tool=tool,
        arguments=arguments,
        identity_verified=identity_verified,
        verified_customer_id=verified_customer_id,
        order=facts,
        customer_is_vip=is_vip,
        coupons_issued_recently=recent_coupons,
        now=now,
    )


@dataclass
class GuardedCall:
    decision: GateDecision
    outcome: ToolOutcome | None  # None when the gate did not let the call run


class Guard:
    """Every write passes the policy gate before the tool runs; reads pass it too, so an
    unverified customer cannot read an order."""

    def __init__(self, gate: PolicyGate, toolbox: Toolbox) -> None:
        self.gate = gate
        self.toolbox = toolbox

    def decide(self, tool: str, arguments: dict[str, Any], *, identity_verified: bool, confirmed: bool = False) -> GateDecision:
        caller = self.toolbox.caller
        request = build_request(
            self.toolbox.store,
            tool,
            arguments,
            identity_verified=identity_verified,
            verified_customer_id=caller.customer_id,
            now=caller.clock(),
            coupon_window_days=self.gate.profile.coupons.window_days,
        )
        return self.gate.evaluate(request, confirmed=confirmed)

    def call(
        self,
        tool: str,
        arguments: dict[str, Any],
        *,
        identity_verified: bool,
        confirmed: bool = False,
        idempotency_key: str | None = None,
    ) -> GuardedCall:
        decision = self.decide(tool, arguments, identity_verified=identity_verified, confirmed=confirmed)
        if decision.verdict is not Verdict.ALLOW:
            return GuardedCall(decision, None)
        spec = REGISTRY.get(tool)
        key = idempotency_key if spec is not None and spec.kind is ToolKind.WRITE else None
        return GuardedCall(decision, self.toolbox.call(tool, arguments, idempotency_key=key))
