"""An action the policy leaves to a human: the agent hands the case over with the proposed
action, an agent approves it in the console, it runs once and the customer is told."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.auth import add_staff
from commerce.db import Store
from commerce.models import Order, Refund, StaffRole
from config import Settings
from evals.scripted_model import Reply, ScriptedModelServer
from server import create_app
from tests.conftest import NOW, build_shop


@pytest.fixture
def setup(tmp_path: Path, cache_dir: Path) -> Iterator[tuple[TestClient, Store, ScriptedModelServer]]:
    store = Store(f"sqlite:///{tmp_path}/helloword.db")
    build_shop(store)
    with store.write() as s:  # a pricier delivered order, so a partial refund is above the 100 EUR the agent may give alone
        order = s.get(Order, "#A1002")
        assert order is not None
        order.items[0].unit_price, order.items[1].unit_price = Decimal("200.00"), Decimal("120.00")
        order.subtotal = order.total = Decimal("320.00")
        order.transactions[0].amount = Decimal("320.00")
    add_staff(store, "agent@example.com", "agent-password", role=StaffRole.AGENT)
    with ScriptedModelServer() as server:
        settings = Settings(
            data_dir=tmp_path,
            cache_dir=cache_dir,
            secret_key="approval-test",
            brain="llm",
            llm_base_url=server.base_url,
            llm_api_key="test",
        )
        app = create_app(settings, store=store, clock=lambda: NOW)
        with TestClient(app) as client:
            yield client, store, server
    store.dispose()


def refunds(store: Store) -> int:
    with store.read() as s:
        return int(s.scalar(select(func.count()).select_from(Refund)) or 0)


def test_an_approved_refund_runs_once_and_reaches_the_customer(setup: Any) -> None:
    client, store, server = setup
    conversation = client.post("/api/conversations", json={"locale": "en"}).json()
    headers = {"Authorization": f"Bearer {conversation['token']}"}
    server.push(
        Reply(
            "I can refund 150.00 EUR for the damaged T-shirt. Shall I go ahead?",
            tool_calls=[{"name": "issue_refund", "arguments": {"order_id": "#A1002", "amount": "150.00", "reason": "damaged"}}],
        )
    )
    turn = client.post(
        f"/api/conversations/{conversation['id']}/messages",
        json={"text": "The T-shirt from order #A1002 arrived torn, I want 150 EUR back. alice@example.com"},
        headers=headers,
    ).json()
    assert turn["status"] == "escalated" and refunds(store) == 0
    login = client.post("/api/auth/login", json={"email": "agent@example.com", "password": "agent-password"}).json()
    staff = {"X-CSRF-Token": login["csrf"]}
    case = client.get("/api/console/cases").json()[0]
    assert case["pending_approval"] and case["conversation_id"] == conversation["id"]
    detail = client.get(f"/api/console/cases/{case['id']}").json()
    assert detail["pending"]["tool"] == "issue_refund" and detail["pending"]["arguments"]["amount"] == "150.00"

    approved = client.post(f"/api/console/cases/{case['id']}/approve", json={}, headers=staff)
    assert approved.status_code == 200, approved.text
    assert refunds(store) == 1 and approved.json()["status"] == "resolved"
    again = client.post(f"/api/console/cases/{case['id']}/approve", json={}, headers=staff)
    assert again.status_code == 404 and "no action waiting" in again.json()["error"]
    assert refunds(store) == 1
    history = client.get(f"/api/conversations/{conversation['id']}", headers=headers).json()
    told = history["messages"][-1]
    assert told["role"] == "human" and "150" in told["text"]


def test_a_denied_action_changes_nothing_and_says_why(setup: Any) -> None:
    client, store, server = setup
    conversation = client.post("/api/conversations", json={}).json()
    headers = {"Authorization": f"Bearer {conversation['token']}"}
    server.push(
        Reply(
            tool_calls=[{"name": "issue_refund", "arguments": {"order_id": "#A1002", "amount": "300.00", "reason": "unhappy"}}],
        )
    )
    client.post(
        f"/api/conversations/{conversation['id']}/messages",
        json={"text": "Refund 300 EUR of order #A1002 please, email alice@example.com"},
        headers=headers,
    )
    login = client.post("/api/auth/login", json={"email": "agent@example.com", "password": "agent-password"}).json()
    case = client.get("/api/console/cases").json()[0]
    denied = client.post(
        f"/api/console/cases/{case['id']}/deny",
        json={"note": "the item was used for months"},
        headers={"X-CSRF-Token": login["csrf"]},
    )
    assert denied.status_code == 200 and refunds(store) == 0
    history = client.get(f"/api/conversations/{conversation['id']}", headers=headers).json()
    assert "used for months" in history["messages"][-1]["text"]
