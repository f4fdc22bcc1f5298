"""Playbooks run on the monitor's flags: a late parcel gets a message in the customer's
language with the tracking facts and a coupon, an odd address gets a question and a held case,
anything else a case; a playbook run twice (or cut short and run again) acts once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from commerce.db import Store
from commerce.models import Case, Conversation, Coupon, Customer, Flag, Message, OutboxMessage, ShipmentHold, UrgencyLevel
from commerce.outbox import LogAdapter, deliver_pending
from support.playbooks import run_playbooks
from tests.conftest import NOW


def flag(store: Store, **values: Any) -> int:
    row = Flag(
        subject_key=values.pop("subject_key", values.get("order_id") or "x"),
        reason=values.pop("reason", "constructed"),
        urgency=values.pop("urgency", UrgencyLevel.YELLOW),
        created_at=NOW,
        updated_at=NOW,
        **values,
    )
    with store.write() as s:
        s.add(row)
        s.flush()
        return int(row.id)


def count(store: Store, model: type) -> int:
    with store.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_late_parcel_gets_a_message_with_the_tracking_facts_and_a_coupon_once(shop: Store) -> None:
    with shop.write() as s:
        customer = s.get(Customer, "alice")
        assert customer is not None
        customer.preferred_language = "fr"
        s.add(Conversation(id="w-alice", customer_id="alice", created_at=NOW))
    flag_id = flag(shop, rule="delivery_late", order_id="#A1003", customer_id="alice", playbook="apologise_for_delay")
    events: list[tuple[str, dict[str, Any]]] = []
    ran = run_playbooks(shop, [flag_id], NOW, notify=lambda conversation, event: events.append((conversation, event)))
    assert ran == {"delay_outreach": 1}
    with shop.read() as s:
        message = s.scalars(select(Message).where(Message.conversation_id == "w-alice")).one()
        text = message.text
        assert message.language == "fr" and "JD1003" in text and "HW-" in text
        assert s.scalars(select(Coupon)).one().customer_id == "alice"
        outgoing = s.scalars(select(OutboxMessage)).one()
        assert outgoing.recipient == "alice@example.com" and outgoing.body == text
    assert events == [("w-alice", {"role": "agent", "text": text, "at": NOW.isoformat()})]

    assert run_playbooks(shop, [flag_id], NOW) == {}  # the second run acts on nothing
    assert count(shop, Coupon) == 1 and count(shop, Message) == 1 and count(shop, OutboxMessage) == 1


def test_a_run_cut_short_finishes_without_a_second_coupon(shop: Store) -> None:
    flag_id = flag(shop, rule="delivery_late", order_id="#A1003", customer_id="alice", playbook="apologise_for_delay")
    run_playbooks(shop, [flag_id], NOW)
    with shop.write() as s:  # as if the process died after the coupon, before the message was written
        s.query(OutboxMessage).delete()
    assert run_playbooks(shop, [flag_id], NOW) == {"delay_outreach": 1}
    assert count(shop, Coupon) == 1 and count(shop, OutboxMessage) == 1


def test_an_odd_address_holds_the_shipment_and_asks_the_customer(shop: Store) -> None:
    flag_id = flag(shop, rule="address_red_flags", order_id="#A1001", customer_id="alice", playbook="verify_address")
    assert run_playbooks(shop, [flag_id], NOW) == {"confirm_address": 1}
    with shop.read() as s:
        case = s.scalars(select(Case)).one()
        assert "on hold" in case.brief["recommended_resolution"] and case.order_id == "#A1001"
        assert s.scalars(select(ShipmentHold)).one().order_id == "#A1001"
        assert s.scalars(select(OutboxMessage)).one().subject.startswith("Please confirm the delivery address")
    assert run_playbooks(shop, [flag_id], NOW) == {} and count(shop, Case) == 1


def test_other_flags_open_a_case_with_its_deadline(shop: Store) -> None:
    flag_id = flag(
        shop,
        rule="refund_exceeds_payment",
        order_id="#B2001",
        customer_id="bob",
        playbook="recover_overpayment",
        urgency=UrgencyLevel.RED,
        reason="Order #B2001: 30.00 USD refunded, 20.00 USD paid.",
    )
    assert run_playbooks(shop, [flag_id], NOW) == {"open_case": 1}
    with shop.read() as s:
        case = s.scalars(select(Case)).one()
        assert case.urgency is UrgencyLevel.RED and case.sla_due_at > NOW and "30.00 USD refunded" in case.reason
        assert case.brief["flag"]["rule"] == "refund_exceeds_payment"
    assert run_playbooks(shop, [flag_id], NOW) == {} and count(shop, Case) == 1


def test_the_outbox_hands_messages_to_an_adapter_and_retries_failures(shop: Store) -> None:
    flag_id = flag(shop, rule="delivery_late", order_id="#A1003", customer_id="alice", playbook="apologise_for_delay")
    run_playbooks(shop, [flag_id], NOW)

    class Down:
        channel = "email"

        def send(self, message: Any) -> None:
            raise ConnectionError("mail server unreachable")

    assert deliver_pending(shop, [Down()]) == 0
    with shop.read() as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert row.status == "pending" and row.attempts == 1 and "unreachable" in (row.error or "")
    adapter = LogAdapter()
    assert deliver_pending(shop, [adapter], now=NOW) == 1 and adapter.sent[0].recipient == "alice@example.com"
    assert deliver_pending(shop, [adapter]) == 0


def test_the_server_scan_flags_acts_and_pushes_the_message_to_the_open_chat(shop: Store, tmp_path: Any) -> None:
    import asyncio

    from config import Settings
    from support.runtime import Runtime

    with shop.write() as s:
        s.add(Conversation(id="w-alice", customer_id="alice", created_at=NOW))
    runtime = Runtime(Settings(data_dir=tmp_path, secret_key="monitor-test"), store=shop, clock=lambda: NOW)
    received: list[tuple[str, Any] | None] = []

    async def listen() -> dict[str, Any]:
        with runtime.bus.subscribe("w-alice") as subscription:
            result = await asyncio.to_thread(runtime.monitor_once)
            received.append(await subscription.next(timeout=5))
        return result

    first = asyncio.run(listen())
    assert first["new_flags"].get("delivery_late") and first["playbooks_run"].get("delay_outreach")
    assert received and received[0] is not None
    event, data = received[0]
    assert event == "message" and "JD1003" in str(data)
    second = runtime.monitor_once()
    assert second["new_flags"] == {} and second["playbooks_run"] == {}


def test_stock_held_for_a_failed_payment_goes_back_once(shop: Store) -> None:
    from commerce.models import StockLevel

    with shop.write() as s:
        level = s.scalars(select(StockLevel).where(StockLevel.variant_id == "2000000001")).first()
        assert level is not None
        level.reserved = 5  # #A1005 (pending) holds one T-shirt
        level_id = level.id
    flag_id = flag(shop, rule="stock_without_payment", order_id="#A1005", customer_id="alice", playbook="release_stock")
    assert run_playbooks(shop, [flag_id], NOW) == {"release_stock": 1}
    assert run_playbooks(shop, [flag_id], NOW) == {}
    with shop.read() as s:
        released = s.get(StockLevel, level_id)
        assert released is not None and released.reserved == 4


def test_a_release_the_policy_refuses_opens_one_case_and_is_not_tried_again(shop: Store) -> None:
    # A cancelled order is no stage the profile releases stock at: the gate refuses, a colleague is asked.
    flag_id = flag(shop, rule="stock_without_payment", order_id="#A1004", customer_id="alice", playbook="release_stock")
    assert run_playbooks(shop, [flag_id], NOW) == {"open_case": 1}
    assert run_playbooks(shop, [flag_id], NOW) == {} and count(shop, Case) == 1
    with shop.read() as s:
        case = s.scalars(select(Case)).one()
        assert "Release the stock by hand" in case.brief["recommended_resolution"]


def test_an_oversold_variant_offers_the_newest_orders_another_variant_in_stock(shop: Store) -> None:
    flag_id = flag(
        shop,
        rule="oversold",
        subject_key="variant:2000000001",
        playbook="restock_or_cancel",
        urgency=UrgencyLevel.RED,
        measured=1.0,
        reason="Variant 2000000001 is oversold: 1 short.",
    )
    assert run_playbooks(shop, [flag_id], NOW) == {"offer_alternative": 1}
    with shop.read() as s:
        offers = s.scalars(select(OutboxMessage)).all()
        assert [o.recipient for o in offers] == ["alice@example.com"]  # #A1001, the newest pending order holding it
        assert "#A1001" in offers[0].body and "blue L" in offers[0].body
        case = s.scalars(select(Case)).one()
        assert "1 customer(s) were offered" in case.brief["recommended_resolution"]
    assert run_playbooks(shop, [flag_id], NOW) == {} and count(shop, OutboxMessage) == 1


def test_an_agent_judges_the_flag_behind_a_case_from_the_console(shop: Store, tmp_path: Any) -> None:
    from fastapi.testclient import TestClient

    from api.auth import add_staff
    from commerce.models import FlagStatus, StaffRole
    from config import Settings
    from server import create_app

    flag_id = flag(shop, rule="refund_exceeds_payment", order_id="#B2001", customer_id="bob", playbook="recover_overpayment")
    run_playbooks(shop, [flag_id], NOW)
    add_staff(shop, "agent@example.com", "agent-password", role=StaffRole.AGENT)
    client = TestClient(create_app(Settings(data_dir=tmp_path, secret_key="flags"), store=shop, clock=lambda: NOW))
    csrf = client.post("/api/auth/login", json={"email": "agent@example.com", "password": "agent-password"}).json()["csrf"]
    case = client.get("/api/console/cases").json()[0]
    assert client.get(f"/api/console/cases/{case['id']}").json()["flag"] == {
        "id": flag_id,
        "rule": "refund_exceeds_payment",
        "status": "open",
    }
    judged = client.post(
        f"/api/console/cases/{case['id']}/flag-feedback", json={"verdict": "false_alarm"}, headers={"X-CSRF-Token": csrf}
    )
    assert judged.status_code == 200 and judged.json()["flag"]["status"] == "false_alarm"
    with shop.read() as s:
        stored = s.get(Flag, flag_id)
        assert stored is not None and stored.status is FlagStatus.FALSE_ALARM and stored.feedback_by == "agent@example.com"
    wrong = client.post(
        f"/api/console/cases/{case['id']}/flag-feedback", json={"verdict": "maybe"}, headers={"X-CSRF-Token": csrf}
    )
    assert wrong.status_code == 422 and "error" in wrong.json()
