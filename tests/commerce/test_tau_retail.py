"""Import and export of the tau-retail data files: round trips, counts and format errors."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from commerce.db import Store
from commerce.models import (
    Customer,
    Exchange,
    Order,
    OrderItem,
    OrderStatus,
    PaymentKind,
    PaymentMethod,
    PaymentTransaction,
    Product,
    ReturnRequest,
    Shipment,
    ShipmentStatus,
    TransactionKind,
    TransactionStatus,
    Variant,
)
from commerce.tau_retail import (
    ImportSummary,
    TauRetailFormatError,
    export_orders,
    export_products,
    export_state,
    export_tau_retail,
    export_users,
    import_tau_retail,
    load_tau_retail,
)


def _data_dir() -> Path:
    override = os.environ.get("HELLOWORD_TAU_RETAIL_DIR")
    root = Path(override) if override else Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tau-retail"
    # Accept either the dataset folder or its data/ subfolder.
    return root / "data" if (root / "data" / "users.json").is_file() else root


DATA_DIR = _data_dir()
FILES = ("users.json", "orders.json", "products.json")

if not all((DATA_DIR / name).is_file() for name in FILES):
    pytest.skip(
        f"tau-retail data not found in {DATA_DIR} (set HELLOWORD_TAU_RETAIL_DIR to the dataset folder)",
        allow_module_level=True,
    )


def _read(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _key_order_differences(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Every place where two equal JSON values list an object's keys in a different order."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = [] if list(expected) == list(actual) else [where or "<top>"]
        for key in expected:
            if key in actual:
                found += _key_order_differences(expected[key], actual[key], f"{where}/{key}")
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        pairs = enumerate(zip(expected, actual, strict=False))  # lengths are compared by ==
        return [d for i, (e, a) in pairs for d in _key_order_differences(e, a, f"{where}[{i}]")]
    return []


# ---------------------------------------------------------------- the full data set


class FullImport:
    def __init__(self, store: Store, summary: ImportSummary, out_dir: Path, progress: list[tuple[int, int]]) -> None:
        self.store = store
        self.summary = summary
        self.out_dir = out_dir
        self.progress = progress


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullImport]:
    root = tmp_path_factory.mktemp("tau_full")
    store = Store(f"sqlite:///{root}/x.db")
    calls: list[tuple[int, int]] = []
    summary = import_tau_retail(store, DATA_DIR, progress=lambda done, total: calls.append((done, total)))
    export_tau_retail(store, root / "out")
    yield FullImport(store, summary, root / "out", calls)
    store.dispose()


@pytest.mark.parametrize("name", FILES)
def test_round_trip_reproduces_the_source_files(full: FullImport, name: str) -> None:
    source = _read(DATA_DIR / name)
    exported = _read(full.out_dir / name)
    assert exported == source
    assert list(exported) == list(source)
    assert _key_order_differences(source, exported) == []


def test_exported_files_are_indented_utf8(full: FullImport) -> None:
    text = (full.out_dir / "users.json").read_text(encoding="utf-8")
    assert text.startswith('{\n    "')


def test_counts_after_import(full: FullImport) -> None:
    users, orders, products = (_read(DATA_DIR / name) for name in FILES)
    variants = sum(len(p["variants"]) for p in products.values())
    assert (full.summary.users, full.summary.orders, full.summary.products, full.summary.variants) == (
        len(users),
        len(orders),
        len(products),
        variants,
    )
    with full.store.read() as s:

        def count(model: Any) -> int:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)

        assert count(Customer) == len(users)
        assert count(Order) == len(orders)
        assert count(Product) == len(products)
        assert count(Variant) == variants
        assert count(PaymentMethod) == sum(len(u["payment_methods"]) for u in users.values())
        assert count(OrderItem) == sum(len(o["items"]) for o in orders.values())
        assert count(PaymentTransaction) == sum(len(o["payment_history"]) for o in orders.values())
        assert count(Shipment) == sum(len(f["tracking_id"]) for o in orders.values() for f in o["fulfillments"])


def test_import_is_fast_and_reports_progress(full: FullImport) -> None:
    assert full.summary.seconds < 5.0
    total = full.summary.users + full.summary.orders + full.summary.products
    assert full.progress[-1] == (total, total)
    assert [done for done, _ in full.progress] == list(range(1, total + 1))


def test_imported_rows_follow_the_domain_model(full: FullImport) -> None:
    users, orders, _ = (_read(DATA_DIR / name) for name in FILES)
    order_id, record = next((k, o) for k, o in orders.items() if o["status"] == "processed")
    with full.store.read() as s:
        order = s.get(Order, order_id)
        assert order is not None
        assert order.status == OrderStatus.PROCESSED and not order.items_modified
        assert order.total == order.subtotal == sum(Decimal(str(i["price"])) for i in record["items"])
        assert order.shipping_fee == order.tax == Decimal(0)
        assert order.ship_country_code == "US"
        name = users[record["user_id"]]["name"]
        assert order.ship_name == f"{name['first_name']} {name['last_name']}"
        assert [i.quantity for i in order.items] == [1] * len(record["items"])
        assert order.shipments[0].carrier == "ups"
        assert order.shipments[0].status == ShipmentStatus.IN_TRANSIT
        assert order.shipments[0].tracking_number == record["fulfillments"][0]["tracking_id"][0]
        assert {t.status for t in order.transactions} == {TransactionStatus.SUCCEEDED}

        gift_card = s.scalars(select(PaymentMethod).where(PaymentMethod.kind == PaymentKind.GIFT_CARD)).first()
        assert gift_card is not None
        assert gift_card.currency == "USD"
        source_card = users[gift_card.customer_id]["payment_methods"][gift_card.id]
        assert gift_card.balance == Decimal(str(source_card["balance"]))


def test_export_state_matches_the_file_exports(full: FullImport) -> None:
    with full.store.read() as s:
        state = export_state(s)
        assert state == {"users": export_users(s), "orders": export_orders(s), "products": export_products(s)}
    for name in FILES:
        assert state[name.removesuffix(".json")] == _read(full.out_dir / name)


# ---------------------------------------------------------------- a small hand-built data set


def _address(street: str) -> dict[str, str]:
    return {"address1": street, "address2": "Suite 1", "city": "Austin", "country": "USA", "state": "TX", "zip": "78701"}


def _item(item_id: str, price: float) -> dict[str, Any]:
    return {"name": "Desk Lamp", "product_id": "100", "item_id": item_id, "price": price, "options": {"color": item_id}}


def _order(order_id: str, status: str, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    amount = round(sum(i["price"] for i in items), 2)
    record: dict[str, Any] = {
        "order_id": order_id,
        "user_id": "ada_lovelace_1",
        "address": _address("1 Main Street"),
        "items": items,
        "fulfillments": extra.pop("fulfillments", []),
        "status": status,
        "payment_history": extra.pop(
            "payment_history", [{"transaction_type": "payment", "amount": amount, "payment_method_id": "credit_card_1"}]
        ),
    }
    record.update(extra)
    return record


def _small_data() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    products = {
        "100": {
            "name": "Desk Lamp",
            "product_id": "100",
            "variants": {
                "red": {"item_id": "red", "options": {"color": "red"}, "available": True, "price": 20.5},
                "blue": {"item_id": "blue", "options": {"color": "blue"}, "available": False, "price": 21},
                "green": {"item_id": "green", "options": {"color": "green"}, "available": True, "price": 19.99},
            },
        }
    }
    orders = {
        "#W1": _order("#W1", "pending (item modified)", [_item("blue", 21.0), _item("blue", 21.0)]),
        "#W2": _order(
            "#W2",
            "cancelled",
            [_item("red", 20.5)],
            payment_history=[
                {"transaction_type": "payment", "amount": 20.5, "payment_method_id": "credit_card_1"},
                {"transaction_type": "refund", "amount": 20.5, "payment_method_id": "credit_card_1"},
            ],
            cancel_reason="ordered by mistake",
        ),
        "#W3": _order(
            "#W3",
            "return requested",
            [_item("red", 20.5), _item("green", 19.99)],
            fulfillments=[{"tracking_id": ["111"], "item_ids": ["red", "green"]}],
            return_items=["green", "red"],
            return_payment_method_id="gift_card_1",
        ),
        "#W4": _order(
            "#W4",
            "exchange requested",
            [_item("red", 20.5)],
            fulfillments=[{"tracking_id": ["222"], "item_ids": ["red"]}],
            exchange_items=["red"],
            exchange_new_items=["green"],
            exchange_payment_method_id="paypal_1",
            exchange_price_difference=-0.51,
        ),
        "#W5": _order(
            "#W5",
            "processed",
            [_item("red", 20.5), _item("green", 19.99)],
            # One fulfillment sent as two parcels, then a second fulfillment with the same items.
            fulfillments=[
                {"tracking_id": ["333", "444"], "item_ids": ["red", "green"]},
                {"tracking_id": ["555"], "item_ids": ["red", "green"]},
            ],
        ),
    }
    users = {
        "ada_lovelace_1": {
            "name": {"first_name": "Ada", "last_name": "Lovelace"},
            "address": _address("1 Main Street"),
            "email": "ada@example.com",
            "payment_methods": {
                "gift_card_1": {"source": "gift_card", "balance": 43, "id": "gift_card_1"},
                "credit_card_1": {"source": "credit_card", "brand": "visa", "last_four": "4242", "id": "credit_card_1"},
                "paypal_1": {"source": "paypal", "id": "paypal_1"},
            },
            "orders": list(orders),
        },
        "grace_hopper_2": {
            "name": {"first_name": "Grace", "last_name": "Hopper"},
            "address": {**_address("2 Side Road"), "country": "Canada"},
            "email": "grace@example.com",
            "payment_methods": {},
            "orders": [],
        },
    }
    return users, orders, products


def _write(directory: Path, users: Any, orders: Any, products: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in zip(FILES, (users, orders, products), strict=True):
        (directory / name).write_text(json.dumps(data, indent=1), encoding="utf-8")
    return directory


@pytest.fixture
def small_dir(tmp_path: Path) -> Path:
    return _write(tmp_path / "small", *_small_data())


@pytest.fixture
def small_store(tmp_path: Path, small_dir: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path}/x.db")
    import_tau_retail(store, small_dir)
    yield store
    store.dispose()


def test_small_round_trip_keeps_optional_fields(tmp_path: Path, small_dir: Path, small_store: Store) -> None:
    export_tau_retail(small_store, tmp_path / "out")
    for name in FILES:
        source, exported = _read(small_dir / name), _read(tmp_path / "out" / name)
        assert exported == source
        assert _key_order_differences(source, exported) == []


def test_small_import_rows(small_store: Store) -> None:
    with small_store.read() as s:
        w1 = s.get(Order, "#W1")
        assert w1 is not None and w1.status == OrderStatus.PENDING and w1.items_modified
        w2 = s.get(Order, "#W2")
        assert w2 is not None and w2.status == OrderStatus.CANCELLED and w2.cancel_reason == "ordered by mistake"
        returned = s.scalars(select(ReturnRequest)).one()
        assert (returned.order_id, returned.item_ids, returned.refund_payment_method_id) == (
            "#W3",
            ["green", "red"],
            "gift_card_1",
        )
        exchange = s.scalars(select(Exchange)).one()
        assert exchange.price_difference == Decimal("-0.51")
        assert (exchange.item_ids, exchange.new_item_ids, exchange.payment_method_id) == (["red"], ["green"], "paypal_1")
        w5 = s.get(Order, "#W5")
        assert w5 is not None
        assert [sh.tracking_number for sh in w5.shipments] == ["333", "444", "555"]
        grace = s.get(Customer, "grace_hopper_2")
        assert grace is not None and grace.country_code == "CA"


def test_export_follows_changes_in_the_store(small_store: Store) -> None:
    with small_store.write() as s:
        w1 = s.get(Order, "#W1")
        assert w1 is not None
        w1.status = OrderStatus.CANCELLED
        w1.cancel_reason = "no longer needed"
        w1.transactions.append(
            PaymentTransaction(
                position=1,
                kind=TransactionKind.REFUND,
                status=TransactionStatus.FAILED,
                amount=Decimal("42.00"),
                payment_method_id="credit_card_1",
            )
        )
        w3 = s.get(Order, "#W3")
        assert w3 is not None
        w3.returns.append(ReturnRequest(item_ids=["red"], refund_payment_method_id="credit_card_1"))
    with small_store.read() as s:
        orders = export_orders(s)
    assert orders["#W1"]["status"] == "cancelled"
    assert list(orders["#W1"])[-2:] == ["payment_history", "cancel_reason"]
    assert orders["#W1"]["cancel_reason"] == "no longer needed"
    assert len(orders["#W1"]["payment_history"]) == 1  # the failed refund moved no money
    assert orders["#W3"]["return_items"] == ["red"]
    assert orders["#W3"]["return_payment_method_id"] == "credit_card_1"


def test_import_without_reset_keeps_existing_rows(tmp_path: Path, small_dir: Path, small_store: Store) -> None:
    with pytest.raises(IntegrityError):  # the same ids cannot be imported twice
        import_tau_retail(small_store, small_dir, reset=False)
    with small_store.read() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 5


# ---------------------------------------------------------------- format errors


def _broken(tmp_path: Path, edit: Any) -> Path:
    users, orders, products = _small_data()
    edit(users, orders, products)
    return _write(tmp_path / "broken", users, orders, products)


def _error(directory: Path) -> TauRetailFormatError:
    with pytest.raises(TauRetailFormatError) as caught:
        load_tau_retail(directory)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(caught.value.path.name + ": ")
    return caught.value


def test_missing_file(small_dir: Path) -> None:
    (small_dir / "orders.json").unlink()
    error = _error(small_dir)
    assert error.path == small_dir / "orders.json"
    assert str(error).startswith("orders.json: file not found")


def test_broken_json(small_dir: Path) -> None:
    (small_dir / "users.json").write_text('{\n "a": {\n    "name": ,\n}', encoding="utf-8")
    error = _error(small_dir)
    assert error.path == small_dir / "users.json"
    assert str(error) == "users.json: not valid JSON (line 3, column 13)"


def test_list_where_an_object_is_expected(tmp_path: Path) -> None:
    directory = _broken(tmp_path, lambda u, o, p: None)
    (directory / "products.json").write_text(json.dumps([{"name": "Desk Lamp"}]), encoding="utf-8")
    error = _error(directory)
    assert error.path.name == "products.json"
    assert "not a list" in str(error)

    directory = _broken(tmp_path, lambda u, o, p: o["#W2"].update(address=["1 Main Street"]))
    assert str(_error(directory)) == "orders.json: order #W2: 'address' should be an object, not a list"


def test_order_missing_items(tmp_path: Path) -> None:
    directory = _broken(tmp_path, lambda u, o, p: o["#W3"].pop("items"))
    assert str(_error(directory)) == "orders.json: order #W3 has no 'items'"


def test_unknown_status(tmp_path: Path) -> None:
    directory = _broken(tmp_path, lambda u, o, p: o["#W4"].update(status="shipped"))
    assert str(_error(directory)) == "orders.json: order #W4 has unknown status 'shipped'"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda u, o, p: o["#W1"]["items"][0].update(price="21.00"),
            "orders.json: order #W1 item 1: 'price' should be a number, not a string",
        ),
        (lambda u, o, p: o["#W3"].pop("return_payment_method_id"), "orders.json: order #W3 has no 'return_payment_method_id'"),
        (
            lambda u, o, p: o["#W1"]["payment_history"][0].update(payment_method_id="card_9"),
            "orders.json: order #W1 uses payment method card_9, which is not in users.json",
        ),
        (
            lambda u, o, p: u["ada_lovelace_1"]["orders"].reverse(),
            "users.json: user ada_lovelace_1 lists their orders in a different order than orders.json",
        ),
        (
            lambda u, o, p: u["ada_lovelace_1"]["payment_methods"]["paypal_1"].update(source="cash"),
            "users.json: user ada_lovelace_1 payment method paypal_1 has unknown source 'cash'",
        ),
        (
            lambda u, o, p: p["100"]["variants"]["red"].update(price=20.505),
            "products.json: product 100 variant red: 'price' has more than two decimal places (20.505)",
        ),
        (
            lambda u, o, p: o["#W2"].update(user_id="nobody\nelse"),
            "orders.json: order #W2 belongs to user nobody else, who is not in users.json",
        ),
    ],
)
def test_record_errors_name_file_and_record(tmp_path: Path, edit: Any, expected: str) -> None:
    assert str(_error(_broken(tmp_path, edit))) == expected


def test_failed_import_leaves_the_store_untouched(tmp_path: Path, small_store: Store) -> None:
    directory = _broken(tmp_path, lambda u, o, p: o["#W4"].update(status="shipped"))
    with pytest.raises(TauRetailFormatError):
        import_tau_retail(small_store, directory)
    with small_store.read() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 5


def test_skip_location_honours_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "tau" / "data").mkdir(parents=True)
    for name in FILES:
        (tmp_path / "tau" / "data" / name).write_text("{}", encoding="utf-8")
    monkeypatch.setenv("HELLOWORD_TAU_RETAIL_DIR", str(tmp_path / "tau"))
    assert _data_dir() == tmp_path / "tau" / "data"
