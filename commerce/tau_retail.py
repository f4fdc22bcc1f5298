"""Import and export between the tau-retail JSON files (users, orders, products) and the store.

The store is the seller's general domain model; tau-retail is one format in and out of it.
Export reproduces the source files exactly (same values, same key order), so a state exported
after a replay can be compared field by field with the benchmark's expected state.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from commerce.db import Store
from commerce.models import (
    Customer,
    Exchange,
    Marketplace,
    Order,
    OrderItem,
    OrderStatus,
    PaymentKind,
    PaymentMethod,
    PaymentTransaction,
    Product,
    ReturnRequest,
    ServiceLevel,
    Shipment,
    ShipmentStatus,
    TransactionKind,
    TransactionStatus,
    Variant,
)

USERS_FILE = "users.json"
ORDERS_FILE = "orders.json"
PRODUCTS_FILE = "products.json"

# The format carries no dates; fixed instants keep file order recoverable from timestamps.
CUSTOMERS_SINCE = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
ORDERS_SINCE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

CARRIER = "ups"
CURRENCY = "USD"

STATUS_FROM_TAU: dict[str, tuple[OrderStatus, bool]] = {
    "pending": (OrderStatus.PENDING, False),
    "pending (item modified)": (OrderStatus.PENDING, True),
    "processed": (OrderStatus.PROCESSED, False),
    "delivered": (OrderStatus.DELIVERED, False),
    "cancelled": (OrderStatus.CANCELLED, False),
    "return requested": (OrderStatus.RETURN_REQUESTED, False),
    "exchange requested": (OrderStatus.EXCHANGE_REQUESTED, False),
}
STATUS_TO_TAU: dict[OrderStatus, str] = {status: name for name, (status, modified) in STATUS_FROM_TAU.items() if not modified}
PENDING_ITEMS_MODIFIED = "pending (item modified)"

# What a parcel's status is when an order arrives in a given state.
SHIPMENT_STATUS: dict[OrderStatus, ShipmentStatus] = {
    OrderStatus.PENDING: ShipmentStatus.LABEL_CREATED,
    OrderStatus.CANCELLED: ShipmentStatus.LABEL_CREATED,
    OrderStatus.PROCESSED: ShipmentStatus.IN_TRANSIT,
    OrderStatus.DELIVERED: ShipmentStatus.DELIVERED,
    OrderStatus.RETURN_REQUESTED: ShipmentStatus.DELIVERED,
    OrderStatus.EXCHANGE_REQUESTED: ShipmentStatus.DELIVERED,
}

# The fields of an address in the format, and the customer column each is kept in (an order
# keeps them in the same columns with "ship_" in front).
_ADDRESS_COLUMNS = {
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "country": "country",
    "state": "state",
    "zip": "postal_code",
}

RETURN_FIELDS = ("return_items", "return_payment_method_id")
EXCHANGE_FIELDS = (
    "exchange_items",
    "exchange_new_items",
    "exchange_payment_method_id",
    "exchange_price_difference",
)


class TauRetailFormatError(Exception):
    """The data files are not usable tau-retail data; the message is one line naming the file."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(" ".join(message.split()))


@dataclass
class ImportSummary:
    users: int
    orders: int
    products: int
    variants: int
    seconds: float


# ---------------------------------------------------------------- reading and validation

_KINDS: dict[type, str] = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}


_WANTED = {
    "object": "an object",
    "list": "a list",
    "string": "a string",
    "boolean": "a boolean",
    "number": "a number",
    "strings": "a list of strings",
}


_ACCEPTS: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "list": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
}


def _kind(value: Any) -> str:
    return _KINDS.get(type(value), type(value).__name__)


