"""Each tool on a small constructed shop: what it returns, what it refuses, and that a
refusal changes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from commerce.db import Store
from commerce.models import (
    AuditEntry,
    Case,
    Coupon,
    Exchange,
    Order,
    OrderStatus,
    PaymentMethod,
    Refund,
    ReturnRequest,
    Shipment,
    ShipmentStatus,
    StockLevel,
    UrgencyLevel,
)
from tests.conftest import NOW
from tools import REGISTRY, Caller, Toolbox, ToolKind, tool_schemas

ALICE = Caller(actor="test", customer_id="alice", clock=lambda: NOW)
STAFF = Caller(actor="staff", clock=lambda: NOW)


def call(store: Store, name: str, args: dict[str, Any], *, caller: Caller = ALICE, key: str | None = "k1") -> Any:
    return Toolbox(store, caller).call(name, args, idempotency_key=key)


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a refused write must leave untouched."""
    with store.read() as s:
        orders = {
            o.id: (
                o.status,
                o.items_modified,
                [(t.kind, t.amount, t.payment_method_id) for t in o.transactions],
                [(i.variant_id, i.unit_price) for i in o.items],
                o.ship_address1,
            )
            for o in s.scalars(select(Order))
        }
        balances = {m.id: m.balance for m in s.scalars(select(PaymentMethod))}
        counts = {
            m.__name__: s.scalar(select(func.count()).select_from(m))
            for m in (Refund, ReturnRequest, Exchange, Coupon, Case, Shipment)
        }
        stock = {(x.warehouse_id, x.variant_id): x.reserved for x in s.scalars(select(StockLevel))}
    return {"orders": orders, "balances": balances, "counts": counts, "stock": stock}


# ---------------------------------------------------------------- registry


def test_every_tool_has_a_description_typed_arguments_and_a_schema() -> None:
    assert {
        "issue_refund",
        "create_reshipment",
        "switch_carrier",
        "change_shipping_address",
        "intercept_parcel",
        "cancel_order",
        "modify_order_items",
        "modify_order_payment",
        "return_items",
        "exchange_items",
        "issue_coupon",
        "escalate_to_human",
        "find_customer_by_email",
        "find_customer_by_name_postal_code",
        "get_customer",
        "get_order",
        "track_shipment",
        "get_product",
        "list_product_types",
    } <= set(REGISTRY)
    schemas = tool_schemas()
    assert len(schemas) == len(REGISTRY)
    for schema in schemas:
        function = schema["function"]
        assert function["description"].strip()
        assert function["parameters"]["type"] == "object"
        assert function["parameters"].get("additionalProperties") is False
    writes = {s.name for s in REGISTRY.values() if s.kind is ToolKind.WRITE}
    assert "issue_refund" in writes and "get_order" not in writes


# ---------------------------------------------------------------- reads


def test_find_customer_by_email_and_by_name_and_postal_code(shop: Store) -> None:
    found = call(shop, "find_customer_by_email", {"email": "ALICE@example.com "}, caller=STAFF)
    assert found.ok and found.result == {"customer_id": "alice"}
    found = call(
        shop,
        "find_customer_by_name_postal_code",
        {"first_name": "bob", "last_name": "SMITH", "postal_code": "73301"},
        caller=STAFF,
    )
    assert found.result == {"customer_id": "bob"}
    missing = call(
        shop,
        "find_customer_by_name_postal_code",
        {"first_name": "Bob", "last_name": "Smith", "postal_code": "99999"},
        caller=STAFF,
    )
    assert not missing.ok and missing.error_code == "not_found"


def test_names_with_capitals_outside_ascii_are_found_by_name_and_postal_code(shop: Store) -> None:
    # SQL's lower() leaves Cyrillic and accented capitals alone: the names are compared as Unicode.
    from commerce.models import Customer

    with shop.write() as s:
        s.add(Customer(id="dima", first_name="Дмитрий", last_name="Иванов", email="d@example.kz", postal_code="Z05 T3E2"))
        s.add(Customer(id="elo", first_name="Élodie", last_name="Ünal", email="e@example.fr", postal_code="75011"))
    for first, last, code, wanted in (
        ("дмитрий", "ИВАНОВ", "z05t3e2", "dima"),
        ("ÉLODIE", "ünal", "75011", "elo"),
    ):
        found = call(
            shop,
            "find_customer_by_name_postal_code",
            {"first_name": first, "last_name": last, "postal_code": code},
            caller=STAFF,
        )
        assert found.result == {"customer_id": wanted}


