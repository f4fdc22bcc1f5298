"""The exception monitor: each rule on constructed records (one case it must flag, one it must
not), flags raised once, incremental scans, feedback and precision, and the demo shop."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.db import Store
from commerce.models import (
    Coupon,
    Customer,
    Flag,
    FlagStatus,
    Message,
    Order,
    OrderItem,
    OrderStatus,
    PaymentKind,
    PaymentMethod,
    PaymentTransaction,
    Product,
    ProductIssue,
    Shipment,
    ShipmentStatus,
    StockLevel,
    TrackingCode,
    TrackingEvent,
    TransactionKind,
    TransactionStatus,
    UrgencyLevel,
    Variant,
)
from commerce.monitor import RULES, address_problems, load_rules, phone_countries, record_feedback, rule_precision, scan
from tests.conftest import NOW, build_shop

RULES_CONFIG = load_rules()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty shop with a catalogue: each test adds the records its rule looks at."""
    s = Store(f"sqlite:///{tmp_path}/monitor.db")
    with s.write() as w:
        shirt = Product(id="1000000001", name="T-Shirt")
        shirt.variants = [
            Variant(id="2000000001", options={"size": "M"}, price=Decimal("20.00")),
            Variant(id="2000000002", options={"size": "L"}, price=Decimal("20.00"), position=1),
        ]
        w.add(shirt)
    yield s
    s.dispose()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Store]:
    """The shared constructed shop (two customers, six orders)."""
    s = Store(f"sqlite:///{tmp_path}/shop.db")
    build_shop(s)
    yield s
    s.dispose()


def _flags(store: Store, rule: str) -> dict[str, Flag]:
    with store.read() as s:
        found = {f.subject_key: f for f in s.scalars(select(Flag).where(Flag.rule == rule))}
        s.expunge_all()
        return found


def _run(store: Store, *, incremental: bool = False) -> dict[str, int]:
    return scan(store, RULES_CONFIG, NOW, incremental=incremental).new_flags


def _customer(s: Session, cid: str, *, phone: str | None = None, cc: str = "DE", created_days: float = 400) -> Customer:
    c = Customer(
        id=cid,
        first_name=cid.title(),
        last_name="Test",
        email=f"{cid}@example.com",
        phone=phone,
        country_code=cc,
        created_at=NOW - dt.timedelta(days=created_days),
    )
    s.add(c)
    s.add(PaymentMethod(id=f"card_{cid}", customer_id=cid, kind=PaymentKind.CREDIT_CARD, brand="visa", last_four="1111"))
    s.flush()
    return c


def _order(
    s: Session,
    oid: str,
    cid: str,
    *,
    placed: dt.timedelta = dt.timedelta(days=1),
    status: OrderStatus = OrderStatus.PENDING,
    total: str = "50.00",
    currency: str = "EUR",
    items: tuple[tuple[str, int], ...] = (("2000000001", 1),),
    ip: str | None = None,
    paid: TransactionStatus | None = TransactionStatus.SUCCEEDED,
    address1: str = "Hauptstraße 5",
    postal: str = "10115",
    cc: str = "DE",
) -> Order:
    o = Order(
        id=oid,
        customer_id=cid,
        status=status,
        currency=currency,
        placed_at=NOW - placed,
        total=Decimal(total),
        subtotal=Decimal(total),
        ship_address1=address1,
        ship_postal_code=postal,
        ship_country_code=cc,
        ip_address=ip,
    )
    o.items = [
        OrderItem(position=i, product_id="1000000001", variant_id=v, name="T-Shirt", unit_price=Decimal("20"), quantity=q)
        for i, (v, q) in enumerate(items)
    ]
    if paid is not None:
        o.transactions = [
            PaymentTransaction(
                kind=TransactionKind.PAYMENT,
                status=paid,
                amount=Decimal(total),
                payment_method_id=f"card_{cid}",
                created_at=o.placed_at + dt.timedelta(seconds=30),
            )
        ]
    s.add(o)
    s.flush()
    return o


