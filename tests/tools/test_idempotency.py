"""Money moves at most once: the same idempotency key never acts twice, under concurrent
calls, and after a crash between deciding and committing. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from commerce.db import Store
from commerce.models import AuditEntry, Order, PaymentMethod, Refund
from tests.conftest import NOW, build_shop
from tools import Caller, Toolbox

ALICE = Caller(actor="test", customer_id="alice", clock=lambda: NOW)
REFUND = {"order_id": "#A1002", "amount": "10.00", "reason": "damaged mug"}


def refunds_of(store: Store, order_id: str) -> list[Decimal]:
    with store.read() as s:
        return [r.amount for r in s.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.id))]


def test_the_same_key_returns_the_recorded_result_without_acting_again(any_shop: Store) -> None:
    box = Toolbox(any_shop, ALICE)
    first = box.call("issue_refund", REFUND, idempotency_key="conv-1:turn-3:refund")
    second = box.call("issue_refund", REFUND, idempotency_key="conv-1:turn-3:refund")
    assert first.ok and not first.replayed
    assert second.ok and second.replayed and second.result == first.result
    assert refunds_of(any_shop, "#A1002") == [Decimal("10.00")]


def test_a_key_reused_for_other_arguments_is_refused(any_shop: Store) -> None:
    box = Toolbox(any_shop, ALICE)
    assert box.call("issue_refund", REFUND, idempotency_key="k").ok
    other = box.call("issue_refund", {**REFUND, "amount": "11.00"}, idempotency_key="k")
    assert not other.ok and other.error_code == "idempotency_conflict"
    assert refunds_of(any_shop, "#A1002") == [Decimal("10.00")]


def test_concurrent_calls_with_one_key_refund_once(any_shop: Store) -> None:
    outcomes = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        box = Toolbox(any_shop, ALICE)
        barrier.wait()
        outcomes.append(box.call("issue_refund", REFUND, idempotency_key="same-key"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(o.ok for o in outcomes)
    assert sum(not o.replayed for o in outcomes) == 1
    assert refunds_of(any_shop, "#A1002") == [Decimal("10.00")]
    with any_shop.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.idempotency_key == "same-key")) == 1


def test_concurrent_full_refunds_with_different_keys_never_exceed_what_was_paid(any_shop: Store) -> None:
    outcomes = []
    barrier = threading.Barrier(6)

    def worker(n: int) -> None:
        box = Toolbox(any_shop, ALICE)
        barrier.wait()
        outcomes.append(box.call("issue_refund", {"order_id": "#A1002", "reason": "full"}, idempotency_key=f"k{n}"))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(o.ok for o in outcomes) == 1
    assert {o.error_code for o in outcomes if not o.ok} == {"invalid_state"}
    with any_shop.read() as s:
        order = s.get(Order, "#A1002")
        assert order.amount_refunded == order.amount_paid == Decimal("32.00")


CRASHING_CHILD = textwrap.dedent(
    """
    import os, sys
    from sqlalchemy.orm import Session
    from commerce.db import Store
    from tools import Caller, Toolbox

    def crash(self, *args, **kwargs):
        os._exit(17)  # the process dies after the refund was decided, before it committed

    Session.commit = crash
    box = Toolbox(Store(sys.argv[1], create=False), Caller(actor="crashy", customer_id="alice"))
    box.call("issue_refund", {"order_id": "#A1002", "amount": "10.00", "reason": "damaged mug"}, idempotency_key="crash-key")
    """
)


def test_a_crash_between_deciding_and_committing_leaves_nothing_and_the_retry_acts_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shop.db"
    store = Store(url)
    build_shop(store)
    root = Path(__file__).resolve().parents[2]
    child = subprocess.run([sys.executable, "-c", CRASHING_CHILD, url], cwd=root, capture_output=True, timeout=120)
    assert child.returncode == 17, child.stderr.decode()
    assert refunds_of(store, "#A1002") == []
    with store.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0
        assert s.get(PaymentMethod, "card_alice") is not None
    box = Toolbox(store, ALICE)
    retry = box.call("issue_refund", REFUND, idempotency_key="crash-key")
    again = box.call("issue_refund", REFUND, idempotency_key="crash-key")
    assert retry.ok and not retry.replayed and again.replayed
    assert refunds_of(store, "#A1002") == [Decimal("10.00")]
    store.dispose()