def test_get_customer_shows_cards_by_brand_and_last_four_only(shop: Store) -> None:
    outcome = call(shop, "get_customer", {"customer_id": "alice"})
    assert outcome.ok
    card = outcome.result["payment_methods"][0]
    assert card["description"] == "Visa card ending 4242"
    assert outcome.result["order_ids"][0] == "#A1004"  # oldest first


def test_a_customer_never_reads_another_customers_records(shop: Store) -> None:
    for name, args in (
        ("get_order", {"order_id": "#B2001"}),
        ("get_customer", {"customer_id": "bob"}),
        ("track_shipment", {"order_id": "#B2001"}),
        ("track_shipment", {"tracking_number": "JD2001"}),
    ):
        outcome = call(shop, name, args)
        assert not outcome.ok and outcome.error_code == "forbidden", name


def test_get_order_accepts_a_number_without_hash_and_reports_unknown_ones(shop: Store) -> None:
    outcome = call(shop, "get_order", {"order_id": "A1001"})
    assert outcome.ok and outcome.result["order_id"] == "#A1001"
    assert outcome.result["total"] == "52.00" and len(outcome.result["items"]) == 3
    unknown = call(shop, "get_order", {"order_id": "#NOPE"})
    assert not unknown.ok and unknown.error_code == "not_found" and "#NOPE" in unknown.error


def test_track_shipment_reports_events_and_a_passed_promise(shop: Store) -> None:
    outcome = call(shop, "track_shipment", {"order_id": "#A1003"})
    parcel = outcome.result["parcels"][0]
    assert [e["location"] for e in parcel["events"]] == ["Leipzig", "Paris hub"]
    assert parcel["promised_date_passed"] is True and parcel["days_since_last_event"] == 4


def test_product_reads(shop: Store) -> None:
    product = call(shop, "get_product", {"product_id": "1000000001"}, caller=STAFF)
    assert [v["item_id"] for v in product.result["variants"]] == ["2000000001", "2000000002", "2000000003"]
    assert product.result["variants"][1]["in_stock"] == 4
    types = call(shop, "list_product_types", {}, caller=STAFF)
    assert types.result["product_types"] == {"Mug": "1000000002", "T-Shirt": "1000000001"}


# ---------------------------------------------------------------- bad input changes nothing