def _shipment(
    s: Session,
    oid: str,
    status: ShipmentStatus,
    *,
    last_event: dt.timedelta,
    promised_in: int = 5,
    code: TrackingCode = TrackingCode.IN_TRANSIT,
    delivered: bool = False,
) -> Shipment:
    sh = Shipment(
        order_id=oid,
        carrier="dhl",
        tracking_number=f"T{oid}",
        status=status,
        shipped_at=NOW - last_event - dt.timedelta(days=1),
        promised_delivery_date=NOW.date() + dt.timedelta(days=promised_in),
        delivered_at=NOW - last_event if delivered else None,
    )
    sh.events = [
        TrackingEvent(occurred_at=NOW - last_event - dt.timedelta(days=1), code=TrackingCode.PICKED_UP, location="A"),
        TrackingEvent(occurred_at=NOW - last_event, code=code, location="B"),
    ]
    s.add(sh)
    s.flush()
    return sh


def _subjects(store: Store, rule: str) -> set[str]:
    return set(_flags(store, rule))


# ---------------------------------------------------------------- parcels


def test_parcel_stalled(store: Store) -> None:
    with store.write() as s:
        _customer(s, "carl")
        _order(s, "#S1", "carl", status=OrderStatus.PROCESSED)
        _order(s, "#S2", "carl", status=OrderStatus.PROCESSED)
        _order(s, "#S3", "carl", status=OrderStatus.DELIVERED)
        stalled = _shipment(s, "#S1", ShipmentStatus.IN_TRANSIT, last_event=dt.timedelta(days=4))
        _shipment(s, "#S2", ShipmentStatus.IN_TRANSIT, last_event=dt.timedelta(days=2))
        _shipment(
            s, "#S3", ShipmentStatus.DELIVERED, last_event=dt.timedelta(days=9), code=TrackingCode.DELIVERED, delivered=True
        )
    _run(store)
    flags = _flags(store, "parcel_stalled")
    assert set(flags) == {f"shipment:{stalled.id}"}
    flag = flags[f"shipment:{stalled.id}"]
    assert flag.order_id == "#S1" and flag.customer_id == "carl" and flag.measured == 4.0
    assert flag.urgency == UrgencyLevel.ORANGE and flag.playbook == RULES_CONFIG["parcel_stalled"].playbook
    assert "no tracking event for 4.0 days" in flag.reason and "limit 3 days" in flag.reason


def test_delivery_late(store: Store) -> None:
    with store.write() as s:
        _customer(s, "carl")
        _order(s, "#L1", "carl", status=OrderStatus.PROCESSED)
        _order(s, "#L2", "carl", status=OrderStatus.PROCESSED)
        late = _shipment(s, "#L1", ShipmentStatus.IN_TRANSIT, last_event=dt.timedelta(hours=5), promised_in=-2)
        _shipment(s, "#L2", ShipmentStatus.IN_TRANSIT, last_event=dt.timedelta(hours=5), promised_in=0)
    _run(store)
    flags = _flags(store, "delivery_late")
    assert set(flags) == {f"shipment:{late.id}"} and flags[f"shipment:{late.id}"].measured == 2.0
    assert "2026-11-18" in flags[f"shipment:{late.id}"].reason


def test_customs_hold_and_returned_to_sender(store: Store) -> None:
    with store.write() as s:
        _customer(s, "carl")
        for oid in ("#C1", "#C2", "#C3"):
            _order(s, oid, "carl", status=OrderStatus.PROCESSED)
        held = _shipment(s, "#C1", ShipmentStatus.CUSTOMS_HOLD, last_event=dt.timedelta(days=5), code=TrackingCode.CUSTOMS_HOLD)
        back = _shipment(
            s, "#C2", ShipmentStatus.RETURNED_TO_SENDER, last_event=dt.timedelta(days=1), code=TrackingCode.RETURNED_TO_SENDER
        )
        _shipment(s, "#C3", ShipmentStatus.IN_TRANSIT, last_event=dt.timedelta(days=1), code=TrackingCode.CUSTOMS_CLEARED)
    _run(store)
    assert _subjects(store, "customs_hold") == {f"shipment:{held.id}"}
    assert _subjects(store, "returned_to_sender") == {f"shipment:{back.id}"}
    # A parcel held in customs is not also reported as stalled.
    assert f"shipment:{held.id}" not in _subjects(store, "parcel_stalled")


