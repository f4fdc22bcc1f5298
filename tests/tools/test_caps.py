"""The seller's caps hold under parallel calls: coupons per customer and per order, free
reshipments per order, and money plus goods given back as a share of the order. Each count is
checked inside the write's transaction, the customer's or order's row locked. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from commerce.db import Store
from commerce.models import Coupon, Reshipment
from tests.conftest import NOW
from tools import Caller, Toolbox, ToolOutcome, WriteLimits

MUG = "2000000010"


def in_parallel(count: int, call: Callable[[int], ToolOutcome]) -> list[ToolOutcome]:
    outcomes: list[ToolOutcome] = []
    barrier = threading.Barrier(count)

    def worker(n: int) -> None:
        barrier.wait()
        outcomes.append(call(n))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def box(store: Store, **limits: Any) -> Toolbox:
    return Toolbox(store, Caller(actor="test", customer_id="alice", clock=lambda: NOW, limits=WriteLimits(**limits)))


def test_parallel_coupons_never_pass_the_cap_per_customer(any_shop: Store) -> None:
    # Attack: parallel "yes" in several conversations gave 3 coupons where the profile allows 2.
    coupon = {"customer_id": "alice", "percent_off": 10, "reason": "late parcel"}
    outcomes = in_parallel(
        6, lambda n: box(any_shop, coupons_per_customer=2).call("issue_coupon", coupon, idempotency_key=f"c{n}")
    )
    assert sum(o.ok for o in outcomes) == 2
    assert {o.error_code for o in outcomes if not o.ok} == {"limit_exceeded"}
    with any_shop.read() as s:
        assert s.scalar(select(func.count()).select_from(Coupon)) == 2


def test_parallel_reshipments_of_one_order_never_pass_the_cap(any_shop: Store) -> None:
    # Attack: five conversations of "it arrived damaged" + "yes" on one order wrote five reshipments.
    reship = {"order_id": "#A1002", "item_ids": [MUG], "reason": "arrived damaged"}
    outcomes = in_parallel(
        5, lambda n: box(any_shop, reshipments_per_order=1).call("create_reshipment", reship, idempotency_key=f"r{n}")
    )
    assert sum(o.ok for o in outcomes) == 1
    with any_shop.read() as s:
        assert s.scalar(select(func.count()).select_from(Reshipment)) == 1


def test_a_refund_after_a_reshipment_cannot_give_back_more_than_the_order_cost(any_shop: Store) -> None:
    capped = box(any_shop, money_back_share=Decimal(1))
    assert capped.call(
        "create_reshipment", {"order_id": "#A1002", "item_ids": [MUG], "reason": "damaged"}, idempotency_key="r"
    ).ok
    # The mug (12.00) went again: of the order's 32.00, a refund of the whole is refused, 20.00 passes.
    whole = capped.call("issue_refund", {"order_id": "#A1002", "reason": "also refund"}, idempotency_key="f1")
    assert not whole.ok and whole.error_code == "limit_exceeded"
    assert capped.call("issue_refund", {"order_id": "#A1002", "amount": "20.00", "reason": "rest"}, idempotency_key="f2").ok


def test_coupons_per_order(any_shop: Store) -> None:
    coupon = {"customer_id": "alice", "order_id": "#A1003", "percent_off": 10, "reason": "late"}
    capped = box(any_shop, coupons_per_order=1)
    assert capped.call("issue_coupon", coupon, idempotency_key="o1").ok
    second = capped.call("issue_coupon", coupon, idempotency_key="o2")
    assert not second.ok and second.error_code == "limit_exceeded"
