"""The action runner: the one way an action reaches a tool, from every entry point (a
customer's turn, a playbook on a monitor flag, a staff member's approval, the command line).

    propose → policy gate (allow / confirm / approve / deny, with the clauses)
            → run under the idempotency key → a typed result the caller puts into words

The runner builds the facts the gate needs from the store, asks the gate, and runs the tool
only when the gate allows it, or when it asked for a human's approval and a staff member
gave it. Reads pass the gate too, so an unverified customer cannot read an order. The ledger
records who started every write (`Caller.actor`, built by the `started_by_*` functions)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from agent.policy import ActionRequest, GateDecision, ItemFacts, OrderFacts, PolicyGate, Verdict
from commerce.db import Store
from commerce.models import AuditEntry, Coupon, Customer, Order, ShipmentStatus, utcnow
from tools import REGISTRY, Caller, Toolbox, ToolKind, ToolOutcome, WriteLimits


def started_by_customer_turn(brain: str) -> str:
    """A customer's turn, planned by this brain."""
    return f"agent:{brain}"


def started_by_playbook(playbook: str, flag_id: int) -> str:
    """A playbook the exception monitor ran on one of its flags."""
    return f"monitor:{playbook}:flag:{flag_id}"


def started_by_staff(email: str) -> str:
    """A staff member, from the console."""
    return f"human:{email}"


STARTED_BY_CLI = "cli"


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
        reshipments=len(order.reshipments),
    )


def build_request(
    store: Store,
    tool: str,
    arguments: dict[str, Any],
    *,
    identity_verified: bool,
    verified_customer_id: str | None,
    identity_method: str | None = None,
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
        identity_method=identity_method,
        order=facts,
        customer_is_vip=is_vip,
        coupons_issued_recently=recent_coupons,
        now=now,
    )


@dataclass(frozen=True)
class Proposal:
    """An action someone wants run, and what the gate must know about who asks."""

    tool: str
    arguments: dict[str, Any]
    started_by: str  # the ledger's actor: see the started_by_* functions
    customer_id: str | None = None  # the verified customer it is for; tools then refuse others' records
    conversation_id: str | None = None
    identity_verified: bool = False
    identity_method: str | None = None  # how the customer proved it; None for staff and jobs
    confirmed: bool = False  # the customer said yes (or the caller acts where the profile needs no yes)
    approved: bool = False  # a staff member approved an action the policy holds for a human


@dataclass
class ActionResult:
    decision: GateDecision
    outcome: ToolOutcome | None = None  # None when the gate did not let the call run
    key: str | None = None

    @property
    def ran(self) -> bool:
        return self.outcome is not None

    @property
    def ok(self) -> bool:
        return self.outcome is not None and self.outcome.ok and self.outcome.result is not None

    @property
    def error_code(self) -> str | None:
        """The tool's error code (not_found, invalid_state, out_of_stock, …), None if it did not run."""
        return self.outcome.error_code if self.outcome is not None else None

    @property
    def error(self) -> str:
        """Why the action did not happen, in one line of English."""
        if self.outcome is not None:
            return self.outcome.error or ""
        return " ".join(self.decision.reasons)


@dataclass
class ActionRunner:
    store: Store
    gate: PolicyGate
    clock: Callable[[], dt.datetime] = field(default=utcnow)

    def judge(self, proposal: Proposal) -> GateDecision:
        """The gate's verdict on a proposal, without running anything."""
        request = build_request(
            self.store,
            proposal.tool,
            proposal.arguments,
            identity_verified=proposal.identity_verified,
            verified_customer_id=proposal.customer_id,
            identity_method=proposal.identity_method,
            now=self.clock(),
            coupon_window_days=self.gate.profile.coupons.window_days,
        )
        return self.gate.evaluate(request, confirmed=proposal.confirmed)

    def run(self, proposal: Proposal, *, key: str | None = None) -> ActionResult:
        """Judge the proposal and, when the gate lets it through, run the tool once under `key`
        (writes need one; reads ignore it)."""
        spec = REGISTRY.get(proposal.tool)
        if key is not None and spec is not None and spec.kind is ToolKind.WRITE and self.recorded(key):
            # The write under this key ran already (a crash came before the conversation was
            # saved, or the yes is sent twice): its recorded result is the answer, whatever the
            # order's state says now ("cancelled" is what this very write made it).
            outcome = self.toolbox(proposal).call(proposal.tool, proposal.arguments, idempotency_key=key)
            done = GateDecision(verdict=Verdict.ALLOW, tool=proposal.tool, reasons=["done before under this key"], clauses=[])
            return ActionResult(done, outcome, key)
        decision = self.judge(proposal)
        allowed = decision.verdict is Verdict.ALLOW or (decision.verdict is Verdict.APPROVE and proposal.approved)
        if not allowed:
            return ActionResult(decision, None, key)
        write_key = key if spec is not None and spec.kind is ToolKind.WRITE else None
        outcome = self.toolbox(proposal).call(proposal.tool, proposal.arguments, idempotency_key=write_key)
        return ActionResult(decision, outcome, write_key)

    def recorded(self, key: str) -> bool:
        """Whether a write under this idempotency key is in the audit ledger."""
        with self.store.read() as session:
            return session.scalar(select(AuditEntry.id).where(AuditEntry.idempotency_key == key).limit(1)) is not None

    def toolbox(self, proposal: Proposal) -> Toolbox:
        caller = Caller(
            actor=proposal.started_by,
            customer_id=proposal.customer_id,
            conversation_id=proposal.conversation_id,
            clock=self.clock,
            # A person who approved the action has decided past the caps; nobody else does.
            limits=WriteLimits() if proposal.approved else self.limits(),
        )
        return Toolbox(self.store, caller)

    def limits(self) -> WriteLimits:
        """The profile's caps, checked by the tools inside the write's own transaction."""
        profile = self.gate.profile
        return WriteLimits(
            coupons_per_customer=profile.coupons.max_per_customer,
            coupon_window_days=profile.coupons.window_days,
            coupons_per_order=profile.order_caps.coupons,
            reshipments_per_order=profile.order_caps.reshipments,
            money_back_share=profile.order_caps.money_back_share,
        )