@pytest.mark.parametrize(
    ("name", "args", "code"),
    [
        ("issue_refund", {"order_id": "#A1002", "amount": "500.00", "reason": "x"}, "limit_exceeded"),
        ("issue_refund", {"order_id": "#A1002", "amount": "-5", "reason": "x"}, "invalid_argument"),
        ("issue_refund", {"order_id": "#A1002", "amount": "1.234", "reason": "x"}, "invalid_argument"),
        ("issue_refund", {"order_id": "#A1004", "reason": "x"}, "invalid_state"),
        ("issue_refund", {"order_id": "#B2001", "amount": "1", "reason": "x"}, "forbidden"),
        ("issue_refund", {"order_id": "#A1002", "reason": "x", "surprise": 1}, "invalid_argument"),
        ("cancel_order", {"order_id": "#A1002", "reason": "no longer needed"}, "invalid_state"),
        ("cancel_order", {"order_id": "#A1004", "reason": "no longer needed"}, "invalid_state"),
        ("cancel_order", {"order_id": "#ZZZ", "reason": "no longer needed"}, "not_found"),
        (
            "modify_order_items",
            {"order_id": "#A1001", "item_ids": ["2000000001"], "new_item_ids": ["2000000010"], "payment_method_id": "card_alice"},
            "invalid_argument",
        ),
        (
            "modify_order_items",
            {"order_id": "#A1001", "item_ids": ["2000000001"], "new_item_ids": ["2000000003"], "payment_method_id": "card_alice"},
            "out_of_stock",
        ),
        (
            "modify_order_items",
            {
                "order_id": "#A1001",
                "item_ids": ["2000000001"] * 3,
                "new_item_ids": ["2000000002"] * 3,
                "payment_method_id": "card_alice",
            },
            "not_found",
        ),
        (
            "modify_order_items",
            {"order_id": "#A1001", "item_ids": ["2000000001"], "new_item_ids": ["2000000002"], "payment_method_id": "card_bob"},
            "not_found",
        ),
        (
            "modify_order_items",
            {"order_id": "#A1002", "item_ids": ["2000000001"], "new_item_ids": ["2000000002"], "payment_method_id": "card_alice"},
            "invalid_state",
        ),
        ("modify_order_payment", {"order_id": "#A1001", "payment_method_id": "card_alice"}, "invalid_argument"),
        (
            "return_items",
            {"order_id": "#A1002", "item_ids": ["2000000001"], "payment_method_id": "paypal_alice"},
            "invalid_argument",
        ),
        ("return_items", {"order_id": "#A1001", "item_ids": ["2000000001"], "payment_method_id": "card_alice"}, "invalid_state"),
        (
            "exchange_items",
            {"order_id": "#A1002", "item_ids": ["2000000010"], "new_item_ids": ["2000000001"], "payment_method_id": "card_alice"},
            "invalid_argument",
        ),
        (
            "change_shipping_address",
            {"order_id": "#A1003", "address": {"address1": "1 Elm", "city": "Lyon", "postal_code": "69001", "country": "France"}},
            "invalid_state",
        ),
        ("switch_carrier", {"order_id": "#A1003", "carrier": "ups", "service_level": "express"}, "invalid_state"),
        ("switch_carrier", {"order_id": "#A1001", "carrier": "pigeon"}, "invalid_argument"),
        ("switch_carrier", {"order_id": "#A1001", "carrier": "usps", "service_level": "express"}, "invalid_argument"),
        ("intercept_parcel", {"order_id": "#A1002", "action": "return_to_sender"}, "invalid_state"),
        ("intercept_parcel", {"order_id": "#A1003", "action": "redirect"}, "invalid_argument"),
        ("create_reshipment", {"order_id": "#A1001", "item_ids": ["2000000001"], "reason": "lost"}, "invalid_state"),
        (
            "issue_coupon",
            {"customer_id": "alice", "percent_off": 10, "amount_off": "5", "currency": "EUR", "reason": "x"},
            "invalid_argument",
        ),
        ("issue_coupon", {"customer_id": "bob", "percent_off": 10, "reason": "x"}, "forbidden"),
        ("nonexistent_tool", {}, "not_found"),
    ],
)
def test_a_refused_write_explains_itself_and_changes_nothing(shop: Store, name: str, args: dict[str, Any], code: str) -> None:
    before = snapshot(shop)
    outcome = call(shop, name, args)
    assert not outcome.ok, outcome
    assert outcome.error_code == code, outcome.error
    assert outcome.error and len(outcome.error) < 300
    assert snapshot(shop) == before


def test_a_write_without_an_idempotency_key_is_refused(shop: Store) -> None:
    outcome = call(shop, "issue_refund", {"order_id": "#A1002", "reason": "x"}, key=None)
    assert not outcome.ok and "idempotency key" in (outcome.error or "")


def test_an_idempotency_key_longer_than_the_ledger_keeps_is_refused(shop: Store) -> None:
    # SQLite does not check a column's length: a 5,000-letter key was stored before.
    before = snapshot(shop)
    outcome = call(shop, "issue_refund", {"order_id": "#A1002", "amount": "5", "reason": "x"}, key="k" * 5000)
    assert not outcome.ok and outcome.error_code == "invalid_argument" and "at most 200" in (outcome.error or "")
    assert snapshot(shop) == before
    assert call(shop, "issue_refund", {"order_id": "#A1002", "amount": "5", "reason": "x"}, key="k" * 200).ok


