"""The seller's records: SQLAlchemy 2 models for orders, customers, payments, shipments,
stock, and the support records (cases, audit ledger)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import (
    Enum as SAEnum,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

CENT = Decimal("0.01")


class Money(TypeDecorator[Decimal]):
    """A decimal amount with two places; never a float on the way in or out."""

    impl = Numeric(14, 2)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
        quantized = amount.quantize(CENT)
        # SQLite stores NUMERIC as REAL; a plain string keeps the exact value.
        return str(quantized) if dialect.name == "sqlite" else quantized

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(CENT)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps are stored and returned as timezone-aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        Decimal: Money(),
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
        # Enums are stored as their values in a VARCHAR (portable; no native enum types).
        StrEnum: SAEnum(StrEnum, native_enum=False, length=40, values_callable=lambda e: [m.value for m in e]),
    }


# ---------------------------------------------------------------- enumerations


class Marketplace(StrEnum):
    SHOPIFY = "shopify"
    AMAZON = "amazon"
    EBAY = "ebay"
    OWN_SITE = "own_site"


class OrderStatus(StrEnum):
    PENDING = "pending"  # paid, not yet handed to a carrier
    PROCESSED = "processed"  # handed to a carrier (shipment exists)
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURN_REQUESTED = "return_requested"
    EXCHANGE_REQUESTED = "exchange_requested"


class PaymentKind(StrEnum):
    CREDIT_CARD = "credit_card"
    PAYPAL = "paypal"
    GIFT_CARD = "gift_card"


class TransactionKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


class TransactionStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ShipmentStatus(StrEnum):
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    CUSTOMS_HOLD = "customs_hold"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"
    INTERCEPTED = "intercepted"


class ServiceLevel(StrEnum):
    ECONOMY = "economy"
    STANDARD = "standard"
    EXPRESS = "express"


class TrackingCode(StrEnum):
    LABEL_CREATED = "label_created"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    ARRIVED_AT_HUB = "arrived_at_hub"
    EXPORT_CLEARED = "export_cleared"
    CUSTOMS_HOLD = "customs_hold"
    CUSTOMS_CLEARED = "customs_cleared"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERED = "delivered"
    DAMAGED = "damaged"
    RETURNED_TO_SENDER = "returned_to_sender"
    INTERCEPT_REQUESTED = "intercept_requested"
    REDIRECTED = "redirected"


class RefundDestination(StrEnum):
    ORIGINAL_METHOD = "original_method"
    GIFT_CARD = "gift_card"


class CaseStatus(StrEnum):
    OPEN = "open"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"


class UrgencyLevel(StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"


class ProductIssue(StrEnum):
    """What the seller recorded as having gone wrong with an order (demo data and support)."""

    DAMAGED_ON_ARRIVAL = "damaged_on_arrival"
    WRONG_VARIANT_SHIPPED = "wrong_variant_shipped"
    DELIVERED_NOT_RECEIVED = "delivered_not_received"


# ---------------------------------------------------------------- customers and catalogue


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    preferred_language: Mapped[str] = mapped_column(String(5), default="en")
    country_code: Mapped[str] = mapped_column(String(2), default="US")
    address1: Mapped[str] = mapped_column(String(200), default="")
    address2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="", index=True)
    country: Mapped[str] = mapped_column(String(100), default="")
    lifetime_value: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    lifetime_value_currency: Mapped[str] = mapped_column(String(3), default="USD")
    is_vip: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    payment_methods: Mapped[list[PaymentMethod]] = relationship(
        back_populates="customer", order_by="PaymentMethod.position", cascade="all, delete-orphan"
    )
    orders: Mapped[list[Order]] = relationship(back_populates="customer", order_by="(Order.placed_at, Order.id)")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class PaymentMethod(Base):
    __tablename__ = "payment_methods"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[PaymentKind] = mapped_column()
    brand: Mapped[str | None] = mapped_column(String(30))
    last_four: Mapped[str | None] = mapped_column(String(4))
    balance: Mapped[Decimal | None] = mapped_column()
    currency: Mapped[str | None] = mapped_column(String(3))
    position: Mapped[int] = mapped_column(Integer, default=0)

    customer: Mapped[Customer] = relationship(back_populates="payment_methods")

    def describe(self) -> str:
        if self.kind == PaymentKind.CREDIT_CARD:
            return f"{(self.brand or 'card').title()} card ending {self.last_four}"
        if self.kind == PaymentKind.GIFT_CARD:
            return f"gift card {self.id}"
        return "PayPal"


class Product(Base):
    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    category: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", order_by="Variant.position", cascade="all, delete-orphan"
    )


class Variant(Base):
    """A sellable item: one product in one combination of options."""

    __tablename__ = "variants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str | None] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    price: Mapped[Decimal] = mapped_column()  # in the catalogue currency (see Order.fx_rate)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="variants")
    stock: Mapped[list[StockLevel]] = relationship(back_populates="variant")


class Warehouse(Base):
    __tablename__ = "warehouses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    country_code: Mapped[str] = mapped_column(String(2))


class StockLevel(Base):
    __tablename__ = "stock_levels"
    __table_args__ = (UniqueConstraint("warehouse_id", "variant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    variant_id: Mapped[str] = mapped_column(ForeignKey("variants.id"), index=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)

    variant: Mapped[Variant] = relationship(back_populates="stock")
    warehouse: Mapped[Warehouse] = relationship()


# ---------------------------------------------------------------- orders


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_ip_time", "ip_address", "placed_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the number the customer sees
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    marketplace: Mapped[Marketplace] = mapped_column(default=Marketplace.OWN_SITE)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    fx_rate: Mapped[Decimal] = mapped_column(Numeric(14, 6), default=Decimal("1"))  # order currency per catalogue unit
    status: Mapped[OrderStatus] = mapped_column(default=OrderStatus.PENDING, index=True)
    items_modified: Mapped[bool] = mapped_column(Boolean, default=False)
    placed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    subtotal: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    shipping_fee: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    ship_name: Mapped[str] = mapped_column(String(200), default="")
    ship_address1: Mapped[str] = mapped_column(String(200), default="")
    ship_address2: Mapped[str] = mapped_column(String(200), default="")
    ship_city: Mapped[str] = mapped_column(String(100), default="")
    ship_state: Mapped[str] = mapped_column(String(100), default="")
    ship_postal_code: Mapped[str] = mapped_column(String(20), default="")
    ship_country: Mapped[str] = mapped_column(String(100), default="")
    ship_country_code: Mapped[str] = mapped_column(String(2), default="US")
    ip_address: Mapped[str | None] = mapped_column(String(45))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    issue: Mapped[ProductIssue | None] = mapped_column()
    duplicate_of: Mapped[str | None] = mapped_column(String(64))

    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", order_by="OrderItem.position", cascade="all, delete-orphan"
    )
    shipments: Mapped[list[Shipment]] = relationship(back_populates="order", order_by="Shipment.id", cascade="all, delete-orphan")
    transactions: Mapped[list[PaymentTransaction]] = relationship(
        back_populates="order", order_by="PaymentTransaction.position", cascade="all, delete-orphan"
    )
    refunds: Mapped[list[Refund]] = relationship(back_populates="order", order_by="Refund.id")
    returns: Mapped[list[ReturnRequest]] = relationship(back_populates="order", order_by="ReturnRequest.id")
    exchanges: Mapped[list[Exchange]] = relationship(back_populates="order", order_by="Exchange.id")
    reshipments: Mapped[list[Reshipment]] = relationship(back_populates="order", order_by="Reshipment.id")

    @property
    def amount_paid(self) -> Decimal:
        return sum(
            (
                t.amount
                for t in self.transactions
                if t.kind == TransactionKind.PAYMENT and t.status == TransactionStatus.SUCCEEDED
            ),
            Decimal("0"),
        )

    @property
    def amount_refunded(self) -> Decimal:
        return sum(
            (t.amount for t in self.transactions if t.kind == TransactionKind.REFUND and t.status == TransactionStatus.SUCCEEDED),
            Decimal("0"),
        )


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    variant_id: Mapped[str] = mapped_column(ForeignKey("variants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal] = mapped_column()
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class PaymentTransaction(Base):
    """One entry of an order's payment history: money in (payment) or out (refund)."""

    __tablename__ = "payment_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[TransactionKind] = mapped_column()
    status: Mapped[TransactionStatus] = mapped_column(default=TransactionStatus.SUCCEEDED)
    amount: Mapped[Decimal] = mapped_column()
    payment_method_id: Mapped[str] = mapped_column(ForeignKey("payment_methods.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    order: Mapped[Order] = relationship(back_populates="transactions")
    payment_method: Mapped[PaymentMethod] = relationship()


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(40))
    service_level: Mapped[ServiceLevel] = mapped_column(default=ServiceLevel.STANDARD)
    tracking_number: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[ShipmentStatus] = mapped_column(default=ShipmentStatus.LABEL_CREATED)
    item_ids: Mapped[list[str]] = mapped_column(default=list)  # variant ids in this parcel
    warehouse_id: Mapped[str | None] = mapped_column(ForeignKey("warehouses.id"))
    shipped_at: Mapped[dt.datetime | None] = mapped_column()
    promised_delivery_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column()
    is_reshipment: Mapped[bool] = mapped_column(Boolean, default=False)

    order: Mapped[Order] = relationship(back_populates="shipments")
    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment",
        order_by="(TrackingEvent.occurred_at, TrackingEvent.id)",
        cascade="all, delete-orphan",
    )


