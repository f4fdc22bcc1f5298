"""The demo shop: realistic enough to demo on, consistent enough to test on, and the same
rows for the same seed."""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from commerce.carriers import CARRIERS
from commerce.db import Store
from commerce.demo import REFERENCE_NOW, DemoSummary, generate_demo_data
from commerce.models import (
    Base,
    Customer,
    Exchange,
    Marketplace,
    Order,
    OrderStatus,
    PaymentKind,
    Product,
    ProductIssue,
    ReturnRequest,
    Shipment,
    ShipmentStatus,
    StockLevel,
    TrackingCode,
    TrackingEvent,
    Variant,
    Warehouse,
)
from commerce.money import convert

ROOT = Path(__file__).resolve().parents[2]
NOW = REFERENCE_NOW
STALL = dt.timedelta(days=3)
SMALL: dict[str, Any] = {"customers": 60, "orders": 200}
TINY: dict[str, Any] = {"customers": 20, "orders": 60}

LANGUAGES = {"en", "es", "fr", "de", "it", "pt", "nl", "pl", "tr", "ru", "ar", "zh", "ja", "ko"}
POSTAL = {
    "US": r"\d{5}",
    "GB": r"[A-Z]{1,2}\d{1,2}[A-Z]? \d[A-Z]{2}",
    "DE": r"\d{5}",
    "FR": r"\d{5}",
    "ES": r"\d{5}",
    "IT": r"\d{5}",
    "NL": r"\d{4} [A-Z]{2}",
    "PL": r"\d{2}-\d{3}",
    "JP": r"\d{3}-\d{4}",
    "KR": r"\d{5}",
    "BR": r"\d{5}-\d{3}",
    "TR": r"\d{5}",
    "MX": r"\d{5}",
    "CN": r"\d{6}",
    "SA": r"\d{5}",
    "KZ": r"[A-Z]\d{2}[A-Z]\d[A-Z]\d",
}
PHONE = {
    "US": "+1 ",
    "GB": "+44 ",
    "DE": "+49 ",
    "FR": "+33 ",
    "ES": "+34 ",
    "IT": "+39 ",
    "NL": "+31 ",
    "PL": "+48 ",
    "JP": "+81 ",
    "KR": "+82 ",
    "BR": "+55 ",
    "TR": "+90 ",
    "MX": "+52 ",
    "CN": "+86 ",
    "SA": "+966 ",
    "KZ": "+7 ",
}
LANGUAGE = {
    "US": "en",
    "GB": "en",
    "DE": "de",
    "FR": "fr",
    "ES": "es",
    "IT": "it",
    "NL": "nl",
    "PL": "pl",
    "JP": "ja",
    "KR": "ko",
    "BR": "pt",
    "TR": "tr",
    "MX": "es",
    "CN": "zh",
    "SA": "ar",
    "KZ": "ru",
}
CURRENCY = {
    "US": "USD",
    "GB": "GBP",
    "DE": "EUR",
    "FR": "EUR",
    "ES": "EUR",
    "IT": "EUR",
    "NL": "EUR",
    "PL": "PLN",
    "JP": "JPY",
    "KR": "KRW",
    "BR": "BRL",
    "TR": "TRY",
    "MX": "MXN",
    "CN": "CNY",
    "SA": "SAR",
    "KZ": "KZT",
}
ORDER_NUMBER = {
    Marketplace.AMAZON: r"\d{3}-\d{7}-\d{7}",
    Marketplace.EBAY: r"\d{2}-\d{5}-\d{5}",
    Marketplace.SHOPIFY: r"#\d{4,}",
    Marketplace.OWN_SITE: r"#W\d{7}",
}


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, DemoSummary]]:
    """The default-size shop, generated once for the whole module (without the exception monitor's
    extra cases, which break the ordinary shop's rules on purpose)."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('demo')}/x.db")
    summary = generate_demo_data(store, exceptions=False)
    yield store, summary
    store.dispose()


@pytest.fixture(scope="module")
def db(demo: tuple[Store, DemoSummary]) -> Iterator[Session]:
    """One read-only session on the shop, open while the module's tests look at it."""
    with demo[0].read() as session:
        yield session


@pytest.fixture(scope="module")
def orders(db: Session) -> list[Order]:
    """Every order with its items, payments, records, parcels and scans, oldest first."""
    return list(
        db.scalars(
            select(Order)
            .order_by(Order.placed_at, Order.id)
            .options(
                selectinload(Order.items),
                selectinload(Order.transactions),
                selectinload(Order.refunds),
                selectinload(Order.returns),
                selectinload(Order.exchanges),
                selectinload(Order.shipments).selectinload(Shipment.events),
            )
        )
    )