class _Checker:
    """Type checks for one file; every failure names the file and the record."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, message: str) -> NoReturn:
        raise TauRetailFormatError(self.path, f"{self.path.name}: {message}")

    def obj(self, value: Any, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(f"{what} should be an object, not {_kind(value)}")
        return value

    def records(self, mapping: dict[str, Any], label: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """The records of an object keyed by id: each id, the record's name in messages
        ("<label> <id>") and the record, which must be an object."""
        for key, raw in mapping.items():
            what = f"{label} {key}"
            yield key, what, self.obj(raw, what)

    def field(self, record: dict[str, Any], key: str, what: str, expected: str) -> Any:
        if key not in record:
            self.fail(f"{what} has no {key!r}")
        value = record[key]
        if not _ACCEPTS[expected](value):
            self.fail(f"{what}: {key!r} should be {_WANTED[expected]}, not {_kind(value)}")
        return value

    def money(self, record: dict[str, Any], key: str, what: str) -> Decimal:
        value = self.field(record, key, what, "number")
        amount = Decimal(str(value))
        if not amount.is_finite():
            self.fail(f"{what}: {key!r} is not a finite amount")
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            self.fail(f"{what}: {key!r} has more than two decimal places ({value})")
        return amount

    def same_id(self, key: str, record: dict[str, Any], id_key: str, what: str) -> None:
        value = self.field(record, id_key, what, "string")
        if value != key:
            self.fail(f"{what}: {id_key!r} is {value!r} but the record is filed under {key!r}")


def _read_json(path: Path) -> dict[str, Any]:
    check = _Checker(path)
    if not path.is_file():
        check.fail(f"file not found in {path.parent}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        check.fail(f"not valid UTF-8 (byte {exc.start})")
    except json.JSONDecodeError as exc:
        check.fail(f"not valid JSON (line {exc.lineno}, column {exc.colno})")
    except OSError as exc:
        check.fail(f"cannot be read ({exc.strerror or exc})")
    if not isinstance(data, dict):
        check.fail(f"the top level should be an object keyed by id, not {_kind(data)}")
    return data


def _check_address(check: _Checker, record: dict[str, Any], what: str) -> None:
    address = check.field(record, "address", what, "object")
    for key in _ADDRESS_COLUMNS:
        check.field(address, key, f"{what} address", "string")


def _check_products(path: Path, products: dict[str, Any]) -> dict[str, str]:
    """Returns the product id of every variant id."""
    check = _Checker(path)
    product_of: dict[str, str] = {}
    for product_id, what, record in check.records(products, "product"):
        check.field(record, "name", what, "string")
        check.same_id(product_id, record, "product_id", what)
        variants = check.field(record, "variants", what, "object")
        for variant_id, vwhat, variant in check.records(variants, f"{what} variant"):
            check.same_id(variant_id, variant, "item_id", vwhat)
            check.field(variant, "options", vwhat, "object")
            check.field(variant, "available", vwhat, "boolean")
            check.money(variant, "price", vwhat)
            if variant_id in product_of:
                check.fail(f"variant {variant_id} is listed under both {product_of[variant_id]} and {product_id}")
            product_of[variant_id] = product_id
    return product_of


def _check_users(path: Path, users: dict[str, Any]) -> dict[str, str]:
    """Returns the owner of every payment method id."""
    check = _Checker(path)
    owner_of: dict[str, str] = {}
    for user_id, what, record in check.records(users, "user"):
        name = check.field(record, "name", what, "object")
        check.field(name, "first_name", f"{what} name", "string")
        check.field(name, "last_name", f"{what} name", "string")
        _check_address(check, record, what)
        check.field(record, "email", what, "string")
        check.field(record, "orders", what, "strings")
        methods = check.field(record, "payment_methods", what, "object")
        for method_id, mwhat, method in check.records(methods, f"{what} payment method"):
            check.same_id(method_id, method, "id", mwhat)
            source = check.field(method, "source", mwhat, "string")
            if source not in {k.value for k in PaymentKind}:
                check.fail(f"{mwhat} has unknown source {source!r}")
            if source == PaymentKind.CREDIT_CARD:
                check.field(method, "brand", mwhat, "string")
                check.field(method, "last_four", mwhat, "string")
            elif source == PaymentKind.GIFT_CARD:
                check.money(method, "balance", mwhat)
            if method_id in owner_of:
                check.fail(f"payment method {method_id} belongs to both {owner_of[method_id]} and {user_id}")
            owner_of[method_id] = user_id
    return owner_of


def _check_orders(
    path: Path, orders: dict[str, Any], users: dict[str, Any], product_of: dict[str, str], owner_of: dict[str, str]
) -> None:
    check = _Checker(path)
    for order_id, what, record in check.records(orders, "order"):
        check.same_id(order_id, record, "order_id", what)
        user_id = check.field(record, "user_id", what, "string")
        if user_id not in users:
            check.fail(f"{what} belongs to user {user_id}, who is not in {USERS_FILE}")
        _check_address(check, record, what)
        items = check.field(record, "items", what, "list")
        for n, raw_item in enumerate(items, 1):
            iwhat = f"{what} item {n}"
            item = check.obj(raw_item, iwhat)
            check.field(item, "name", iwhat, "string")
            product_id = check.field(item, "product_id", iwhat, "string")
            item_id = check.field(item, "item_id", iwhat, "string")
            check.money(item, "price", iwhat)
            check.field(item, "options", iwhat, "object")
            if product_of.get(item_id) != product_id:
                check.fail(f"{iwhat}: item {item_id} is not a variant of product {product_id} in {PRODUCTS_FILE}")
        for n, raw_fulfillment in enumerate(check.field(record, "fulfillments", what, "list"), 1):
            fwhat = f"{what} fulfillment {n}"
            fulfillment = check.obj(raw_fulfillment, fwhat)
            if not check.field(fulfillment, "tracking_id", fwhat, "strings"):
                check.fail(f"{fwhat} has no tracking ids")
            check.field(fulfillment, "item_ids", fwhat, "strings")
        status = check.field(record, "status", what, "string")
        if status not in STATUS_FROM_TAU:
            check.fail(f"{what} has unknown status {status!r}")
        methods: list[str] = []
        for n, raw_payment in enumerate(check.field(record, "payment_history", what, "list"), 1):
            pwhat = f"{what} payment {n}"
            payment = check.obj(raw_payment, pwhat)
            kind = check.field(payment, "transaction_type", pwhat, "string")
            if kind not in {k.value for k in TransactionKind}:
                check.fail(f"{pwhat} has unknown transaction_type {kind!r}")
            check.money(payment, "amount", pwhat)
            methods.append(check.field(payment, "payment_method_id", pwhat, "string"))
        if "cancel_reason" in record:
            check.field(record, "cancel_reason", what, "string")
        if any(key in record for key in RETURN_FIELDS):
            check.field(record, "return_items", what, "strings")
            methods.append(check.field(record, "return_payment_method_id", what, "string"))
        if any(key in record for key in EXCHANGE_FIELDS):
            check.field(record, "exchange_items", what, "strings")
            check.field(record, "exchange_new_items", what, "strings")
            methods.append(check.field(record, "exchange_payment_method_id", what, "string"))
            check.money(record, "exchange_price_difference", what)
        for method_id in methods:
            if method_id not in owner_of:
                check.fail(f"{what} uses payment method {method_id}, which is not in {USERS_FILE}")


def _check_order_lists(path: Path, users: dict[str, Any], orders: dict[str, Any]) -> None:
    """Each user's order list must be exactly their orders, in the order orders.json has them,
    because the list is rebuilt from the orders on export."""
    check = _Checker(path)
    expected: dict[str, list[str]] = {}
    for order_id, record in orders.items():
        expected.setdefault(record["user_id"], []).append(order_id)
    for user_id, record in users.items():
        listed: list[str] = record["orders"]
        if listed == expected.get(user_id, []):
            continue
        for order_id in listed:
            if order_id not in orders:
                check.fail(f"user {user_id} lists order {order_id}, which is not in {ORDERS_FILE}")
            if orders[order_id]["user_id"] != user_id:
                check.fail(f"user {user_id} lists order {order_id}, which belongs to {orders[order_id]['user_id']}")
        missing = [o for o in expected.get(user_id, []) if o not in listed]
        if missing:
            check.fail(f"user {user_id} does not list their order {missing[0]}")
        check.fail(f"user {user_id} lists their orders in a different order than {ORDERS_FILE}")


def load_tau_retail(data_dir: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Read and validate users.json, orders.json and products.json from data_dir."""
    data_dir = Path(data_dir)
    users = _read_json(data_dir / USERS_FILE)
    orders = _read_json(data_dir / ORDERS_FILE)
    products = _read_json(data_dir / PRODUCTS_FILE)
    product_of = _check_products(data_dir / PRODUCTS_FILE, products)
    owner_of = _check_users(data_dir / USERS_FILE, users)
    _check_orders(data_dir / ORDERS_FILE, orders, users, product_of, owner_of)
    _check_order_lists(data_dir / USERS_FILE, users, orders)
    return users, orders, products


