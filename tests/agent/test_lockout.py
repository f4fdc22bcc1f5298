"""Guessing who a customer is: failed proofs are counted per email, order number, name and
postal code, and network address, across conversations; a target or an address over its limit
gets the answer of any failure, and every lockout is in the audit ledger."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from agent.lockout import LOCKOUT_TOOL, LockoutRules, locked, record_failure, target
from agent.service import SupportAgent
from commerce.db import Store
from commerce.models import AuditEntry
from config import Settings
from tests.conftest import NOW, build_shop


def lockout_rows(agent: SupportAgent) -> list[dict[str, object]]:
    with agent.store.read() as session:
        return [e.arguments for e in session.scalars(select(AuditEntry).where(AuditEntry.tool == LOCKOUT_TOOL))]


def test_counting_order_numbers_up_for_one_email_stops_at_the_limit(agent: SupportAgent) -> None:
    # Attack: knowing an email, order numbers counted upward found the order in 58 tries.
    failures = []
    for number in range(1, 6):
        turn = agent.handle(f"enum{number}", f"where is order #B{number:04d}? my email is alice@example.com")
        failures.append(turn.reply)
        assert agent.state(f"enum{number}").get("customer_id") is None
    assert [row["kind"] for row in lockout_rows(agent)] == ["email"]
    # The right order with that email is refused now, in the words any failure gets.
    right = agent.handle("enum-right", "where is order #A1003? my email is alice@example.com")
    assert agent.state("enum-right").get("customer_id") is None
    assert right.reply == failures[-1]
    assert "JD1003" not in right.reply and "Alice" not in right.reply


def test_guessing_emails_for_one_order_stops_at_the_limit(agent: SupportAgent) -> None:
    for number in range(5):
        agent.handle(f"guess{number}", f"order #A1003, email guess{number}@example.com")
    agent.handle("guess-right", "order #A1003, email alice@example.com")
    assert agent.state("guess-right").get("customer_id") is None
    assert "order" in [row["kind"] for row in lockout_rows(agent)]


def test_one_address_guessing_many_targets_is_locked_but_others_are_not(settings: Settings) -> None:
    store = Store(settings.resolved_database_url)
    build_shop(store)
    agent = SupportAgent(settings, store=store, clock=lambda: NOW, use_knowledge=False)
    try:
        for number in range(10):
            agent.handle(f"addr{number}", f"order #C{number:04d}, email someone{number}@example.com", client="203.0.113.9")
        agent.handle("addr-right", "order #A1003, email alice@example.com", client="203.0.113.9")
        assert agent.state("addr-right").get("customer_id") is None
        agent.handle("other-right", "order #A1003, email alice@example.com", client="198.51.100.4")
        assert agent.state("other-right").get("customer_id") == "alice"
        assert "address" in [row["kind"] for row in lockout_rows(agent)]
    finally:
        agent.close()
        store.dispose()


def test_a_lock_lasts_while_the_window_holds_the_failures(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'lock.db'}")
    rules = LockoutRules(per_target=3, per_address=10, window=dt.timedelta(minutes=15))
    email = [target("email", "Alice@Example.com")]
    for minute in range(3):
        record_failure(store, email, NOW + dt.timedelta(minutes=minute), rules, None)
    assert locked(store, [target("email", "alice@example.com ")], NOW + dt.timedelta(minutes=3), rules)
    assert not locked(store, email, NOW + dt.timedelta(minutes=17), rules)
    assert not locked(store, [target("email", "bob@example.com")], NOW + dt.timedelta(minutes=3), rules)
    store.dispose()