def test_refusals_are_audited_without_claiming_the_key(shop: Store) -> None:
    call(shop, "issue_refund", {"order_id": "#A1002", "amount": "500", "reason": "x"}, key="same")
    with shop.read() as s:
        entry = s.scalars(select(AuditEntry)).one()
        assert entry.ok is False and entry.idempotency_key is None and "limit_exceeded" in (entry.error or "")
    ok = call(shop, "issue_refund", {"order_id": "#A1002", "amount": "5", "reason": "x"}, key="same")
    assert ok.ok and not ok.replayed


# ---------------------------------------------------------------- writes that succeed


def test_partial_then_full_refund_never_exceeds_what_was_paid(shop: Store) -> None:
    first = call(shop, "issue_refund", {"order_id": "#A1002", "amount": "12.00", "reason": "mug chipped"}, key="r1")
    assert first.ok and first.result["refunds"][0]["arrives"] == "5-7 business days"
    rest = call(shop, "issue_refund", {"order_id": "#A1002", "reason": "all of it"}, key="r2")
    assert rest.ok and rest.result["amount"] == "20.00"
    again = call(shop, "issue_refund", {"order_id": "#A1002", "amount": "0.01", "reason": "x"}, key="r3")
    assert not again.ok and again.error_code == "invalid_state"


def test_refund_to_a_gift_card_credits_it_at_once(shop: Store) -> None:
    outcome = call(shop, "issue_refund", {"order_id": "#A1002", "amount": "10", "destination": "gift_card", "reason": "x"})
    assert outcome.ok and outcome.result["refunds"][0]["arrives"] == "immediately"
    with shop.read() as s:
        assert s.get(PaymentMethod, "gift_alice").balance == Decimal("60.00")


def test_cancel_refunds_the_original_method(shop: Store) -> None:
    outcome = call(shop, "cancel_order", {"order_id": "#A1005", "reason": "ordered by mistake"})
    assert outcome.ok and outcome.result["status"] == "cancelled"
    with shop.read() as s:
        order = s.get(Order, "#A1005")
        assert order.status == OrderStatus.CANCELLED and order.cancel_reason == "ordered by mistake"
        assert [(t.kind.value, t.amount) for t in order.transactions] == [
            ("payment", Decimal("20.00")),
            ("refund", Decimal("20.00")),
        ]
        assert s.get(PaymentMethod, "gift_alice").balance == Decimal("70.00")


def test_modify_items_charges_the_difference_and_can_use_a_gift_card(shop: Store) -> None:
    outcome = call(
        shop,
        "modify_order_items",
        {
            "order_id": "#A1001",
            "item_ids": ["2000000001", "2000000001"],
            "new_item_ids": ["2000000002", "2000000002"],
            "payment_method_id": "gift_alice",
        },
    )
    assert outcome.ok and outcome.result["price_difference"] == "5.00"
    with shop.read() as s:
        order = s.get(Order, "#A1001")
        assert [i.variant_id for i in order.items] == ["2000000002", "2000000002", "2000000010"]
        assert order.items_modified and order.total == Decimal("57.00")
        assert s.get(PaymentMethod, "gift_alice").balance == Decimal("45.00")


def test_modify_payment_moves_the_charge(shop: Store) -> None:
    outcome = call(shop, "modify_order_payment", {"order_id": "#A1005", "payment_method_id": "card_alice"})
    assert outcome.ok
    with shop.read() as s:
        order = s.get(Order, "#A1005")
        assert [(t.kind.value, t.payment_method_id) for t in order.transactions] == [
            ("payment", "gift_alice"),
            ("payment", "card_alice"),
            ("refund", "gift_alice"),
        ]
        assert s.get(PaymentMethod, "gift_alice").balance == Decimal("70.00")


def test_gift_card_balance_must_cover_a_new_payment(shop: Store) -> None:
    outcome = call(shop, "modify_order_payment", {"order_id": "#A1001", "payment_method_id": "gift_alice"})
    assert not outcome.ok and outcome.error == "insufficient gift card balance to pay for the order"