class TrackingEvent(Base):
    __tablename__ = "tracking_events"
    __table_args__ = (
        Index("ix_tracking_events_shipment_time", "shipment_id", "occurred_at"),
        Index("ix_tracking_events_time", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    occurred_at: Mapped[dt.datetime] = mapped_column()
    code: Mapped[TrackingCode] = mapped_column()
    description: Mapped[str] = mapped_column(String(300), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    country_code: Mapped[str | None] = mapped_column(String(2))

    shipment: Mapped[Shipment] = relationship(back_populates="events")


# ---------------------------------------------------------------- after-sales records


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[Decimal] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    payment_method_id: Mapped[str] = mapped_column(ForeignKey("payment_methods.id"))
    destination: Mapped[RefundDestination] = mapped_column()
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="refunds")


class Reshipment(Base):
    __tablename__ = "reshipments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    item_ids: Mapped[list[str]] = mapped_column(default=list)
    reason: Mapped[str] = mapped_column(String(300), default="")
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="reshipments")
    shipment: Mapped[Shipment] = relationship()


class ReturnRequest(Base):
    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    item_ids: Mapped[list[str]] = mapped_column(default=list)
    refund_payment_method_id: Mapped[str] = mapped_column(ForeignKey("payment_methods.id"))
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="returns")