def test_delivered_not_received(store: Store) -> None:
    with store.write() as s:
        _customer(s, "carl")
        _customer(s, "dora")
        _customer(s, "emil")
        for oid, cid in (("#D1", "carl"), ("#D2", "dora"), ("#D3", "emil")):
            _order(s, oid, cid, status=OrderStatus.DELIVERED)
            _shipment(
                s, oid, ShipmentStatus.DELIVERED, last_event=dt.timedelta(days=3), code=TrackingCode.DELIVERED, delivered=True
            )
        s.get_one(Order, "#D2").issue = ProductIssue.DELIVERED_NOT_RECEIVED
        s.add(Message(conversation_id="c1", role="customer", text="Nothing came", intent="not_received", customer_id="carl"))
        # Emil complained before the parcel was delivered: not this rule's case.
        s.add(
            Message(
                conversation_id="c2",
                role="customer",
                text="Where is it?",
                intent="not_received",
                customer_id="emil",
                created_at=NOW - dt.timedelta(days=5),
            )
        )
    _run(store)
    assert _subjects(store, "delivered_not_received") == {"order:#D1", "order:#D2"}


# ---------------------------------------------------------------- orders


def test_duplicate_order(shop: Store) -> None:
    with shop.write() as s:
        _customer(s, "carl")
        items = (("2000000001", 2), ("2000000010", 1))
        _order(s, "#P1", "carl", placed=dt.timedelta(hours=5), items=items)
        _order(s, "#P2", "carl", placed=dt.timedelta(hours=5, minutes=-12), items=items)  # 12 minutes later
        _order(s, "#P3", "carl", placed=dt.timedelta(hours=2), items=items)  # three hours later
        _order(s, "#P4", "carl", placed=dt.timedelta(hours=5, minutes=-20), items=(("2000000001", 2), ("2000000002", 1)))
    _run(shop)
    flags = _flags(shop, "duplicate_order")
    assert set(flags) == {"order:#P2"}
    assert flags["order:#P2"].measured == 12.0 and "repeats order #P1" in flags["order:#P2"].reason


def test_ip_burst(store: Store) -> None:
    with store.write() as s:
        for cid in ("carl", "dora", "emil"):
            _customer(s, cid)
        for n, cid in enumerate(("carl", "dora", "emil")):
            _order(s, f"#I{n}", cid, placed=dt.timedelta(hours=3, minutes=-2 * n), ip="203.0.113.9")
        # Three orders from another address, but spread over an hour.
        for n, cid in enumerate(("carl", "dora", "emil")):
            _order(s, f"#J{n}", cid, placed=dt.timedelta(hours=3, minutes=-30 * n), ip="203.0.113.10")
    _run(store)
    flags = _flags(store, "ip_burst")
    assert set(flags) == {"order:#I2"} and flags["order:#I2"].measured == 3.0
    assert "3 orders from IP address 203.0.113.9" in flags["order:#I2"].reason


def test_cancelled_after_payment(store: Store) -> None:
    with store.write() as s:
        _customer(s, "carl")
        big = _order(s, "#K1", "carl", status=OrderStatus.CANCELLED, total="400.00", placed=dt.timedelta(days=2))
        big.cancelled_at = big.placed_at + dt.timedelta(hours=3)
        small = _order(
            s, "#K2", "carl", status=OrderStatus.CANCELLED, total="400.00", currency="USD", placed=dt.timedelta(days=2)
        )
        small.cancelled_at = small.placed_at + dt.timedelta(hours=3)  # 368 EUR: still above 300
        cheap = _order(s, "#K3", "carl", status=OrderStatus.CANCELLED, total="250.00", placed=dt.timedelta(days=2))
        cheap.cancelled_at = cheap.placed_at + dt.timedelta(hours=3)
        slow = _order(s, "#K4", "carl", status=OrderStatus.CANCELLED, total="900.00", placed=dt.timedelta(days=5))
        slow.cancelled_at = slow.placed_at + dt.timedelta(hours=30)
    _run(store)
    flags = _flags(store, "cancelled_after_payment")
    assert set(flags) == {"order:#K1", "order:#K2"}
    assert flags["order:#K1"].measured == 400.0 and flags["order:#K2"].measured == 368.0


