"""The analytics API on the real runtime: the report as JSON and CSV, the charts as SVG, and
nothing without a staff session."""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.analytics import CHARTS
from api.auth import SESSION_COOKIE, add_staff, make_session
from commerce.db import Store
from commerce.models import StaffRole
from config import Settings
from server import create_app
from tests.commerce.test_analytics import fill

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
PERIOD = {"from": "2026-11-01", "to": "2026-11-07"}
SVG = "{http://www.w3.org/2000/svg}"
SECRET = "analytics-test"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = Store(f"sqlite:///{tmp_path}/helloword.db")
    fill(store)
    user = add_staff(store, "agent@example.com", "agent-password", role=StaffRole.AGENT)
    app = create_app(Settings(data_dir=tmp_path, secret_key=SECRET), store=store, clock=lambda: NOW)
    with TestClient(app) as test_client:
        cookie, _csrf = make_session(store, user, now=NOW)
        test_client.cookies.set(SESSION_COOKIE, cookie)
        yield test_client
    store.dispose()


def test_the_report_as_json(client: TestClient) -> None:
    response = client.get("/api/analytics/report", params=PERIOD)
    assert response.status_code == 200
    data = response.json()
    assert data["period"] == {"from": "2026-11-01T00:00:00+00:00", "to": "2026-11-08T00:00:00+00:00"}
    assert data["conversations"] == 5
    assert data["automated_rate"] == 0.6
    assert data["first_response"]["median_seconds"] == 75.0
    assert data["csat"]["mean"] == 3.5
    assert [level["urgency"] for level in data["sla"]] == ["red", "orange", "yellow", "blue"]
    assert len(data["by_day"]) == 7


def test_the_default_period_is_the_last_30_days(client: TestClient) -> None:
    data = client.get("/api/analytics/report").json()
    assert data["period"] == {"from": "2026-10-21T12:00:00+00:00", "to": "2026-11-20T12:00:00+00:00"}
    assert data["conversations"] == 7  # A, B, C, D, E, F, G all start after 21 October 12:00


def test_the_report_as_csv(client: TestClient) -> None:
    response = client.get("/api/analytics/report.csv", params=PERIOD)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="helloword-report-2026-11-01-2026-11-07.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["section", "name", "value"]
    assert all(len(row) == 3 for row in rows)
    assert ["summary", "conversations", "5"] in rows
    assert ["sla", "orange.breached", "1"] in rows
    assert ["carrier", "dhl", "1"] in rows


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_is_well_formed_svg_with_a_title(client: TestClient, name: str) -> None:
    response = client.get(f"/api/analytics/chart/{name}.svg", params=PERIOD)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.text)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text and "2026-11-01 – 2026-11-07" in title.text


def test_chart_text_is_escaped() -> None:
    from api import charts

    svg = charts.bar_chart('<script>alert("x")</script> & more', [("<b>&", 2.0)])
    root = ET.fromstring(svg)
    assert "<script>" not in svg
    assert root.find(f"{SVG}title") is not None


def test_unknown_chart_and_bad_dates(client: TestClient) -> None:
    assert client.get("/api/analytics/chart/pie.svg").status_code == 404
    assert client.get("/api/analytics/report", params={"from": "01/11/2026"}).status_code == 422
    assert client.get("/api/analytics/report", params={"from": "2026-11-07", "to": "2026-11-01"}).status_code == 400


def test_nothing_without_a_session(client: TestClient) -> None:
    client.cookies.clear()
    for path in ("/api/analytics/report", "/api/analytics/report.csv", "/api/analytics/chart/by_language.svg"):
        response = client.get(path, params=PERIOD)
        assert response.status_code == 401, path