# ---------------------------------------------------------------- import


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


def _country_code(country: str) -> str:
    return "US" if country == "USA" else country[:2].upper()


def _address_columns(address: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A tau-retail address as a customer's columns (or an order's, with prefix "ship_")."""
    columns = {prefix + column: address[key] for key, column in _ADDRESS_COLUMNS.items()}
    columns[prefix + "country_code"] = _country_code(address["country"])
    return columns


def _build_products(products: dict[str, Any]) -> Iterator[Product]:
    for position, (product_id, record) in enumerate(products.items()):
        yield Product(
            id=product_id,
            name=record["name"],
            position=position,
            variants=[
                Variant(
                    id=variant_id,
                    options=dict(variant["options"]),
                    price=_money(variant["price"]),
                    available=variant["available"],
                    position=n,
                )
                for n, (variant_id, variant) in enumerate(record["variants"].items())
            ],
        )


def _build_payment_method(method_id: str, record: dict[str, Any], position: int) -> PaymentMethod:
    kind = PaymentKind(record["source"])
    gift_card = kind == PaymentKind.GIFT_CARD
    return PaymentMethod(
        id=method_id,
        kind=kind,
        brand=record.get("brand") if kind == PaymentKind.CREDIT_CARD else None,
        last_four=record.get("last_four") if kind == PaymentKind.CREDIT_CARD else None,
        balance=_money(record["balance"]) if gift_card else None,
        currency=CURRENCY if gift_card else None,
        position=position,
    )


def _build_customers(users: dict[str, Any]) -> Iterator[Customer]:
    for index, (user_id, record) in enumerate(users.items()):
        address = record["address"]
        yield Customer(
            id=user_id,
            first_name=record["name"]["first_name"],
            last_name=record["name"]["last_name"],
            email=record["email"],
            preferred_language="en",
            **_address_columns(address),
            created_at=CUSTOMERS_SINCE + dt.timedelta(seconds=index),
            payment_methods=[
                _build_payment_method(method_id, method, n)
                for n, (method_id, method) in enumerate(record["payment_methods"].items())
            ],
        )


def _build_order(order_id: str, record: dict[str, Any], index: int, ship_name: str) -> Order:
    status, items_modified = STATUS_FROM_TAU[record["status"]]
    placed_at = ORDERS_SINCE + dt.timedelta(minutes=index)
    address = record["address"]
    items = [
        OrderItem(
            position=n,
            product_id=item["product_id"],
            variant_id=item["item_id"],
            name=item["name"],
            unit_price=_money(item["price"]),
            quantity=1,
            options=dict(item["options"]),
        )
        for n, item in enumerate(record["items"])
    ]
    total = sum((item.unit_price for item in items), Decimal(0))
    shipments: list[Shipment] = []
    for n, fulfillment in enumerate(record["fulfillments"]):
        # Parcels of one fulfillment share a dispatch time, which is how export regroups them.
        shipped_at = placed_at + dt.timedelta(seconds=n + 1)
        for tracking in fulfillment["tracking_id"]:
            shipments.append(
                Shipment(
                    carrier=CARRIER,
                    service_level=ServiceLevel.STANDARD,
                    tracking_number=tracking,
                    status=SHIPMENT_STATUS[status],
                    item_ids=list(fulfillment["item_ids"]),
                    shipped_at=shipped_at,
                )
            )
    order = Order(
        id=order_id,
        customer_id=record["user_id"],
        marketplace=Marketplace.OWN_SITE,
        currency=CURRENCY,
        fx_rate=Decimal(1),
        status=status,
        items_modified=items_modified,
        placed_at=placed_at,
        subtotal=total,
        shipping_fee=Decimal(0),
        tax=Decimal(0),
        total=total,
        ship_name=ship_name,
        **_address_columns(address, "ship_"),
        cancel_reason=record.get("cancel_reason"),
        items=items,
        shipments=shipments,
        transactions=[
            PaymentTransaction(
                position=n,
                kind=TransactionKind(payment["transaction_type"]),
                status=TransactionStatus.SUCCEEDED,
                amount=_money(payment["amount"]),
                payment_method_id=payment["payment_method_id"],
                created_at=placed_at,
            )
            for n, payment in enumerate(record["payment_history"])
        ],
    )
    if "return_items" in record:
        order.returns = [
            ReturnRequest(
                item_ids=list(record["return_items"]),
                refund_payment_method_id=record["return_payment_method_id"],
                created_at=placed_at,
            )
        ]
    if "exchange_items" in record:
        order.exchanges = [
            Exchange(
                item_ids=list(record["exchange_items"]),
                new_item_ids=list(record["exchange_new_items"]),
                price_difference=_money(record["exchange_price_difference"]),
                payment_method_id=record["exchange_payment_method_id"],
                created_at=placed_at,
            )
        ]
    return order


def import_tau_retail(
    store: Store,
    data_dir: Path,
    *,
    reset: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Load the three files into the store in one unit of work.

    The files are validated before anything is touched. ``progress(done, total)`` is called as
    each product, user and order is staged; the whole import commits when this returns.
    """
    started = time.perf_counter()
    users, orders, products = load_tau_retail(data_dir)
    if reset:
        store.reset()
    total = len(products) + len(users) + len(orders)
    done = 0

    def staged(batch: list[Any]) -> None:
        nonlocal done
        if progress is None:
            done += len(batch)
            return
        for _ in batch:
            done += 1
            progress(done, total)

    names = {
        user_id: f"{record['name']['first_name']} {record['name']['last_name']}".strip() for user_id, record in users.items()
    }
    with store.write() as session:
        # Staged flushes: order items and returns reference rows through keys the ORM does not order by.
        catalogue = list(_build_products(products))
        session.add_all(catalogue)
        staged(catalogue)
        session.flush()
        customers = list(_build_customers(users))
        session.add_all(customers)
        staged(customers)
        session.flush()
        rows = [
            _build_order(order_id, record, index, names[record["user_id"]])
            for index, (order_id, record) in enumerate(orders.items())
        ]
        session.add_all(rows)
        staged(rows)
        session.flush()
    return ImportSummary(
        users=len(users),
        orders=len(orders),
        products=len(products),
        variants=sum(len(record["variants"]) for record in products.values()),
        seconds=time.perf_counter() - started,
    )