def test_new_account_coupon(store: Store) -> None:
    with store.write() as s:
        _customer(s, "newbie", created_days=2)
        _customer(s, "regular", created_days=300)
        _order(s, "#N1", "newbie", total="220.00")
        _order(s, "#N2", "regular", total="220.00")
        _order(s, "#N3", "newbie", total="90.00", placed=dt.timedelta(hours=3))
        for code, cid, oid in (("W1", "newbie", "#N1"), ("W2", "regular", "#N2"), ("W3", "newbie", "#N3")):
            s.add(
                Coupon(code=code, customer_id=cid, first_order_only=True, percent_off=10, expires_at=NOW, redeemed_order_id=oid)
            )
    _run(store)
    assert _subjects(store, "new_account_coupon") == {"order:#N1"}


def test_phone_country_mismatch(store: Store) -> None:
    with store.write() as s:
        _customer(s, "carl", phone="+44 7700 900123")
        _customer(s, "dora", phone="+49 151 2345678")
        _customer(s, "emil", phone="+1 512 555 0100")
        _order(s, "#M1", "carl", cc="DE")
        _order(s, "#M2", "dora", cc="DE")
        _order(s, "#M3", "emil", cc="US", postal="73301")
    _run(store)
    assert _subjects(store, "phone_country_mismatch") == {"order:#M1"}
    assert phone_countries("+966 50 123 4567") == frozenset({"SA"}) and phone_countries("0049 151") is None


def test_address_red_flags(store: Store) -> None:
    with store.write() as s:
        _customer(s, "carl")
        _order(s, "#R1", "carl", address1="Packstation 145")
        _order(s, "#R2", "carl", address1="Via Roma", postal="20121", cc="IT")
        _order(s, "#R3", "carl", address1="Kalverstraat 12", postal="1012", cc="NL")
        _order(s, "#R4", "carl", address1="Kalverstraat 12", postal="1012 NX", cc="NL")
    _run(store)
    flags = _flags(store, "address_red_flags")
    assert set(flags) == {"order:#R1", "order:#R2", "order:#R3"}
    assert "Packstation" in flags["order:#R1"].reason and "no house number" in flags["order:#R2"].reason
    for address in (
        "12 point relais Carrefour",
        "ul. Długa 4, paczkomat WAW01",
        "東京都 転送センター 3-2-1",
        "Calle Mayor 3 reenvío",
    ):
        assert address_problems(address, "", "", "XX"), address
    assert address_problems("ul. Długa 4", "", "00-950", "PL") == []


# ---------------------------------------------------------------- money and stock


def test_captured_not_fulfilled(store: Store) -> None:
    with store.write() as s:
        _customer(s, "carl")
        _order(s, "#F1", "carl", placed=dt.timedelta(days=5))
        _order(s, "#F2", "carl", placed=dt.timedelta(days=1))
        _order(s, "#F3", "carl", placed=dt.timedelta(days=6), status=OrderStatus.PROCESSED)
        _shipment(s, "#F3", ShipmentStatus.IN_TRANSIT, last_event=dt.timedelta(hours=2))
    _run(store)
    assert _subjects(store, "captured_not_fulfilled") == {"order:#F1"}


def test_stock_without_payment(store: Store) -> None:
    with store.write() as s:
        _customer(s, "carl")
        _order(s, "#G1", "carl", paid=TransactionStatus.FAILED)
        retried = _order(s, "#G2", "carl", paid=TransactionStatus.FAILED)
        retried.transactions.append(
            PaymentTransaction(kind=TransactionKind.PAYMENT, amount=Decimal("50"), payment_method_id="card_carl", position=1)
        )
        _order(s, "#G3", "carl", paid=TransactionStatus.FAILED, status=OrderStatus.CANCELLED)
    _run(store)
    assert _subjects(store, "stock_without_payment") == {"order:#G1"}