def _dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    with store.engine.connect() as conn:
        return {
            table.name: [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
            for table in Base.metadata.sorted_tables
        }


def _generate(path: Path, **kwargs: Any) -> dict[str, list[tuple[Any, ...]]]:
    store = Store(f"sqlite:///{path}")
    try:
        generate_demo_data(store, **kwargs)
        return _dump(store)
    finally:
        store.dispose()


def _last_event_codes(session: Session) -> dict[int, tuple[TrackingCode, dt.datetime]]:
    shipments = session.scalars(select(Shipment).options(selectinload(Shipment.events))).all()
    return {s.id: (s.events[-1].code, s.events[-1].occurred_at) for s in shipments if s.events}


# ---------------------------------------------------------------- size and spread


def test_default_sizes_meet_the_minimums(demo: tuple[Store, DemoSummary], db: Session) -> None:
    _, summary = demo
    customers = db.scalar(select(func.count()).select_from(Customer))
    n_orders = db.scalar(select(func.count()).select_from(Order))
    countries = set(db.scalars(select(Customer.country_code).distinct()))
    languages = set(db.scalars(select(Customer.preferred_language).distinct()))
    marketplaces = set(db.scalars(select(Order.marketplace).distinct()))
    carriers = set(db.scalars(select(Shipment.carrier).distinct()))
    currencies = set(db.scalars(select(Order.currency).distinct()))
    shipments = db.scalar(select(func.count()).select_from(Shipment))
    assert customers == summary.customers >= 500
    assert n_orders == summary.orders >= 2000
    assert len(countries) >= 8 and sorted(countries) == summary.countries
    assert languages == LANGUAGES
    assert len(marketplaces) >= 3 and sorted(m.value for m in marketplaces) == summary.marketplaces
    assert len(carriers) >= 4 and carriers <= set(CARRIERS) and sorted(carriers) == summary.carriers
    assert len(currencies) >= 3 and sorted(currencies) == summary.currencies
    assert shipments == summary.shipments


def test_status_mix_is_roughly_the_planned_one(orders: list[Order]) -> None:
    share = {status: n / len(orders) for status, n in Counter(o.status for o in orders).items()}
    assert 0.15 <= share[OrderStatus.PENDING] <= 0.25
    assert 0.25 <= share[OrderStatus.PROCESSED] <= 0.35
    assert 0.35 <= share[OrderStatus.DELIVERED] <= 0.45
    assert 0.03 <= share[OrderStatus.CANCELLED] <= 0.07
    assert share[OrderStatus.RETURN_REQUESTED] > 0 and share[OrderStatus.EXCHANGE_REQUESTED] > 0


# ---------------------------------------------------------------- customers and catalogue


def test_customers_look_like_real_people_in_their_country(db: Session, orders: list[Order]) -> None:
    customers = db.scalars(select(Customer).options(selectinload(Customer.payment_methods))).all()
    assert len({c.email for c in customers}) == len(customers)
    for c in customers:
        cc = c.country_code
        assert re.fullmatch(r"cus_\d{5}", c.id)
        assert re.fullmatch(POSTAL[cc], c.postal_code), (c.id, c.postal_code)
        assert c.phone is not None and c.phone.startswith(PHONE[cc]), (c.id, c.phone)
        assert c.preferred_language == LANGUAGE[cc]
        assert c.first_name and c.last_name and c.address1 and c.city and c.country
        assert c.created_at <= NOW and c.lifetime_value_currency == "USD"
        assert 1 <= len(c.payment_methods) <= 3
        for m in c.payment_methods:
            assert re.fullmatch(rf"{m.kind.value}_\d{{7}}", m.id)
            if m.kind == PaymentKind.GIFT_CARD:
                assert m.balance is not None and m.currency == CURRENCY[cc]
            if m.kind == PaymentKind.CREDIT_CARD:
                assert m.brand and m.last_four and len(m.last_four) == 4

    # Lifetime value is what the customer spent, in dollars (cancelled orders were refunded).
    spent: dict[str, Decimal] = {}
    first_order: dict[str, dt.datetime] = {}
    for o in orders:
        first_order.setdefault(o.customer_id, o.placed_at)
        if o.status != OrderStatus.CANCELLED:
            spent[o.customer_id] = spent.get(o.customer_id, Decimal("0")) + o.total / o.fx_rate
    for c in customers:
        assert abs(c.lifetime_value - spent.get(c.id, Decimal("0"))) <= Decimal("0.01")
        if c.id in first_order:
            assert c.created_at < first_order[c.id]
    vips = [c for c in customers if c.is_vip]
    others = [c for c in customers if not c.is_vip]
    assert vips and min(c.lifetime_value for c in vips) >= max(c.lifetime_value for c in others)


def test_catalogue_warehouses_and_stock(demo: tuple[Store, DemoSummary], db: Session) -> None:
    _, summary = demo
    products = db.scalars(select(Product).options(selectinload(Product.variants))).all()
    warehouses = db.scalars(select(Warehouse)).all()
    stock = db.scalars(select(StockLevel)).all()
    variants = [v for p in products for v in p.variants]
    assert 35 <= len(products) == summary.products <= 50
    assert len(variants) == summary.variants
    assert all(len(p.variants) >= 3 for p in products)
    assert all(re.fullmatch(r"[1-9]\d{9}", x) for x in [*(p.id for p in products), *(v.id for v in variants)])
    assert all(v.price > 0 and v.options for v in variants)
    assert sum(v.available for v in variants) / len(variants) > 0.85
    assert 3 <= len(warehouses) == summary.warehouses <= 5
    assert {(lvl.warehouse_id, lvl.variant_id) for lvl in stock} == {(w.id, v.id) for w in warehouses for v in variants}
    assert all(lvl.on_hand >= 0 and lvl.reserved >= 0 for lvl in stock)


def test_the_whole_range_is_on_sale_beside_the_ordered_variants(db: Session, orders: list[Order]) -> None:
    products = {p.name: p for p in db.scalars(select(Product).options(selectinload(Product.variants)))}
    shirts = {(v.options["color"], v.options["size"], v.options["material"]): v for v in products["T-Shirt"].variants}
    # Every colour and size, the extra ones too ("beige", "XXL"), in both materials.
    assert len(shirts) == 9 * 6 * 2
    assert ("black", "L", "cotton") in shirts and ("beige", "XXL", "organic cotton") in shirts
    jackets = {v.options["color"] for v in products["Rain Jacket"].variants}
    assert {"yellow", "black", "red", "grey", "green", "beige"} <= jackets
    # The variants of the range are no order's: the orders keep the few they were drawn from.
    ordered = {item.variant_id for o in orders for item in o.items}
    extra = [v for p in products.values() for v in p.variants if v.sku.endswith(tuple(f"{n:02d}" for n in range(8, 100)))]
    assert extra and not ordered & {v.id for v in extra}
    # Positions and SKUs stay unique within a product.
    for product in products.values():
        assert len({v.position for v in product.variants}) == len({v.sku for v in product.variants}) == len(product.variants)


# ---------------------------------------------------------------- orders and payments


def test_every_order_adds_up(db: Session, orders: list[Order]) -> None:
    variants = {v.id: v for v in db.scalars(select(Variant))}
    customers = {c.id: c for c in db.scalars(select(Customer))}
    for o in orders:
        assert 1 <= len(o.items) <= 4
        assert [i.position for i in o.items] == list(range(len(o.items)))
        for item in o.items:
            variant = variants[item.variant_id]
            assert item.product_id == variant.product_id and item.options == variant.options
            assert item.unit_price == convert(variant.price, o.fx_rate, o.currency)
        assert o.subtotal == sum((i.unit_price * i.quantity for i in o.items), Decimal("0")), o.id
        assert o.total == o.subtotal + o.shipping_fee + o.tax, o.id
        assert o.amount_paid == o.total, o.id
        assert o.currency == CURRENCY[o.ship_country_code]
        if o.currency in ("JPY", "KRW"):
            assert o.total == o.total.to_integral_value()
        customer = customers[o.customer_id]
        assert (o.ship_address1, o.ship_city, o.ship_postal_code, o.ship_country_code) == (
            customer.address1,
            customer.city,
            customer.postal_code,
            customer.country_code,
        )
        assert o.ip_address is not None and ipaddress.ip_address(o.ip_address).version == 4
        assert o.placed_at <= NOW
        assert all(t.created_at >= o.placed_at for t in o.transactions)


def test_cancellations_returns_and_exchanges_have_their_records(orders: list[Order]) -> None:
    for o in orders:
        if o.status == OrderStatus.CANCELLED:
            assert o.cancel_reason and o.cancelled_at is not None and o.cancelled_at > o.placed_at
            assert o.amount_refunded == o.total and not o.shipments
            assert [r.amount for r in o.refunds] == [o.total]
        else:
            assert o.amount_refunded == 0 and not o.refunds
        if o.status == OrderStatus.PENDING:
            assert not o.shipments
        ordered = {i.variant_id for i in o.items}
        if o.status == OrderStatus.RETURN_REQUESTED:
            (ret,) = o.returns
            assert ret.item_ids and set(ret.item_ids) <= ordered and ret.reason
            assert ret.created_at <= NOW
        if o.status == OrderStatus.EXCHANGE_REQUESTED:
            (exchange,) = o.exchanges
            assert set(exchange.item_ids) <= ordered and exchange.new_item_ids
            assert not set(exchange.new_item_ids) & set(exchange.item_ids)


def test_order_numbers_follow_each_marketplace(orders: list[Order]) -> None:
    for o in orders:
        assert re.fullmatch(ORDER_NUMBER[o.marketplace], o.id), (o.marketplace, o.id)
    shopify = [int(o.id[1:]) for o in orders if o.marketplace == Marketplace.SHOPIFY]  # orders are in placed order
    assert shopify == sorted(shopify) and len(set(shopify)) == len(shopify) and shopify[0] == 1001


# ---------------------------------------------------------------- shipments and tracking


def test_shipments_match_their_carrier(orders: list[Order]) -> None:
    tracking: list[str] = []
    for o in orders:
        shipped = o.status in (
            OrderStatus.PROCESSED,
            OrderStatus.DELIVERED,
            OrderStatus.RETURN_REQUESTED,
            OrderStatus.EXCHANGE_REQUESTED,
        )
        assert bool(o.shipments) == shipped, o.id
        for sh in o.shipments:
            carrier = CARRIERS[sh.carrier]
            assert sh.service_level in carrier.service_levels
            assert sh.tracking_number.startswith(carrier.tracking_prefix)
            if sh.status == ShipmentStatus.LABEL_CREATED:
                # Printed and waiting at the warehouse: no pickup yet, a promise counted from the planned one.
                assert sh.shipped_at is None and sh.promised_delivery_date is not None
            else:
                assert sh.shipped_at is not None and sh.shipped_at > o.placed_at
                transit = dt.timedelta(days=carrier.transit_days[sh.service_level])
                assert sh.promised_delivery_date == sh.shipped_at.date() + transit
            assert sh.item_ids and set(sh.item_ids) <= {i.variant_id for i in o.items}
            assert (sh.status == ShipmentStatus.DELIVERED) == (o.status != OrderStatus.PROCESSED)
            tracking.append(sh.tracking_number)
    assert len(set(tracking)) == len(tracking)


def test_some_parcels_wait_for_the_carrier(orders: list[Order]) -> None:
    # Before pickup an address change, a carrier switch or a cancellation is still possible.
    waiting = [o for o in orders if o.shipments and o.shipments[-1].status == ShipmentStatus.LABEL_CREATED]
    assert len(waiting) >= 5
    assert all(o.status == OrderStatus.PROCESSED for o in waiting)


def test_tracking_events_run_forward_in_time(orders: list[Order]) -> None:
    for o in orders:
        for sh in o.shipments:
            events = sorted(sh.events, key=lambda e: e.id)
            times = [e.occurred_at for e in events]
            assert all(a < b for a, b in itertools.pairwise(times)), sh.tracking_number
            assert times[-1] <= NOW
            assert events[0].code == TrackingCode.LABEL_CREATED and events[0].occurred_at > o.placed_at
            if sh.status == ShipmentStatus.LABEL_CREATED:
                assert len(events) == 1
                continue
            assert events[1].code == TrackingCode.PICKED_UP and events[1].occurred_at == sh.shipped_at
            assert all(e.description and e.location and e.country_code for e in events)
            if sh.status == ShipmentStatus.DELIVERED:
                assert events[-1].code == TrackingCode.DELIVERED and sh.delivered_at == events[-1].occurred_at
                assert events[-2].code == TrackingCode.OUT_FOR_DELIVERY
            else:
                assert sh.delivered_at is None
                assert TrackingCode.DELIVERED not in {e.code for e in events}


# ---------------------------------------------------------------- the cases support works on


def test_each_messy_case_is_in_the_store(demo: tuple[Store, DemoSummary], db: Session, orders: list[Order]) -> None:
    _, summary = demo
    found: dict[str, int] = {}
    last = _last_event_codes(db)
    shipments = db.scalars(select(Shipment)).all()
    found["customs_hold"] = sum(
        1
        for sh in shipments
        if sh.status == ShipmentStatus.CUSTOMS_HOLD
        and last[sh.id][0] == TrackingCode.CUSTOMS_HOLD
        and NOW - last[sh.id][1] > STALL
    )
    found["stalled_no_events"] = sum(
        1 for sh in shipments if sh.status == ShipmentStatus.IN_TRANSIT and NOW - last[sh.id][1] > STALL
    )
    found["promised_date_passed"] = sum(
        1
        for sh in shipments
        if sh.status not in (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER)
        and sh.promised_delivery_date is not None
        and sh.promised_delivery_date < NOW.date()
    )
    found["returned_to_sender"] = sum(
        1
        for sh in shipments
        if sh.status == ShipmentStatus.RETURNED_TO_SENDER and last[sh.id][0] == TrackingCode.RETURNED_TO_SENDER
    )
    for issue in ProductIssue:
        found[issue.value] = (
            db.scalar(select(func.count()).select_from(Order).where(Order.issue == issue, Order.status == OrderStatus.DELIVERED))
            or 0
        )
    per_variant = db.execute(
        select(StockLevel.variant_id, func.sum(StockLevel.on_hand), func.sum(StockLevel.reserved)).group_by(StockLevel.variant_id)
    ).all()
    found["oversold_stock"] = sum(1 for _, on_hand, reserved in per_variant if reserved > on_hand)

    by_id = {o.id: o for o in orders}
    duplicates = [o for o in orders if o.duplicate_of is not None]
    for dup in duplicates:
        original = by_id[dup.duplicate_of or ""]
        assert dup.customer_id == original.customer_id
        assert [(i.variant_id, i.quantity) for i in dup.items] == [(i.variant_id, i.quantity) for i in original.items]
        assert dt.timedelta(0) < dup.placed_at - original.placed_at <= dt.timedelta(minutes=10)
    found["duplicate_order"] = len(duplicates)

    for o in orders:
        if o.issue == ProductIssue.DAMAGED_ON_ARRIVAL:
            codes = [e.code for e in o.shipments[0].events]
            assert TrackingCode.DAMAGED in codes and codes.index(TrackingCode.DAMAGED) < codes.index(TrackingCode.DELIVERED)

    assert found == summary.messy
    assert all(n >= 10 for n in found.values()), found


# ---------------------------------------------------------------- determinism


@pytest.mark.slow
def test_same_seed_writes_the_same_rows_in_any_process(demo: tuple[Store, DemoSummary], tmp_path: Path) -> None:
    """The second generation runs in a process with another string-hash seed, so nothing may
    depend on set or hash order."""
    script = (
        "import sys; from commerce.db import Store; from commerce.demo import generate_demo_data; "
        "s = Store(sys.argv[1]); generate_demo_data(s, exceptions=False); s.dispose()"
    )
    url = f"sqlite:///{tmp_path}/again.db"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", script, url], cwd=ROOT, env=env, check=True)
    again = Store(url, create=False)
    try:
        assert _dump(again) == _dump(demo[0])
    finally:
        again.dispose()


def test_another_seed_writes_other_rows(tmp_path: Path) -> None:
    seven = _generate(tmp_path / "a.db", seed=7, **TINY)
    eight = _generate(tmp_path / "b.db", seed=8, **TINY)
    assert seven["orders"] != eight["orders"] and seven["customers"] != eight["customers"]


def test_dates_are_relative_to_now_and_progress_is_reported(tmp_path: Path) -> None:
    later = NOW + dt.timedelta(days=100, hours=5)
    calls: list[tuple[int, int]] = []
    store = Store(f"sqlite:///{tmp_path}/later.db")
    try:
        summary = generate_demo_data(store, seed=3, now=later, progress=lambda done, total: calls.append((done, total)), **SMALL)
        with store.read() as s:
            newest = s.scalar(select(func.max(Order.placed_at)))
            oldest = s.scalar(select(func.min(Order.placed_at)))
            last_scan = s.scalar(select(func.max(TrackingEvent.occurred_at)))
            requests = [*s.scalars(select(ReturnRequest.created_at)), *s.scalars(select(Exchange.created_at))]
    finally:
        store.dispose()
    assert newest is not None and oldest is not None and last_scan is not None
    assert later - dt.timedelta(days=3) < newest <= later
    assert oldest >= later - dt.timedelta(days=366)
    assert last_scan <= later and all(t <= later for t in requests)
    assert summary.orders == SMALL["orders"]
    assert calls[-1] == (SMALL["orders"], SMALL["orders"])
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_a_tiny_shop_has_exactly_what_was_asked_for(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/x.db")
    try:
        summary = generate_demo_data(store, customers=1, orders=3)
        with store.read() as s:
            assert s.scalar(select(func.count()).select_from(Order)) == summary.orders == 3
            assert s.scalar(select(func.count()).select_from(Customer)) == summary.customers == 1
        with pytest.raises(ValueError):
            generate_demo_data(store, customers=0)
    finally:
        store.dispose()
