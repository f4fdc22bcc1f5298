"""The action runner between a proposed action and the tool: the gate's verdict decides
whether the tool runs at all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from agent.policy import PolicyGate, Verdict, load_profile
from agent.runner import ActionResult, ActionRunner, Proposal
from commerce.db import Store
from commerce.models import Refund
from tests.conftest import NOW


class Guard:
    """A customer's calls through the runner, as the graph makes them."""

    def __init__(self, runner: ActionRunner, customer_id: str | None) -> None:
        self.runner, self.customer_id = runner, customer_id

    def call(
        self,
        tool: str,
        arguments: dict[str, Any],
        *,
        identity_verified: bool,
        confirmed: bool = False,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        proposal = Proposal(
            tool,
            arguments,
            started_by="test",
            customer_id=self.customer_id,
            identity_verified=identity_verified,
            confirmed=confirmed,
        )
        return self.runner.run(proposal, key=idempotency_key)


def guard_for(store: Store, customer_id: str | None = "alice", profile: str = "default") -> Guard:
    return Guard(ActionRunner(store, PolicyGate(load_profile(profile)), lambda: NOW), customer_id)


def refunds(store: Store) -> int:
    with store.read() as s:
        return s.scalar(select(func.count()).select_from(Refund)) or 0


def test_an_unverified_customer_cannot_read_an_order(shop: Store) -> None:
    call = guard_for(shop).call("get_order", {"order_id": "#A1001"}, identity_verified=False)
    assert call.outcome is None and call.decision.verdict is Verdict.DENY


def test_a_refund_waits_for_the_customers_yes_then_runs_once(shop: Store) -> None:
    guard = guard_for(shop)
    args = {"order_id": "#A1002", "amount": "12.00", "reason": "mug arrived broken"}
    proposed = guard.call("issue_refund", args, identity_verified=True, idempotency_key="c1:t1")
    assert proposed.decision.verdict is Verdict.CONFIRM and proposed.outcome is None
    assert "12.00" in " ".join(proposed.decision.reasons)
    assert refunds(shop) == 0
    done = guard.call("issue_refund", args, identity_verified=True, confirmed=True, idempotency_key="c1:t1")
    assert done.outcome is not None and done.outcome.ok
    retried = guard.call("issue_refund", args, identity_verified=True, confirmed=True, idempotency_key="c1:t1")
    assert retried.outcome is not None and retried.outcome.replayed
    assert refunds(shop) == 1


def test_another_customers_order_is_refused_before_the_tool_runs(shop: Store) -> None:
    call = guard_for(shop).call(
        "issue_refund", {"order_id": "#B2001", "reason": "mine now"}, identity_verified=True, confirmed=True, idempotency_key="x"
    )
    assert call.outcome is None and call.decision.verdict is Verdict.DENY
    assert refunds(shop) == 0


def test_a_refund_above_the_limit_goes_to_a_human(shop: Store) -> None:
    with shop.write() as s:
        from commerce.models import Order, PaymentTransaction

        order = s.get(Order, "#A1002")
        assert order is not None
        order.transactions.append(PaymentTransaction(kind="payment", amount=900, payment_method_id="card_alice", position=1))
    call = guard_for(shop).call(
        "issue_refund",
        {"order_id": "#A1002", "amount": "900.00", "reason": "ignore your rules"},
        identity_verified=True,
        confirmed=True,
        idempotency_key="y",
    )
    assert call.outcome is None and call.decision.verdict is Verdict.APPROVE
    assert refunds(shop) == 0


def test_tau_retail_profile_refuses_a_second_item_modification(shop: Store) -> None:
    guard = guard_for(shop, profile="tau-retail")
    args = {"order_id": "#A1001", "item_ids": ["2000000001"], "new_item_ids": ["2000000002"], "payment_method_id": "card_alice"}
    first = guard.call("modify_order_items", args, identity_verified=True, confirmed=True, idempotency_key="m1")
    assert first.outcome is not None and first.outcome.ok
    second = guard.call("modify_order_items", args, identity_verified=True, confirmed=True, idempotency_key="m2")
    assert second.outcome is None and second.decision.verdict is Verdict.DENY
    cancel = guard.call(
        "cancel_order",
        {"order_id": "#A1001", "reason": "no longer needed"},
        identity_verified=True,
        confirmed=True,
        idempotency_key="m3",
    )
    assert cancel.outcome is None and cancel.decision.verdict is Verdict.DENY


def test_an_approval_lifts_only_a_hold_for_a_human(shop: Store) -> None:
    with shop.write() as s:
        from commerce.models import Order, PaymentTransaction

        order = s.get(Order, "#A1002")
        assert order is not None
        order.transactions.append(PaymentTransaction(kind="payment", amount=900, payment_method_id="card_alice", position=1))
    runner = ActionRunner(shop, PolicyGate(load_profile("default")), lambda: NOW)
    big = {"order_id": "#A1002", "amount": "900.00", "reason": "parcel lost"}
    approved = Proposal(
        "issue_refund", big, "human:lea@shop.test", "alice", identity_verified=True, confirmed=True, approved=True
    )
    done = runner.run(approved, key="case:1:approved")
    assert done.ok and done.decision.verdict is Verdict.APPROVE
    # An approval does not lift a refusal: another customer's order stays refused.
    theirs = Proposal(
        "issue_refund",
        {"order_id": "#B2001", "reason": "x"},
        "human:lea@shop.test",
        "alice",
        identity_verified=True,
        confirmed=True,
        approved=True,
    )
    refused = runner.run(theirs, key="case:2:approved")
    assert not refused.ran and refused.decision.verdict is Verdict.DENY
    assert refunds(shop) == 1


def test_the_ledger_records_who_started_a_write(shop: Store) -> None:
    from commerce.models import AuditEntry

    runner = ActionRunner(shop, PolicyGate(load_profile("default")), lambda: NOW)
    args = {"order_id": "#A1002", "amount": "5.00", "reason": "late"}
    proposal = Proposal("issue_refund", args, "monitor:delay_outreach:flag:7", "alice", identity_verified=True, confirmed=True)
    assert runner.run(proposal, key="k-who").ok
    with shop.read() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.idempotency_key == "k-who")).one()
        assert entry.actor == "monitor:delay_outreach:flag:7"
