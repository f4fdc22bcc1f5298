"""The carrier webhook: events pushed with a staff API token, stored against the parcels."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.auth import add_staff, issue_api_token
from commerce.db import Store
from commerce.models import Shipment, ShipmentStatus, StaffRole
from config import Settings
from server import create_app
from tests.conftest import build_shop

EVENT = {
    "carrier": "dhl",
    "tracking_number": "JD1003",
    "code": "delivered",
    "occurred_at": "2026-11-21T10:00:00+01:00",
    "location": "Paris",
    "description": "Delivered",
}


@pytest.fixture
def client(store: Store, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    build_shop(store)
    add_staff(store, "feeds@shop.example", "long-enough-password", role=StaffRole.AGENT)
    token = issue_api_token(store, "feeds@shop.example")
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"), store=store)) as test_client:
        yield test_client, {"Authorization": f"Bearer {token}"}


def status(store: Store) -> ShipmentStatus:
    with store.read() as session:
        return session.scalars(select(Shipment.status).where(Shipment.tracking_number == "JD1003")).one()


def test_one_event_is_stored_and_moves_the_parcel(client: tuple[TestClient, dict[str, str]], store: Store) -> None:
    http, auth = client
    response = http.post("/api/tracking/events", json=EVENT, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["read"], body["stored"], body["rejected"], body["shipments_updated"]) == (1, 1, 0, 1)
    assert status(store) == ShipmentStatus.DELIVERED
    again = http.post("/api/tracking/events", json=[EVENT], headers=auth).json()
    assert (again["stored"], again["duplicates"]) == (0, 1)


def test_an_array_with_messy_events_reports_each_by_position(client: tuple[TestClient, dict[str, str]], store: Store) -> None:
    http, auth = client
    events = [
        {**EVENT, "code": "out_for_delivery", "occurred_at": "2026-11-21T07:00:00+01:00"},
        {**EVENT, "tracking_number": "JD0000"},
        {**EVENT, "code": None, "description": "Zugestellt"},
        {**EVENT, "occurred_at": "2026-11-21T08:00:00"},
    ]
    body = http.post("/api/tracking/events", json=events, headers=auth).json()
    assert (body["read"], body["stored"], body["rejected"], body["warnings"]) == (4, 3, 1, 1)
    assert body["rejections"] == [{"line": 2, "reason": "no parcel with dhl tracking number JD0000"}]
    assert status(store) == ShipmentStatus.DELIVERED


def test_an_event_dated_in_the_far_future_or_before_the_order_is_rejected(
    client: tuple[TestClient, dict[str, str]], store: Store
) -> None:
    # A feed that sends "delivered" on 9999-12-31 must not mark the parcel (and its order) delivered.
    http, auth = client
    events = [{**EVENT, "occurred_at": "9999-12-31T23:59:00+00:00"}, {**EVENT, "occurred_at": "2001-01-01T10:00:00+00:00"}]
    body = http.post("/api/tracking/events", json=events, headers=auth).json()
    assert (body["stored"], body["rejected"]) == (0, 2)
    reasons = [r["reason"] for r in body["rejections"]]
    assert "more than a day in the future" in reasons[0] and "before the order was placed" in reasons[1]
    assert status(store) != ShipmentStatus.DELIVERED


@pytest.mark.parametrize(("payload", "status"), [("{broken", 400), ('"a string"', 422), ("[1, 2]", 422), ("42", 422)])
def test_a_body_that_is_not_events_is_refused(client: tuple[TestClient, dict[str, str]], payload: str, status: int) -> None:
    http, auth = client
    response = http.post("/api/tracking/events", content=payload, headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == status  # JSON that does not parse is a 400, events that do not fit a 422
    assert response.json()["error"]


def test_too_many_events_in_one_request_is_422(
    client: tuple[TestClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.tracking

    monkeypatch.setattr(api.tracking, "MAX_EVENTS", 2)
    http, auth = client
    response = http.post("/api/tracking/events", json=[EVENT, EVENT, EVENT], headers=auth)
    assert response.status_code == 422 and "at most 2 events" in response.json()["error"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer hw_not-a-real-token"}])
def test_without_a_valid_token_it_is_401(
    client: tuple[TestClient, dict[str, str]], store: Store, headers: dict[str, str]
) -> None:
    http, _ = client
    response = http.post(
        "/api/tracking/events", content=json.dumps(EVENT), headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert status(store) == ShipmentStatus.IN_TRANSIT
    assert http.post("/api/tracking/events", content="{broken", headers=headers).status_code == 401
