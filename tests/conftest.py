"""Shared fixtures: a small constructed shop in a real database, and a guard that fails any
test which tries to reach a host other than this machine."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from commerce.db import Store
from commerce.models import (
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    PaymentKind,
    PaymentMethod,
    PaymentTransaction,
    Product,
    Shipment,
    ShipmentStatus,
    StockLevel,
    TrackingCode,
    TrackingEvent,
    TransactionKind,
    Variant,
    Warehouse,
)

if TYPE_CHECKING:
    from knowledge.embedders import Embedder, Vectors

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TAU_RETAIL = Path(os.environ.get("HELLOWORD_TAU_RETAIL_DIR", SHARED / "data" / "tau-retail"))

_real_connect = socket.socket.connect


def _local_only(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = host == "localhost"
        if not local:
            raise AssertionError(f"test tried to connect to {host}: only 127.0.0.1 is allowed")
    return _real_connect(self, address)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Computed model data (the intent example vectors) for the whole run: embedded once, then read."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _local_only)


def run_cli(*args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -m cli <args>` run from the project folder, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], input=stdin, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


class CountingEmbedder:
    """The real embedder, counting the query and passage texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.queries = 0
        self.passages = 0

    @property
    def texts(self) -> int:
        """Queries and passages together."""
        return self.queries + self.passages

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.queries += len(texts)
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        self.passages += len(texts)
        return self.inner.embed_passages(texts)


def tau_retail_dir() -> Path:
    if not (TAU_RETAIL / "data" / "users.json").exists():
        pytest.skip(f"tau-retail reference data not found at {TAU_RETAIL} (set HELLOWORD_TAU_RETAIL_DIR)")
    return TAU_RETAIL