def test_oversold(shop: Store) -> None:
    with shop.write() as s:
        # Sold 7 of the L shirt, 4 on hand in Berlin: 3 short. The M shirt has 5 on hand and 5 sold.
        s.scalars(
            select(StockLevel).where(StockLevel.variant_id == "2000000002", StockLevel.warehouse_id == "de-berlin")
        ).one().reserved = 7
        s.scalars(select(StockLevel).where(StockLevel.variant_id == "2000000001")).one().reserved = 5
    _run(shop)
    flags = _flags(shop, "oversold")
    assert set(flags) == {"variant:2000000002"} and flags["variant:2000000002"].measured == 3.0


def test_refund_exceeds_payment(shop: Store) -> None:
    with shop.write() as s:
        order = s.get_one(Order, "#A1004")  # cancelled and refunded once, in full
        order.transactions.append(
            PaymentTransaction(kind=TransactionKind.REFUND, amount=Decimal("5.00"), payment_method_id="card_alice", position=2)
        )
    _run(shop)
    flags = _flags(shop, "refund_exceeds_payment")
    assert set(flags) == {"order:#A1004"} and flags["order:#A1004"].measured == 5.0
    assert "refunded 17.00 EUR but only 12.00 EUR was paid" in flags["order:#A1004"].reason


# ---------------------------------------------------------------- once per subject, incremental scans


def test_a_second_scan_over_unchanged_data_finds_nothing_new(store: Store) -> None:
    with store.write() as s:
        _customer(s, "carl", phone="+44 20 7946 0000")
        _order(s, "#Z1", "carl", placed=dt.timedelta(days=5), address1="Packstation 9")
    first = scan(store, RULES_CONFIG, NOW, incremental=False)
    assert first.new_flags == {"phone_country_mismatch": 1, "address_red_flags": 1, "captured_not_fulfilled": 1}
    assert len(first.flags) == 3 and first.as_json() == {"scanned_orders": 1, "new_flags": first.new_flags, "playbooks_run": {}}
    for incremental in (False, True):
        again = scan(store, RULES_CONFIG, NOW + dt.timedelta(minutes=5), incremental=incremental)
        assert again.new_flags == {} and again.flags == []
    with store.read() as s:
        assert len(s.scalars(select(Flag)).all()) == 3


def test_an_incremental_scan_reads_only_what_changed(store: Store) -> None:
    with store.write() as s:
        _customer(s, "carl")
        for n, oid in enumerate(("#V1", "#V2", "#V3")):
            _order(s, oid, "carl", status=OrderStatus.PROCESSED, placed=dt.timedelta(days=3.5 + n))
            _shipment(s, oid, ShipmentStatus.IN_TRANSIT, last_event=dt.timedelta(hours=6))
    first = scan(store, RULES_CONFIG, NOW, incremental=True)  # no watermark yet: everything
    assert first.scanned_orders == 3 and first.new_flags == {}
    later = NOW + dt.timedelta(hours=1)
    with store.write() as s:
        shipment = s.scalars(select(Shipment).where(Shipment.order_id == "#V2")).one()
        shipment.status = ShipmentStatus.RETURNED_TO_SENDER
        s.add(TrackingEvent(shipment_id=shipment.id, occurred_at=later, code=TrackingCode.RETURNED_TO_SENDER, location="C"))
        # Changed without a new event: an incremental scan does not see it, a full one does.
        s.scalars(select(Shipment).where(Shipment.order_id == "#V3")).one().status = ShipmentStatus.RETURNED_TO_SENDER
    second = scan(store, RULES_CONFIG, later, incremental=True)
    assert second.scanned_orders == 1 and second.new_flags == {"returned_to_sender": 1}
    assert scan(store, RULES_CONFIG, later, incremental=True).scanned_orders == 0
    full = scan(store, RULES_CONFIG, later, incremental=False)
    assert full.scanned_orders == 3 and full.new_flags == {"returned_to_sender": 1}
    # Time passing is a change too: four days on, the silent parcel of #V1 has stalled.
    stalled = scan(store, RULES_CONFIG, later + dt.timedelta(days=4), incremental=True)
    assert stalled.new_flags.get("parcel_stalled") == 1


