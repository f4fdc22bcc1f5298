"""Typed views of the store's records, as tools return them. Card numbers never appear:
a card is its brand and last four digits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import ConfigDict, Field

from commerce.models import (
    Customer,
    Order,
    PaymentMethod,
    PaymentTransaction,
    Product,
    Shipment,
    TrackingEvent,
)
from tools.base import ToolResult


class View(ToolResult):
    """A record as a tool returns it."""


class Address(View):
    """A postal address."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(default="", max_length=200, description="Recipient name; empty keeps the current one.")
    address1: str = Field(min_length=1, max_length=200, description="Street and house number.")
    address2: str = Field(default="", max_length=200, description="Apartment, suite, floor.")
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(default="", max_length=100, description="State, province or region.")
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(min_length=2, max_length=100, description="Country name or ISO code.")
    country_code: str | None = Field(default=None, min_length=2, max_length=2, description="ISO 3166 alpha-2.")


class PaymentMethodView(View):
    id: str
    kind: str
    description: str
    brand: str | None = None
    last_four: str | None = None
    balance: Decimal | None = None
    currency: str | None = None


class CustomerView(View):
    customer_id: str
    first_name: str
    last_name: str
    email: str
    phone: str | None
    preferred_language: str
    country_code: str
    address: Address
    is_vip: bool
    lifetime_value: Decimal
    lifetime_value_currency: str
    payment_methods: list[PaymentMethodView]
    order_ids: list[str]


class OrderItemView(View):
    position: int
    product_id: str
    item_id: str = Field(description="The variant id of the item.")
    name: str
    options: dict[str, Any]
    unit_price: Decimal
    quantity: int


class TransactionView(View):
    kind: str
    amount: Decimal
    payment_method_id: str
    status: str


class TrackingEventView(View):
    occurred_at: dt.datetime
    code: str
    description: str
    location: str


class ShipmentView(View):
    carrier: str
    service_level: str
    tracking_number: str
    status: str
    item_ids: list[str]
    shipped_at: dt.datetime | None
    promised_delivery_date: dt.date | None
    delivered_at: dt.datetime | None
    is_reshipment: bool
    last_event: TrackingEventView | None = None


class OrderView(View):
    order_id: str
    customer_id: str
    marketplace: str
    status: str
    items_modified: bool
    currency: str
    placed_at: dt.datetime
    subtotal: Decimal
    shipping_fee: Decimal
    tax: Decimal
    total: Decimal
    amount_paid: Decimal
    amount_refunded: Decimal
    shipping_address: Address
    items: list[OrderItemView]
    shipments: list[ShipmentView]
    payment_history: list[TransactionView]
    cancel_reason: str | None
    items_sent_back: list[str] = Field(default_factory=list, description="Items already in a return or an exchange.")


def _address(record: Customer | Order, prefix: str, name: str) -> Address:
    """The address in a record's columns `prefix`address1, `prefix`city...; a missing street,
    city or postal code reads "-", a missing country name the country code."""

    def column(part: str) -> Any:
        return getattr(record, prefix + part)

    return Address(
        name=name,
        address1=column("address1") or "-",
        address2=column("address2"),
        city=column("city") or "-",
        state=column("state"),
        postal_code=column("postal_code") or "-",
        country=column("country") or column("country_code"),
        country_code=column("country_code"),
    )


def address_of_customer(customer: Customer) -> Address:
    return _address(customer, "", customer.full_name)


def address_of_order(order: Order) -> Address:
    return _address(order, "ship_", order.ship_name)


def payment_method_view(method: PaymentMethod) -> PaymentMethodView:
    return PaymentMethodView(
        id=method.id,
        kind=method.kind.value,
        description=method.describe(),
        brand=method.brand,
        last_four=method.last_four,
        balance=method.balance,
        currency=method.currency,
    )


def customer_view(customer: Customer) -> CustomerView:
    return CustomerView(
        customer_id=customer.id,
        first_name=customer.first_name,
        last_name=customer.last_name,
        email=customer.email,
        phone=customer.phone,
        preferred_language=customer.preferred_language,
        country_code=customer.country_code,
        address=address_of_customer(customer),
        is_vip=customer.is_vip,
        lifetime_value=customer.lifetime_value,
        lifetime_value_currency=customer.lifetime_value_currency,
        payment_methods=[payment_method_view(m) for m in customer.payment_methods],
        order_ids=[o.id for o in customer.orders],
    )


def tracking_event_view(event: TrackingEvent) -> TrackingEventView:
    return TrackingEventView(
        occurred_at=event.occurred_at,
        code=event.code.value,
        description=event.description,
        location=event.location,
    )


def shipment_view(shipment: Shipment) -> ShipmentView:
    return ShipmentView(
        carrier=shipment.carrier,
        service_level=shipment.service_level.value,
        tracking_number=shipment.tracking_number,
        status=shipment.status.value,
        item_ids=list(shipment.item_ids),
        shipped_at=shipment.shipped_at,
        promised_delivery_date=shipment.promised_delivery_date,
        delivered_at=shipment.delivered_at,
        is_reshipment=shipment.is_reshipment,
        last_event=tracking_event_view(shipment.events[-1]) if shipment.events else None,
    )


def transaction_view(transaction: PaymentTransaction) -> TransactionView:
    return TransactionView(
        kind=transaction.kind.value,
        amount=transaction.amount,
        payment_method_id=transaction.payment_method_id,
        status=transaction.status.value,
    )


def order_view(order: Order) -> OrderView:
    return OrderView(
        order_id=order.id,
        customer_id=order.customer_id,
        marketplace=order.marketplace.value,
        status=order.status.value,
        items_modified=order.items_modified,
        currency=order.currency,
        placed_at=order.placed_at,
        subtotal=order.subtotal,
        shipping_fee=order.shipping_fee,
        tax=order.tax,
        total=order.total,
        amount_paid=order.amount_paid,
        amount_refunded=order.amount_refunded,
        shipping_address=address_of_order(order),
        items=[
            OrderItemView(
                position=i.position,
                product_id=i.product_id,
                item_id=i.variant_id,
                name=i.name,
                options=dict(i.options),
                unit_price=i.unit_price,
                quantity=i.quantity,
            )
            for i in order.items
        ],
        shipments=[shipment_view(s) for s in order.shipments],
        payment_history=[transaction_view(t) for t in order.transactions],
        cancel_reason=order.cancel_reason,
        items_sent_back=sorted(items_sent_back(order)),
    )


def items_sent_back(order: Order) -> set[str]:
    """The order's items already in a return or an exchange."""
    return {i for r in order.returns for i in r.item_ids} | {i for e in order.exchanges for i in e.item_ids}


def product_variants(product: Product) -> dict[str, Any]:
    return {v.id: {"options": dict(v.options), "price": v.price, "available": v.available} for v in product.variants}