class Exchange(Base):
    __tablename__ = "exchanges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    item_ids: Mapped[list[str]] = mapped_column(default=list)
    new_item_ids: Mapped[list[str]] = mapped_column(default=list)
    price_difference: Mapped[Decimal] = mapped_column()
    payment_method_id: Mapped[str] = mapped_column(ForeignKey("payment_methods.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="exchanges")


class Coupon(Base):
    __tablename__ = "coupons"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    percent_off: Mapped[int | None] = mapped_column(Integer)
    amount_off: Mapped[Decimal | None] = mapped_column()
    currency: Mapped[str | None] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(300), default="")
    first_order_only: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[dt.datetime] = mapped_column()
    redeemed_order_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Case(Base):
    """A conversation or exception that needs a human, with its brief."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[CaseStatus] = mapped_column(default=CaseStatus.OPEN, index=True)
    urgency: Mapped[UrgencyLevel] = mapped_column(default=UrgencyLevel.YELLOW)
    reason: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    brief: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sla_due_at: Mapped[dt.datetime] = mapped_column(index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column()


class Message(Base):
    """One message of a conversation, as the customer, the agent or a human agent wrote it."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_time", "conversation_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))  # customer | agent | human | system
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(5))
    intent: Mapped[str | None] = mapped_column(String(40))
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """The audit ledger: one row per write attempt. A claimed idempotency key is unique, and
    the row is written in the same transaction as the change it records."""

    __tablename__ = "audit_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    tool: Mapped[str] = mapped_column(String(60), index=True)
    arguments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    arguments_digest: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100), default="system")
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    order_id: Mapped[str | None] = mapped_column(String(64), index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# ---------------------------------------------------------------- the product's own records


class StaffRole(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


class StaffUser(Base):
    """A person who works the console (agent) or also edits knowledge and policy (admin)."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[StaffRole] = mapped_column(default=StaffRole.AGENT)
    password_hash: Mapped[str] = mapped_column(String(200))
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # sha256 of an integration token
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class IdentityFailure(Base):
    """A proof of identity that matched nobody, counted against what was tried (an email, an
    order number, a name and postal code) and the address it came from: kept in the database,
    so that every conversation and every process sees the same count."""

    __tablename__ = "identity_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # email | order | name_postal | address
    digest: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the normalised value
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class StaffSession(Base):
    """A staff member's signed-in session, kept server-side: the cookie holds a random token,
    the database its hash; signing out or a new password revokes it."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class Conversation(Base):
    """A chat opened from the widget: its language, who is on it (the agent or a human) and
    the customer's rating."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    mode: Mapped[str] = mapped_column(String(10), default="agent")  # agent | human (taken over)
    handled_by: Mapped[str | None] = mapped_column(String(254))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DocumentVersion(Base):
    """One saved version of a knowledge document; the highest version is the live one."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("profile", "path", "version", name="uq_document_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    profile: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(300), index=True)  # <language>/<name>.md
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# ---------------------------------------------------------------- the exception monitor


class FlagStatus(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    FALSE_ALARM = "false_alarm"
    RESOLVED = "resolved"


class Flag(Base):
    """Something the exception monitor found: one row per rule and subject (an order, a parcel,
    a variant), with the reason in words, how urgent it is and the playbook that handles it."""

    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("rule", "subject_key", name="uq_flag_rule_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(40), index=True)
    subject_key: Mapped[str] = mapped_column(String(120))
    order_id: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)
    urgency: Mapped[UrgencyLevel] = mapped_column(default=UrgencyLevel.YELLOW)
    playbook: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[FlagStatus] = mapped_column(default=FlagStatus.OPEN, index=True)
    measured: Mapped[float | None] = mapped_column(Float)  # the value the rule compared with its threshold
    feedback_by: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MonitorCursor(Base):
    """How far the exception monitor has read one kind of record (the last id or time it saw)."""

    __tablename__ = "monitor_cursors"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_id: Mapped[int | None] = mapped_column(Integer)
    last_time: Mapped[dt.datetime | None] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """One message waiting for (or past) delivery."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(20))  # email | sms
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5), default="en")
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)  # one message per playbook run
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column()


class ShipmentHold(Base):
    """An order the warehouse must not ship until the hold is released (an address to confirm)."""

    __tablename__ = "shipment_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    released_at: Mapped[dt.datetime | None] = mapped_column()
