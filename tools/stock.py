"""Stock and shipments the shop holds back: releasing units an order can no longer claim,
holding an order in the warehouse."""

from __future__ import annotations

from pydantic import Field
from sqlalchemy import select

from commerce.models import OrderStatus, ShipmentHold, ShipmentStatus, StockLevel
from tools.base import ErrorCode, ToolArgs, ToolContext, ToolError, ToolKind, ToolResult, tool


class ReleaseStockArgs(ToolArgs):
    order_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=300)


class ReleasedUnits(ToolResult):
    variant_id: str
    warehouse_id: str
    units: int


class StockReleased(ToolResult):
    order_id: str
    released: list[ReleasedUnits]


@tool(
    kind=ToolKind.WRITE,
    target="order",
    gerund="releasing reserved stock",
    noun="Stock releases",
    takes_reason=True,
    rule="release_stock",
    consent=False,
)
def release_stock(context: ToolContext, args: ReleaseStockArgs) -> StockReleased:
    """Give back the units an unshipped order holds (reserved stock), so other buyers can have
    them: for an order whose payment failed, or one that will not ship. The order itself is
    left as it is."""
    order = context.order(args.order_id, for_update=True)
    if order.status not in (OrderStatus.PENDING, OrderStatus.PROCESSED) or order.shipments:
        raise ToolError(ErrorCode.INVALID_STATE, f"Order {order.id} is {order.status.value}: it holds no stock to release.")
    wanted: dict[str, int] = {}
    for item in order.items:
        wanted[item.variant_id] = wanted.get(item.variant_id, 0) + item.quantity
    levels = context.session.scalars(
        select(StockLevel)
        .where(StockLevel.variant_id.in_(wanted), StockLevel.reserved > 0)
        .order_by(StockLevel.reserved.desc(), StockLevel.warehouse_id)
        .with_for_update()
    ).all()
    released: list[ReleasedUnits] = []
    for level in levels:
        units = min(level.reserved, wanted.get(level.variant_id, 0))
        if units <= 0:
            continue
        level.reserved -= units
        wanted[level.variant_id] -= units
        released.append(ReleasedUnits(variant_id=level.variant_id, warehouse_id=level.warehouse_id, units=units))
    return StockReleased(order_id=order.id, released=released)


class HoldShipmentArgs(ToolArgs):
    order_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=300)


class ShipmentHeld(ToolResult):
    order_id: str
    hold_id: int


@tool(
    kind=ToolKind.WRITE,
    target="order",
    gerund="holding a shipment",
    noun="Shipment holds",
    takes_reason=True,
    rule="hold_shipment",
    consent=False,
)
def hold_shipment(context: ToolContext, args: HoldShipmentArgs) -> ShipmentHeld:
    """Stop an order that has not left the warehouse from being shipped until the hold is
    released (for example while the customer confirms the delivery address)."""
    order = context.order(args.order_id, for_update=True)
    if order.status not in (OrderStatus.PENDING, OrderStatus.PROCESSED) or any(
        s.status not in (ShipmentStatus.LABEL_CREATED,) for s in order.shipments
    ):
        raise ToolError(ErrorCode.INVALID_STATE, f"Order {order.id} has already left the warehouse: it cannot be held.")
    hold = ShipmentHold(order_id=order.id, reason=args.reason, created_at=context.now())
    context.session.add(hold)
    context.session.flush()
    return ShipmentHeld(order_id=order.id, hold_id=hold.id)
