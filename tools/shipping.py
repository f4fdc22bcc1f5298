"""Parcels: tracking, carrier switches and upgrades, intercepts and reshipments."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from enum import StrEnum

from pydantic import Field, model_validator
from sqlalchemy import select

from commerce.carriers import CARRIERS, get_carrier
from commerce.models import (
    OrderStatus,
    Reshipment,
    ServiceLevel,
    Shipment,
    ShipmentStatus,
    StockLevel,
    TrackingCode,
    TrackingEvent,
)
from tools.base import ErrorCode, ToolArgs, ToolContext, ToolError, ToolKind, ToolResult, tool
from tools.orders import match_lines, not_yet_shipped, set_shipping_address
from tools.views import Address, ShipmentView, TrackingEventView, shipment_view, tracking_event_view

IN_TRANSIT = (ShipmentStatus.IN_TRANSIT, ShipmentStatus.CUSTOMS_HOLD, ShipmentStatus.OUT_FOR_DELIVERY)


class TrackShipmentArgs(ToolArgs):
    order_id: str | None = Field(default=None, max_length=64)
    tracking_number: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one_key(self) -> TrackShipmentArgs:
        if not (self.order_id or self.tracking_number):
            raise ValueError("give an order_id or a tracking_number")
        return self


class ParcelTracking(ToolResult):
    shipment: ShipmentView
    events: list[TrackingEventView]
    days_since_last_event: int | None
    promised_date_passed: bool


class ShipmentTracking(ToolResult):
    order_id: str
    order_status: str
    parcels: list[ParcelTracking]


class SwitchCarrierArgs(ToolArgs):
    order_id: str = Field(min_length=1, max_length=64)
    carrier: str = Field(min_length=2, max_length=40, description=f"One of: {', '.join(CARRIERS)}.")
    service_level: ServiceLevel = Field(default=ServiceLevel.STANDARD)


class CarrierSwitched(ToolResult):
    order_id: str
    carrier: str
    service_level: str
    promised_delivery_date: dt.date | None


class InterceptAction(StrEnum):
    REDIRECT = "redirect"
    RETURN_TO_SENDER = "return_to_sender"


class InterceptParcelArgs(ToolArgs):
    order_id: str = Field(min_length=1, max_length=64)
    action: InterceptAction
    address: Address | None = Field(default=None, description="The new address, for action redirect.")

    @model_validator(mode="after")
    def _address_for_redirect(self) -> InterceptParcelArgs:
        if self.action == InterceptAction.REDIRECT and self.address is None:
            raise ValueError("a redirect needs the new address")
        return self


class ParcelIntercepted(ToolResult):
    order_id: str
    tracking_number: str
    action: str
    carrier: str


class CreateReshipmentArgs(ToolArgs):
    order_id: str = Field(min_length=1, max_length=64)
    item_ids: list[str] = Field(min_length=1, max_length=50, description="Item (variant) ids to send again.")
    reason: str = Field(min_length=1, max_length=300)
    carrier: str | None = Field(default=None, max_length=40, description="Defaults to the original carrier.")
    service_level: ServiceLevel | None = None


class ReshipmentCreated(ToolResult):
    order_id: str
    tracking_number: str
    carrier: str
    service_level: str
    item_ids: list[str]
    warehouse_id: str | None
    promised_delivery_date: dt.date


def _shipments_of(context: ToolContext, args: TrackShipmentArgs) -> tuple[str, str, list[Shipment]]:
    if args.order_id:
        order = context.order(args.order_id)
        return order.id, order.status.value, list(order.shipments)
    shipment = context.session.scalars(
        select(Shipment).where(Shipment.tracking_number == (args.tracking_number or "").strip())
    ).first()
    if shipment is None:
        raise ToolError(ErrorCode.NOT_FOUND, f"No parcel has tracking number {args.tracking_number}.")
    context.check_owner(shipment.order.customer_id, f"Parcel {shipment.tracking_number}")
    return shipment.order.id, shipment.order.status.value, [shipment]


@tool(
    kind=ToolKind.READ,
    target="order",
    gerund="tracking a shipment",
    noun="Tracking look-ups",
    model_visible=True,
)
def track_shipment(context: ToolContext, args: TrackShipmentArgs) -> ShipmentTracking:
    """Track an order's parcels: carrier, tracking number, every tracking event with time and
    place, the promised delivery date and whether it has passed."""
    order_id, status, shipments = _shipments_of(context, args)
    now = context.now()
    parcels = []
    for s in shipments:
        last = s.events[-1].occurred_at if s.events else None
        passed = bool(s.promised_delivery_date and s.status != ShipmentStatus.DELIVERED and now.date() > s.promised_delivery_date)
        parcels.append(
            ParcelTracking(
                shipment=shipment_view(s),
                events=[tracking_event_view(e) for e in s.events],
                days_since_last_event=(now - last).days if last else None,
                promised_date_passed=passed,
            )
        )
    return ShipmentTracking(order_id=order_id, order_status=status, parcels=parcels)


def _tracking_number(prefix: str, seed: str) -> str:
    return prefix + str(int(hashlib.sha256(seed.encode()).hexdigest()[:15], 16))[:12].rjust(12, "0")


@tool(
    kind=ToolKind.WRITE,
    target="order",
    gerund="switching the carrier",
    noun="Carrier switches",
    rule="switch_carrier",
    consent=True,
    model_visible=True,
)
def switch_carrier(context: ToolContext, args: SwitchCarrierArgs) -> CarrierSwitched:
    """Ship an order with another carrier or a faster service level, before the parcel is picked up."""
    order = context.order(args.order_id, for_update=True)
    carrier = get_carrier(args.carrier)
    if carrier is None:
        raise ToolError(ErrorCode.INVALID_ARGUMENT, f"Unknown carrier {args.carrier}; choose one of {', '.join(CARRIERS)}.")
    if args.service_level not in carrier.service_levels:
        levels = ", ".join(s.value for s in carrier.service_levels)
        raise ToolError(ErrorCode.INVALID_ARGUMENT, f"{carrier.name} offers {levels}, not {args.service_level.value}.")
    if order.status not in (OrderStatus.PENDING, OrderStatus.PROCESSED) or not not_yet_shipped(order):
        raise ToolError(ErrorCode.INVALID_STATE, f"Order {order.id} is already with its carrier; the carrier cannot change now.")
    promised = None
    base = context.now().date()
    if not order.shipments:
        order.shipments.append(
            Shipment(
                carrier=carrier.code,
                service_level=args.service_level,
                status=ShipmentStatus.LABEL_CREATED,
                tracking_number="",
                item_ids=[i.variant_id for i in order.items],
            )
        )
    for index, shipment in enumerate(order.shipments):
        shipment.carrier = carrier.code
        shipment.service_level = args.service_level
        shipment.tracking_number = _tracking_number(carrier.tracking_prefix, f"{order.id}:{carrier.code}:{index}")
        promised = base + dt.timedelta(days=carrier.transit_days[args.service_level])
        shipment.promised_delivery_date = promised
    return CarrierSwitched(
        order_id=order.id, carrier=carrier.code, service_level=args.service_level.value, promised_delivery_date=promised
    )


@tool(
    kind=ToolKind.WRITE,
    target="order",
    gerund="intercepting a parcel",
    noun="Parcel intercepts",
    rule="intercept_parcel",
    consent=True,
    model_visible=True,
)
def intercept_parcel(context: ToolContext, args: InterceptParcelArgs) -> ParcelIntercepted:
    """Ask the carrier to stop a parcel in transit and redirect it to a new address or return it to the seller."""
    order = context.order(args.order_id, for_update=True)
    moving = [s for s in order.shipments if s.status in IN_TRANSIT]
    if not moving:
        raise ToolError(ErrorCode.INVALID_STATE, f"Order {order.id} has no parcel in transit to intercept.")
    shipment = moving[-1]
    carrier = get_carrier(shipment.carrier)
    if carrier is None or not carrier.supports_intercept:
        raise ToolError(ErrorCode.INVALID_STATE, f"{shipment.carrier.upper()} does not accept intercept requests.")
    now = context.now()
    description = (
        "Intercept requested: return to sender"
        if args.action == InterceptAction.RETURN_TO_SENDER
        else "Intercept requested: redirect to a new address"
    )
    shipment.events.append(
        TrackingEvent(occurred_at=now, code=TrackingCode.INTERCEPT_REQUESTED, description=description, location="")
    )
    shipment.status = ShipmentStatus.INTERCEPTED
    if args.action == InterceptAction.REDIRECT and args.address is not None:
        set_shipping_address(order, args.address)
    return ParcelIntercepted(
        order_id=order.id, tracking_number=shipment.tracking_number, action=args.action.value, carrier=shipment.carrier
    )


@tool(
    kind=ToolKind.WRITE,
    target="order",
    gerund="sending a replacement",
    noun="Reshipments",
    takes_reason=True,
    moves_money=True,
    rule="create_reshipment",
    consent=True,
    model_visible=True,
)
def create_reshipment(context: ToolContext, args: CreateReshipmentArgs) -> ReshipmentCreated:
    """Send items of a shipped order again at no charge (lost, damaged or wrong item), from a
    warehouse that has them in stock."""
    order = context.order(args.order_id, for_update=True)
    # ("Send the right one and I'll return the wrong one": the return may be opened first.)
    if order.status not in (OrderStatus.PROCESSED, OrderStatus.DELIVERED, OrderStatus.RETURN_REQUESTED):
        raise ToolError(
            ErrorCode.INVALID_STATE, f"Order {order.id} is {order.status.value}; only shipped orders can be reshipped."
        )
    lines = match_lines(order, args.item_ids)
    most = context.caller.limits.reshipments_per_order
    if most is not None and len(order.reshipments) >= most:
        raise ToolError(
            ErrorCode.LIMIT_EXCEEDED, f"Order {order.id} has been sent again {len(order.reshipments)} time(s) already."
        )
    context.check_given_back(order, sum((li.unit_price * li.quantity for li in lines), Decimal(0)))
    original = order.shipments[0] if order.shipments else None
    carrier = get_carrier(args.carrier or (original.carrier if original else "dhl"))
    if carrier is None:
        raise ToolError(ErrorCode.INVALID_ARGUMENT, f"Unknown carrier {args.carrier}; choose one of {', '.join(CARRIERS)}.")
    level = args.service_level or (original.service_level if original else ServiceLevel.STANDARD)
    if level not in carrier.service_levels:
        level = carrier.service_levels[-1]
    warehouse_id = _reserve_stock(context, [li.variant_id for li in lines], [li.quantity for li in lines])
    now = context.now()
    promised = now.date() + dt.timedelta(days=carrier.transit_days[level])
    shipment = Shipment(
        carrier=carrier.code,
        service_level=level,
        status=ShipmentStatus.LABEL_CREATED,
        tracking_number=_tracking_number(
            carrier.tracking_prefix, f"{order.id}:reship:{len(order.reshipments)}:{now.isoformat()}"
        ),
        item_ids=[li.variant_id for li in lines],
        warehouse_id=warehouse_id,
        promised_delivery_date=promised,
        is_reshipment=True,
    )
    shipment.events.append(
        TrackingEvent(occurred_at=now, code=TrackingCode.LABEL_CREATED, description="Replacement label created", location="")
    )
    order.shipments.append(shipment)
    context.session.flush()
    context.session.add(
        Reshipment(
            order=order, item_ids=[li.variant_id for li in lines], reason=args.reason, shipment_id=shipment.id, created_at=now
        )
    )
    return ReshipmentCreated(
        order_id=order.id,
        tracking_number=shipment.tracking_number,
        carrier=carrier.code,
        service_level=level.value,
        item_ids=[li.variant_id for li in lines],
        warehouse_id=warehouse_id,
        promised_delivery_date=promised,
    )


def _reserve_stock(context: ToolContext, variant_ids: list[str], quantities: list[int]) -> str | None:
    """Reserve the units in one warehouse that has them all; None when stock is not tracked."""
    needed: dict[str, int] = {}
    for variant_id, quantity in zip(variant_ids, quantities, strict=True):
        needed[variant_id] = needed.get(variant_id, 0) + quantity
    levels = context.session.scalars(
        select(StockLevel).where(StockLevel.variant_id.in_(needed)).order_by(StockLevel.warehouse_id).with_for_update()
    ).all()
    if not levels:
        return None
    by_warehouse: dict[str, dict[str, StockLevel]] = {}
    for level in levels:
        by_warehouse.setdefault(level.warehouse_id, {})[level.variant_id] = level
    for warehouse_id, stock in by_warehouse.items():
        if all(v in stock and stock[v].on_hand - stock[v].reserved >= n for v, n in needed.items()):
            for v, n in needed.items():
                stock[v].reserved += n
            return warehouse_id
    raise ToolError(ErrorCode.OUT_OF_STOCK, "No warehouse has all of these items in stock.")
