"""Carrier events coming in: matching parcels, messy feeds, duplicates, and status moves."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from commerce.db import Store
from commerce.demo import generate_demo_data
from commerce.models import Order, OrderStatus, Shipment, ShipmentStatus, TrackingCode, TrackingEvent
from commerce.simulator import WORDING, next_start, simulate_events
from commerce.tracking import code_from_words, ingest_events
from tests.conftest import NOW, build_shop


def line(**fields: Any) -> str:
    event = {
        "carrier": "dhl",
        "tracking_number": "JD1003",
        "code": "in_transit",
        "occurred_at": (NOW + dt.timedelta(hours=1)).isoformat(),
        "location": "Paris",
        "description": "",
    }
    event.update(fields)
    return json.dumps({k: v for k, v in event.items() if v is not None}, ensure_ascii=False)


def parcel(store: Store, number: str = "JD1003") -> Shipment:
    with store.read() as session:
        shipment = session.scalars(select(Shipment).where(Shipment.tracking_number == number)).one()
        session.expunge(shipment)
        return shipment


def event_count(store: Store) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(TrackingEvent)) or 0)


def order_status(store: Store, order_id: str) -> OrderStatus:
    with store.read() as session:
        order = session.get(Order, order_id)
        assert order is not None
        return order.status


@pytest.fixture
def shop(store: Store) -> Store:
    build_shop(store)
    return store


def test_a_delivery_scan_delivers_the_parcel_and_the_order(shop: Store) -> None:
    at = "2026-11-21T10:30:00+01:00"
    result = ingest_events(shop, [line(tracking_number=" jd 10 03 ", code="delivered", occurred_at=at, location="Paris")])
    assert (result.read, result.stored, result.rejected, result.shipments_updated, result.orders_delivered) == (1, 1, 0, 1, 1)
    shipment = parcel(shop)
    assert shipment.status == ShipmentStatus.DELIVERED
    assert shipment.delivered_at == dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.UTC)
    assert order_status(shop, "#A1003") == OrderStatus.DELIVERED


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("customs_hold", ShipmentStatus.CUSTOMS_HOLD),
        ("returned_to_sender", ShipmentStatus.RETURNED_TO_SENDER),
        ("out_for_delivery", ShipmentStatus.OUT_FOR_DELIVERY),
        ("delivery_failed", ShipmentStatus.EXCEPTION),
        ("intercept_requested", ShipmentStatus.INTERCEPTED),
        ("customs_cleared", ShipmentStatus.IN_TRANSIT),
        ("Out-For-Delivery", ShipmentStatus.OUT_FOR_DELIVERY),
    ],
)
def test_the_newest_event_sets_the_status(shop: Store, code: str, status: ShipmentStatus) -> None:
    result = ingest_events(shop, [line(code=code)])
    assert result.stored == 1 and result.rejected == 0
    assert parcel(shop).status == status
    assert parcel(shop).delivered_at is None
    assert order_status(shop, "#A1003") == OrderStatus.PROCESSED


def test_ingesting_the_same_feed_twice_adds_nothing(shop: Store) -> None:
    feed = [
        line(code="arrived_at_hub", occurred_at="2026-11-20T13:00:00+00:00"),
        line(code="out_for_delivery", occurred_at="2026-11-21T07:00:00+01:00"),
        line(code="delivered", occurred_at="2026-11-21T11:00:00+01:00"),
    ]
    first = ingest_events(shop, feed)
    assert (first.stored, first.duplicates, first.shipments_updated) == (3, 0, 1)
    count = event_count(shop)
    again = ingest_events(shop, feed)
    assert (again.read, again.stored, again.duplicates, again.shipments_updated, again.orders_delivered) == (3, 0, 3, 0, 0)
    assert event_count(shop) == count
    # The same instant written with another offset is the same event.
    shifted = ingest_events(shop, [line(code="delivered", occurred_at="2026-11-21T10:00:00Z")])
    assert (shifted.stored, shifted.duplicates) == (0, 1)


def test_a_duplicate_inside_one_feed_is_stored_once(shop: Store) -> None:
    same = line(code="arrived_at_hub")
    result = ingest_events(shop, [same, same])
    assert (result.read, result.stored, result.duplicates) == (2, 1, 1)


def test_an_event_already_in_the_store_is_a_duplicate(shop: Store) -> None:
    result = ingest_events(shop, [line(code="in_transit", occurred_at=(NOW - dt.timedelta(days=4)).isoformat())])
    assert (result.stored, result.duplicates) == (0, 1)


def test_an_older_event_is_kept_but_does_not_move_the_status_back(shop: Store) -> None:
    ingest_events(shop, [line(code="delivered", occurred_at="2026-11-21T10:00:00+00:00")])
    before = event_count(shop)
    result = ingest_events(shop, [line(code="out_for_delivery", occurred_at="2026-11-21T06:00:00+00:00")])
    assert (result.stored, result.late, result.shipments_updated) == (1, 1, 0)
    assert event_count(shop) == before + 1
    shipment = parcel(shop)
    assert shipment.status == ShipmentStatus.DELIVERED
    assert shipment.delivered_at == dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC)


def test_within_one_feed_the_newest_event_wins_whatever_the_order(shop: Store) -> None:
    result = ingest_events(
        shop,
        [
            line(code="delivered", occurred_at="2026-11-21T10:00:00+00:00"),
            line(code="out_for_delivery", occurred_at="2026-11-21T06:00:00+00:00"),
        ],
    )
    assert (result.stored, result.late) == (2, 1)
    assert parcel(shop).status == ShipmentStatus.DELIVERED


def test_an_event_older_than_the_stored_history_leaves_the_status(shop: Store) -> None:
    result = ingest_events(shop, [line(code="customs_hold", occurred_at=(NOW - dt.timedelta(days=5)).isoformat())])
    assert (result.stored, result.late, result.shipments_updated) == (1, 1, 0)
    assert parcel(shop).status == ShipmentStatus.IN_TRANSIT


def test_a_time_without_offset_is_read_as_utc_with_a_warning(shop: Store) -> None:
    result = ingest_events(shop, ["", line(code="delivered", occurred_at="2026-11-21T10:00:00")])
    assert (result.stored, result.warnings) == (1, 1)
    assert result.warning_notes[0].line == 2 and "no UTC offset" in result.warning_notes[0].reason
    assert parcel(shop).delivered_at == dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC)


def test_messy_lines_are_counted_with_their_reasons_and_the_rest_is_stored(shop: Store) -> None:
    feed = [
        "{not json",
        "",
        "[1, 2]",
        line(tracking_number="JD9999"),
        line(carrier="ups"),
        line(code="teleported", description="Parcel teleported"),
        line(code=None, description=None),
        line(occurred_at=None),
        line(occurred_at="yesterday"),
        line(tracking_number=None),
        line(code="delivered", tracking_number="jd1003", carrier="DHL Express"),
        "\x00\xff garbage",
    ]
    result = ingest_events(shop, feed)
    assert (result.read, result.stored, result.rejected) == (11, 1, 10)
    reasons = {note.line: note.reason for note in result.rejections}
    assert reasons[1] == "not valid JSON"
    assert reasons[3] == "expected a JSON object, got list"
    assert reasons[4] == "no parcel with dhl tracking number JD9999"
    assert reasons[5] == "no parcel with ups tracking number JD1003"
    assert reasons[6] == "unknown event 'teleported'"
    assert reasons[7] == "no code and no description"
    assert reasons[8] == "no occurred_at"
    assert "ISO-8601" in reasons[9]
    assert reasons[10] == "no tracking_number"
    assert reasons[12] == "not valid JSON"
    assert parcel(shop).status == ShipmentStatus.DELIVERED
    payload = result.as_json()
    assert json.loads(json.dumps(payload)) == payload
    assert payload["rejections"][0] == {"line": 1, "reason": "not valid JSON"}


@pytest.mark.parametrize(
    ("words", "code"),
    [
        ("Delivered", TrackingCode.DELIVERED),
        ("Zugestellt", TrackingCode.DELIVERED),
        ("Votre colis a été livré", TrackingCode.DELIVERED),
        ("Entregado", TrackingCode.DELIVERED),
        ("Out for delivery", TrackingCode.OUT_FOR_DELIVERY),
        ("Die Sendung wird heute zugestellt", TrackingCode.OUT_FOR_DELIVERY),
        ("En cours de livraison", TrackingCode.OUT_FOR_DELIVERY),
        ("Customs", TrackingCode.CUSTOMS_HOLD),
        ("Retenu en DOUANE", TrackingCode.CUSTOMS_HOLD),
        ("Sendung wird beim Zoll geprüft", TrackingCode.CUSTOMS_HOLD),
        ("Import customs clearance completed", TrackingCode.CUSTOMS_CLEARED),
        ("Export customs clearance completed", TrackingCode.EXPORT_CLEARED),
        ("Returned to sender", TrackingCode.RETURNED_TO_SENDER),
        ("Retour à l’expéditeur", TrackingCode.RETURNED_TO_SENDER),
        ("Rücksendung an Absender", TrackingCode.RETURNED_TO_SENDER),
        ("Delivery attempted: recipient not available", TrackingCode.DELIVERY_FAILED),
        ("Not delivered", TrackingCode.DELIVERY_FAILED),
        ("Departed sort facility", TrackingCode.IN_TRANSIT),
        ("Arrived at local delivery facility", TrackingCode.ARRIVED_AT_HUB),
        ("Picked up from the seller's warehouse", TrackingCode.PICKED_UP),
        ("Parcel teleported", None),
        ("", None),
    ],
)
def test_carrier_words_map_to_codes(words: str, code: TrackingCode | None) -> None:
    assert code_from_words(words) == code


def test_every_simulated_wording_reads_back_as_its_code() -> None:
    for language, phrases in WORDING.items():
        for code, words in phrases.items():
            assert code_from_words(words) == code, (language, words)


def test_words_instead_of_a_code_are_read(shop: Store) -> None:
    result = ingest_events(shop, [line(code=None, description="Retenu en douane: droits à payer")])
    assert result.stored == 1
    assert parcel(shop).status == ShipmentStatus.CUSTOMS_HOLD
    result = ingest_events(shop, [line(code="Zugestellt", occurred_at=(NOW + dt.timedelta(hours=3)).isoformat())])
    assert result.stored == 1
    assert parcel(shop).status == ShipmentStatus.DELIVERED


def test_progress_is_reported(shop: Store) -> None:
    calls: list[tuple[int, int]] = []
    ingest_events(shop, [line(), line(code="delivered")], progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (2, 2)
    calls.clear()
    ingest_events(shop, iter([line(code="arrived_at_hub")]), progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (1, 1)


@pytest.fixture
def demo(store: Store) -> Store:
    generate_demo_data(store, seed=3, customers=40, orders=150)
    return store


def test_the_simulated_feed_is_repeatable_and_as_messy_as_promised(demo: Store) -> None:
    start = next_start(demo)
    events = simulate_events(demo, start=start, hours=48, seed=1)
    assert events == simulate_events(demo, start=start, hours=48, seed=1)
    assert events != simulate_events(demo, start=start, hours=48, seed=2)
    codes = {e.get("code") for e in events}
    assert {"delivered", "out_for_delivery"} <= codes
    assert any("code" not in e for e in events)  # carrier wording
    assert any(
        not e["occurred_at"].endswith(("+00:00", "Z")) and "+" not in e["occurred_at"][10:] and "-" not in e["occurred_at"][10:]
        for e in events
    )
    lines = [json.dumps(e, ensure_ascii=False) for e in events]
    assert len(lines) != len(set(lines))  # duplicates
    result = ingest_events(demo, lines)
    assert result.rejected == 1 and "no parcel" in result.rejections[0].reason
    assert result.warnings == 1
    assert result.duplicates >= 1 and result.late >= 1
    assert result.stored + result.duplicates + result.rejected == result.read == len(lines)
    assert result.shipments_updated > 0
    again = ingest_events(demo, lines)
    assert again.stored == 0 and again.shipments_updated == 0
    # Time carries on from the newest event.
    assert next_start(demo) > start
    for event in events:
        assert dt.datetime.fromisoformat(event["occurred_at"]).replace(tzinfo=None) <= (start + dt.timedelta(hours=60)).replace(
            tzinfo=None
        )