# ---------------------------------------------------------------- export


def _address(record: Customer | Order, prefix: str = "") -> dict[str, str]:
    """A customer's address (or an order's, with prefix "ship_") in the tau-retail form."""
    return {key: getattr(record, prefix + column) for key, column in _ADDRESS_COLUMNS.items()}


def _export_payment_method(method: PaymentMethod) -> dict[str, Any]:
    record: dict[str, Any] = {"source": method.kind.value}
    if method.kind == PaymentKind.CREDIT_CARD:
        record["brand"] = method.brand
        record["last_four"] = method.last_four
    elif method.kind == PaymentKind.GIFT_CARD:
        record["balance"] = float(method.balance or Decimal(0))
    record["id"] = method.id
    return record


def export_users(session: Session, only: Collection[str] | None = None) -> dict[str, Any]:
    """users.json as the store has it (or just the users named in `only`); each user's
    order list comes from their orders."""
    order_query = select(Order.customer_id, Order.id).order_by(Order.placed_at, Order.id)
    customer_query = select(Customer).options(selectinload(Customer.payment_methods)).order_by(Customer.created_at, Customer.id)
    if only is not None:
        order_query = order_query.where(Order.customer_id.in_(list(only)))
        customer_query = customer_query.where(Customer.id.in_(list(only)))
    order_ids: dict[str, list[str]] = {}
    for customer_id, order_id in session.execute(order_query):
        order_ids.setdefault(customer_id, []).append(order_id)
    customers = session.scalars(customer_query).all()
    return {
        customer.id: {
            "name": {"first_name": customer.first_name, "last_name": customer.last_name},
            "address": _address(customer),
            "email": customer.email,
            "payment_methods": {method.id: _export_payment_method(method) for method in customer.payment_methods},
            "orders": order_ids.get(customer.id, []),
        }
        for customer in customers
    }