def test_a_sellers_rules_file_overrides_the_shipped_one(store: Store, tmp_path: Path) -> None:
    own = tmp_path / "rules.yaml"
    own.write_text("parcel_stalled:\n  days: 10\n  urgency: red\naddress_red_flags:\n  enabled: false\n")
    rules = load_rules(own)
    assert rules["parcel_stalled"].params["days"] == 10 and rules["parcel_stalled"].urgency == UrgencyLevel.RED
    assert rules["parcel_stalled"].playbook == RULES_CONFIG["parcel_stalled"].playbook
    assert not rules["address_red_flags"].enabled and set(rules.rules) == set(RULES)
    own.write_text("no_such_rule: {}\n")
    with pytest.raises(ValueError, match="unknown rule"):
        load_rules(own)


# ---------------------------------------------------------------- feedback


def test_feedback_and_precision(store: Store) -> None:
    with store.write() as s:
        _customer(s, "carl")
        for n, days in enumerate((4, 5, 6, 8, 10)):
            _order(s, f"#Q{n}", "carl", status=OrderStatus.PROCESSED)
            _shipment(s, f"#Q{n}", ShipmentStatus.IN_TRANSIT, last_event=dt.timedelta(days=days))
    _run(store)
    by_days = {f.measured or 0.0: f.id for f in _flags(store, "parcel_stalled").values()}
    assert sorted(by_days) == [4.0, 5.0, 6.0, 8.0, 10.0]
    for measured, verdict in ((4.0, "false_alarm"), (5.0, "false_alarm"), (6.0, "false_alarm"), (10.0, "confirmed")):
        record_feedback(store, by_days[measured], verdict, "sam@shop.example")
    with store.read() as s:
        flag = s.get_one(Flag, by_days[4.0])
        assert flag.status == FlagStatus.FALSE_ALARM and flag.feedback_by == "sam@shop.example"
    (row,) = [r for r in rule_precision(store) if r["rule"] == "parcel_stalled"]
    # 1 confirmed, 3 false alarms: 1 / 4 = 0.25; false alarms measured 4, 5, 6 days: median 5.
    assert row == {
        "rule": "parcel_stalled",
        "flags": 5,
        "confirmed": 1,
        "false_alarms": 3,
        "precision": 0.25,
        "below_level": True,
        "threshold": "days",
        "current": 3.0,
        "suggested": 5.0,
    }
    record_feedback(store, by_days[8.0], "confirmed", "sam@shop.example")
    record_feedback(store, by_days[4.0], "confirmed", "sam@shop.example")  # changed their mind
    (row,) = [r for r in rule_precision(store, min_precision=0.6) if r["rule"] == "parcel_stalled"]
    assert row["precision"] == 0.6 and not row["below_level"] and row["suggested"] is None  # 3 / 5
    with pytest.raises(ValueError):
        record_feedback(store, by_days[4.0], "maybe", "sam")
    with pytest.raises(LookupError):
        record_feedback(store, 999, "confirmed", "sam")


# ---------------------------------------------------------------- the demo shop


def test_the_demo_shop_gives_every_rule_something_to_find(tmp_path: Path) -> None:
    from commerce.demo import REFERENCE_NOW, generate_demo_data

    store = Store(f"sqlite:///{tmp_path}/demo.db")
    try:
        summary = generate_demo_data(store)
        result = scan(store, RULES_CONFIG, REFERENCE_NOW, incremental=False)
        assert result.scanned_orders == summary.orders
        assert set(result.new_flags) == set(RULES), set(RULES) - set(result.new_flags)
        assert result.new_flags["duplicate_order"] == summary.messy["duplicate_order"]
        assert result.new_flags["oversold"] == summary.messy["oversold_stock"]
        assert scan(store, RULES_CONFIG, REFERENCE_NOW, incremental=False).new_flags == {}
    finally:
        store.dispose()
