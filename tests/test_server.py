"""The server's health, readiness and tool catalogue over HTTP."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from config import Settings
from server import create_app


def test_health_readiness_and_tool_schemas(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path)))
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    names = {t["function"]["name"] for t in client.get("/api/tools").json()}
    assert {"issue_refund", "get_order", "track_shipment"} <= names
    assert client.get("/docs").status_code == 200


def test_readiness_reports_an_unreachable_database(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    client = TestClient(create_app(settings))
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"