def _export_status(order: Order) -> str:
    if order.status == OrderStatus.PENDING and order.items_modified:
        return PENDING_ITEMS_MODIFIED
    return STATUS_TO_TAU[order.status]


def _export_fulfillments(order: Order) -> list[dict[str, Any]]:
    fulfillments: list[dict[str, Any]] = []
    previous: tuple[dt.datetime, tuple[str, ...]] | None = None
    for shipment in order.shipments:
        key = (shipment.shipped_at, tuple(shipment.item_ids)) if shipment.shipped_at is not None else None
        if key is not None and key == previous:
            fulfillments[-1]["tracking_id"].append(shipment.tracking_number)
        else:
            fulfillments.append({"tracking_id": [shipment.tracking_number], "item_ids": list(shipment.item_ids)})
        previous = key
    return fulfillments


def _export_order(order: Order) -> dict[str, Any]:
    record: dict[str, Any] = {
        "order_id": order.id,
        "user_id": order.customer_id,
        "address": _address(order, "ship_"),
        # The format lists one entry per unit, so a line of quantity n is n entries.
        "items": [
            {
                "name": item.name,
                "product_id": item.product_id,
                "item_id": item.variant_id,
                "price": float(item.unit_price),
                "options": dict(item.options),
            }
            for item in order.items
            for _ in range(item.quantity)
        ],
        "fulfillments": _export_fulfillments(order),
        "status": _export_status(order),
        # Failed attempts moved no money, and the format only records money that moved.
        "payment_history": [
            {
                "transaction_type": transaction.kind.value,
                "amount": float(transaction.amount),
                "payment_method_id": transaction.payment_method_id,
            }
            for transaction in order.transactions
            if transaction.status == TransactionStatus.SUCCEEDED
        ],
    }
    if order.cancel_reason is not None:
        record["cancel_reason"] = order.cancel_reason
    if order.returns:
        latest_return = order.returns[-1]
        record["return_items"] = list(latest_return.item_ids)
        record["return_payment_method_id"] = latest_return.refund_payment_method_id
    if order.exchanges:
        latest_exchange = order.exchanges[-1]
        record["exchange_items"] = list(latest_exchange.item_ids)
        record["exchange_new_items"] = list(latest_exchange.new_item_ids)
        record["exchange_payment_method_id"] = latest_exchange.payment_method_id
        record["exchange_price_difference"] = float(latest_exchange.price_difference)
    return record