def test_return_and_exchange_of_a_delivered_order(shop: Store) -> None:
    returned = call(
        shop, "return_items", {"order_id": "#A1002", "item_ids": ["2000000010"], "payment_method_id": "gift_alice"}, key="a"
    )
    assert returned.ok and returned.result["refund_amount"] == "12.00"
    with shop.read() as s:
        assert s.get(Order, "#A1002").status == OrderStatus.RETURN_REQUESTED
    bob = Caller(actor="test", customer_id="bob", clock=lambda: NOW)
    exchanged = call(
        shop,
        "exchange_items",
        {"order_id": "#B2001", "item_ids": ["2000000001"], "new_item_ids": ["2000000002"], "payment_method_id": "card_bob"},
        caller=bob,
        key="b",
    )
    assert exchanged.ok and exchanged.result["price_difference"] == "2.50"


def test_the_other_item_of_a_return_may_be_exchanged_but_no_item_goes_back_twice(shop: Store) -> None:
    mug, shirt = "2000000010", "2000000001"
    returned = call(shop, "return_items", {"order_id": "#A1002", "item_ids": [mug], "payment_method_id": "gift_alice"}, key="a")
    assert returned.ok
    exchanged = call(
        shop,
        "exchange_items",
        {"order_id": "#A1002", "item_ids": [shirt], "new_item_ids": ["2000000002"], "payment_method_id": "gift_alice"},
        key="b",
    )
    assert exchanged.ok, exchanged.error
    again = call(shop, "return_items", {"order_id": "#A1002", "item_ids": [mug], "payment_method_id": "gift_alice"}, key="c")
    assert not again.ok and again.error_code == "invalid_state" and mug in (again.error or "")
    with shop.read() as s:
        order = s.get(Order, "#A1002")
        assert order is not None and order.status == OrderStatus.RETURN_REQUESTED
        assert [r.item_ids for r in order.returns] == [[mug]] and [e.item_ids for e in order.exchanges] == [[shirt]]


def test_address_change_carrier_switch_intercept_and_reshipment(shop: Store) -> None:
    address = {
        "name": "Alice Martin",
        "address1": "3 quai Perrache",
        "city": "Lyon",
        "postal_code": "69002",
        "country": "France",
        "country_code": "FR",
    }
    assert call(shop, "change_shipping_address", {"order_id": "#A1001", "address": address}, key="1").ok
    switched = call(shop, "switch_carrier", {"order_id": "#A1001", "carrier": "UPS", "service_level": "express"}, key="2")
    assert switched.ok and switched.result["carrier"] == "ups"
    intercepted = call(shop, "intercept_parcel", {"order_id": "#A1003", "action": "redirect", "address": address}, key="3")
    assert intercepted.ok
    reship = call(shop, "create_reshipment", {"order_id": "#A1002", "item_ids": ["2000000001"], "reason": "damaged"}, key="4")
    assert reship.ok and reship.result["warehouse_id"] == "us-east"
    with shop.read() as s:
        assert s.get(Order, "#A1001").ship_city == "Lyon"
        assert s.get(Order, "#A1003").shipments[0].status == ShipmentStatus.INTERCEPTED
        assert s.get(Order, "#A1003").ship_postal_code == "69002"
        level = s.scalars(select(StockLevel).where(StockLevel.variant_id == "2000000001")).one()
        assert level.reserved == 1


def test_reshipment_needs_stock_somewhere(shop: Store) -> None:
    with shop.write() as s:
        for level in s.scalars(select(StockLevel).where(StockLevel.variant_id == "2000000010")):
            level.on_hand = 0
    outcome = call(shop, "create_reshipment", {"order_id": "#A1002", "item_ids": ["2000000010"], "reason": "lost"})
    assert not outcome.ok and outcome.error_code == "out_of_stock"


def test_coupon_and_escalation(shop: Store) -> None:
    coupon = call(
        shop, "issue_coupon", {"customer_id": "alice", "order_id": "#A1003", "percent_off": 10, "reason": "late parcel"}, key="c"
    )
    assert coupon.ok and coupon.result["code"].startswith("HW-")
    case = call(shop, "escalate_to_human", {"order_id": "#A1003", "reason": "chargeback threat", "urgency": "red"}, key="e")
    assert case.ok and case.result["urgency"] == "red"
    with shop.read() as s:
        stored = s.get(Case, case.result["case_id"])
        assert stored.urgency == UrgencyLevel.RED and stored.customer_id == "alice"
        assert (stored.sla_due_at - NOW).total_seconds() == 3600
