"""Returns and exchanges of delivered orders."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from commerce.models import Exchange, Order, OrderStatus, PaymentKind, ReturnRequest, TransactionKind
from tools.base import (
    ErrorCode,
    ToolArgs,
    ToolContext,
    ToolError,
    ToolKind,
    ToolResult,
    require_gift_card_balance,
    tool,
)
from tools.orders import ItemIds, ItemSwapArgs, match_lines, price_difference, replacement_variants
from tools.views import items_sent_back


class ReturnItemsArgs(ToolArgs):
    order_id: str = Field(min_length=1, max_length=64)
    item_ids: list[str] = ItemIds
    payment_method_id: str = Field(
        min_length=1, max_length=64, description="Receives the refund: the original payment method or a gift card."
    )
    reason: str = Field(default="", max_length=300)


class ReturnRequested(ToolResult):
    order_id: str
    status: str
    item_ids: list[str]
    refund_amount: Decimal
    currency: str
    payment_method_id: str


class ExchangeItemsArgs(ItemSwapArgs):
    order_id: str = Field(min_length=1, max_length=64)
    new_item_ids: list[str] = Field(
        min_length=1, max_length=50, description="For each item, the variant wanted instead (same product)."
    )


class ExchangeRequested(ToolResult):
    order_id: str
    status: str
    item_ids: list[str]
    new_item_ids: list[str]
    price_difference: Decimal
    currency: str
    payment_method_id: str


def _require_delivered(order: Order, item_ids: list[str], what: str) -> None:
    """A delivered order, or one whose other items already go back or are exchanged ("return the
    bottle, and the tracker one size smaller"): an item is returned or exchanged once."""
    if order.status == OrderStatus.DELIVERED:
        return
    if order.status in (OrderStatus.RETURN_REQUESTED, OrderStatus.EXCHANGE_REQUESTED):
        taken = sorted(items_sent_back(order) & set(item_ids))
        if not taken:
            return
        raise ToolError(
            ErrorCode.INVALID_STATE, f"Items {', '.join(taken)} of order {order.id} are already returned or exchanged."
        )
    raise ToolError(ErrorCode.INVALID_STATE, f"Order {order.id} is {order.status.value}; only delivered orders can be {what}.")


@tool(
    kind=ToolKind.WRITE,
    target="order",
    gerund="returning items",
    noun="Returns",
    rule="return_items",
    consent=True,
    model_visible=True,
)
def return_items(context: ToolContext, args: ReturnItemsArgs) -> ReturnRequested:
    """Open a return for items of a delivered order. The customer gets return instructions by
    email; the refund goes to the original payment method or a gift card once the items arrive."""
    order = context.order(args.order_id, for_update=True)
    _require_delivered(order, args.item_ids, "returned")
    method = context.payment_method(order.customer, args.payment_method_id)
    first_payment = next((t for t in order.transactions if t.kind == TransactionKind.PAYMENT), None)
    original = first_payment.payment_method_id if first_payment else None
    if method.kind != PaymentKind.GIFT_CARD and method.id != original:
        raise ToolError(ErrorCode.INVALID_ARGUMENT, "A return is refunded to the original payment method or to a gift card.")
    lines = match_lines(order, args.item_ids)
    if order.status == OrderStatus.DELIVERED:
        order.status = OrderStatus.RETURN_REQUESTED
    ids = sorted(args.item_ids)
    context.session.add(
        ReturnRequest(order=order, item_ids=ids, refund_payment_method_id=method.id, reason=args.reason, created_at=context.now())
    )
    return ReturnRequested(
        order_id=order.id,
        status=order.status.value,
        item_ids=ids,
        refund_amount=sum((li.line_total for li in lines), Decimal("0")),
        currency=order.currency,
        payment_method_id=method.id,
    )


@tool(
    kind=ToolKind.WRITE,
    target="order",
    gerund="exchanging items",
    noun="Exchanges",
    rule="exchange_items",
    consent=True,
    model_visible=True,
)
def exchange_items(context: ToolContext, args: ExchangeItemsArgs) -> ExchangeRequested:
    """Exchange items of a delivered order for other variants of the same product. All items
    to exchange must be in this one call; the price difference is settled on the given method."""
    order = context.order(args.order_id, for_update=True)
    _require_delivered(order, args.item_ids, "exchanged")
    lines = match_lines(order, args.item_ids)
    variants = replacement_variants(context, lines, args.new_item_ids)
    difference = price_difference(order, lines, variants)
    method = context.payment_method(order.customer, args.payment_method_id)
    require_gift_card_balance(method, difference, "the price difference")
    if order.status == OrderStatus.DELIVERED:
        order.status = OrderStatus.EXCHANGE_REQUESTED
    old_ids, new_ids = sorted(args.item_ids), sorted(args.new_item_ids)
    context.session.add(
        Exchange(
            order=order,
            item_ids=old_ids,
            new_item_ids=new_ids,
            price_difference=difference,
            payment_method_id=method.id,
            created_at=context.now(),
        )
    )
    return ExchangeRequested(
        order_id=order.id,
        status=order.status.value,
        item_ids=old_ids,
        new_item_ids=new_ids,
        price_difference=difference,
        currency=order.currency,
        payment_method_id=method.id,
    )