def _postgres_store() -> Store:
    url = os.environ.get("HELLOWORD_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HELLOWORD_TEST_POSTGRES_URL is not set (CI starts a PostgreSQL server for these tests)")
    # One schema per test keeps tests independent on one server.
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = Store(url, create=False)
    with admin.engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    query = dict(make_url(url).query)
    query["options"] = f"-csearch_path={schema}"
    return Store(make_url(url).set(query=query).render_as_string(hide_password=False))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The same test on SQLite and, when a server is configured, on PostgreSQL."""
    store = Store(f"sqlite:///{tmp_path}/shop.db") if request.param == "sqlite" else _postgres_store()
    yield store
    store.dispose()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path}/shop.db")
    yield s
    s.dispose()


def build_shop(store: Store) -> None:
    """Two customers and a handful of orders, one in each state the tools care about."""
    with store.write() as s:
        s.add(Warehouse(id="us-east", name="New Jersey", country_code="US"))
        s.add(Warehouse(id="de-berlin", name="Berlin", country_code="DE"))
        shirt = Product(id="1000000001", name="T-Shirt", category="apparel")
        shirt.variants = [
            Variant(id="2000000001", options={"color": "blue", "size": "M"}, price=Decimal("20.00"), position=0),
            Variant(id="2000000002", options={"color": "blue", "size": "L"}, price=Decimal("22.50"), position=1),
            Variant(id="2000000003", options={"color": "red", "size": "M"}, price=Decimal("19.00"), available=False, position=2),
        ]
        mug = Product(id="1000000002", name="Mug", category="home")
        mug.variants = [Variant(id="2000000010", options={"size": "large"}, price=Decimal("12.00"))]
        s.add_all([shirt, mug])
        s.flush()
        for variant_id, on_hand in (("2000000001", 5), ("2000000002", 0), ("2000000010", 3)):
            s.add(StockLevel(warehouse_id="us-east", variant_id=variant_id, on_hand=on_hand))
        s.add(StockLevel(warehouse_id="de-berlin", variant_id="2000000002", on_hand=4))

        alice = Customer(
            id="alice",
            first_name="Alice",
            last_name="Martin",
            email="alice@example.com",
            preferred_language="fr",
            country_code="FR",
            address1="12 rue de la Paix",
            city="Paris",
            postal_code="75002",
            country="France",
        )
        alice.payment_methods = [
            PaymentMethod(id="card_alice", kind=PaymentKind.CREDIT_CARD, brand="visa", last_four="4242", position=0),
            PaymentMethod(id="paypal_alice", kind=PaymentKind.PAYPAL, position=1),
            PaymentMethod(id="gift_alice", kind=PaymentKind.GIFT_CARD, balance=Decimal("50.00"), currency="EUR", position=2),
        ]
        bob = Customer(
            id="bob",
            first_name="Bob",
            last_name="Smith",
            email="bob@example.com",
            country_code="US",
            address1="1 Main St",
            city="Austin",
            state="TX",
            postal_code="73301",
            country="USA",
        )
        bob.payment_methods = [PaymentMethod(id="card_bob", kind=PaymentKind.CREDIT_CARD, brand="mastercard", last_four="5555")]
        s.add_all([alice, bob])

        def order(
            oid: str,
            owner: str,
            status: OrderStatus,
            method: str,
            lines: list[tuple[str, str, str, Decimal]],
            currency: str = "EUR",
            shipment: ShipmentStatus | None = None,
            placed: int = 0,
        ) -> Order:
            o = Order(
                id=oid,
                customer_id=owner,
                status=status,
                currency=currency,
                placed_at=NOW - dt.timedelta(days=placed),
                ship_name="X",
                ship_address1="12 rue de la Paix",
                ship_city="Paris",
                ship_postal_code="75002",
                ship_country="France",
                ship_country_code="FR",
            )
            o.items = [
                OrderItem(position=i, product_id=p, variant_id=v, name=n, unit_price=price, options={})
                for i, (p, v, n, price) in enumerate(lines)
            ]
            total = sum((price for *_, price in lines), Decimal("0"))
            o.subtotal = o.total = total
            o.transactions = [
                PaymentTransaction(kind=TransactionKind.PAYMENT, amount=total, payment_method_id=method, position=0)
            ]
            if status == OrderStatus.CANCELLED:
                o.transactions.append(
                    PaymentTransaction(kind=TransactionKind.REFUND, amount=total, payment_method_id=method, position=1)
                )
            if shipment is not None:
                sh = Shipment(
                    carrier="dhl",
                    tracking_number=f"JD{oid[-4:]}",
                    status=shipment,
                    item_ids=[v for _, v, _, _ in lines],
                    shipped_at=NOW - dt.timedelta(days=6),
                    promised_delivery_date=(NOW - dt.timedelta(days=1)).date(),
                )
                sh.events = [
                    TrackingEvent(occurred_at=NOW - dt.timedelta(days=6), code=TrackingCode.PICKED_UP, location="Leipzig"),
                    TrackingEvent(occurred_at=NOW - dt.timedelta(days=4), code=TrackingCode.IN_TRANSIT, location="Paris hub"),
                ]
                if shipment == ShipmentStatus.DELIVERED:
                    sh.delivered_at = NOW - dt.timedelta(days=2)
                o.shipments = [sh]
            return o

        shirt_m = ("1000000001", "2000000001", "T-Shirt", Decimal("20.00"))
        mug_l = ("1000000002", "2000000010", "Mug", Decimal("12.00"))
        s.add_all(
            [
                order("#A1001", "alice", OrderStatus.PENDING, "card_alice", [shirt_m, shirt_m, mug_l]),
                order(
                    "#A1002",
                    "alice",
                    OrderStatus.DELIVERED,
                    "card_alice",
                    [shirt_m, mug_l],
                    shipment=ShipmentStatus.DELIVERED,
                    placed=9,
                ),
                order(
                    "#A1003", "alice", OrderStatus.PROCESSED, "gift_alice", [mug_l], shipment=ShipmentStatus.IN_TRANSIT, placed=7
                ),
                order("#A1004", "alice", OrderStatus.CANCELLED, "card_alice", [mug_l], placed=20),
                order("#A1005", "alice", OrderStatus.PENDING, "gift_alice", [shirt_m], placed=1),
                order(
                    "#B2001",
                    "bob",
                    OrderStatus.DELIVERED,
                    "card_bob",
                    [shirt_m],
                    currency="USD",
                    shipment=ShipmentStatus.DELIVERED,
                    placed=5,
                ),
            ]
        )


@pytest.fixture
def shop(store: Store) -> Store:
    build_shop(store)
    return store


@pytest.fixture
def any_shop(any_store: Store) -> Store:
    build_shop(any_store)
    return any_store