def export_orders(session: Session, only: Collection[str] | None = None) -> dict[str, Any]:
    """orders.json as the store has it (or just the orders named in `only`), oldest first."""
    query = select(Order) if only is None else select(Order).where(Order.id.in_(list(only)))
    orders = session.scalars(
        query.options(
            selectinload(Order.items),
            selectinload(Order.shipments),
            selectinload(Order.transactions),
            selectinload(Order.returns),
            selectinload(Order.exchanges),
        ).order_by(Order.placed_at, Order.id)
    ).all()
    return {order.id: _export_order(order) for order in orders}


def export_products(session: Session) -> dict[str, Any]:
    """products.json as the store has it, in catalogue order."""
    products = session.scalars(
        select(Product).options(selectinload(Product.variants)).order_by(Product.position, Product.id)
    ).all()
    return {
        product.id: {
            "name": product.name,
            "product_id": product.id,
            "variants": {
                variant.id: {
                    "item_id": variant.id,
                    "options": dict(variant.options),
                    "available": variant.available,
                    "price": float(variant.price),
                }
                for variant in product.variants
            },
        }
        for product in products
    }


def export_state(session: Session) -> dict[str, dict[str, Any]]:
    """The whole state in the tau-retail shape, for comparing before and after a replay."""
    return {
        "users": export_users(session),
        "orders": export_orders(session),
        "products": export_products(session),
    }


def export_tau_retail(store: Store, out_dir: Path) -> None:
    """Write users.json, orders.json and products.json into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with store.read() as session:
        state = export_state(session)
    for name, key in ((USERS_FILE, "users"), (ORDERS_FILE, "orders"), (PRODUCTS_FILE, "products")):
        text = json.dumps(state[key], indent=4, ensure_ascii=False)
        (out_dir / name).write_text(text + "\n", encoding="utf-8")
