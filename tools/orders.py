"""Reading orders and changing orders that have not left the warehouse: cancel, modify
items, modify payment, change the shipping address."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from pydantic import Field, model_validator

from commerce.models import (
    Order,
    OrderItem,
    OrderStatus,
    PaymentKind,
    PaymentTransaction,
    ShipmentStatus,
    TransactionKind,
    TransactionStatus,
    Variant,
)
from commerce.money import convert
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
from tools.refunds import RefundLine, net_paid_by_method, refund_to_method
from tools.views import Address, OrderView, TransactionView, address_of_order, order_view, transaction_view

OrderId = Field(min_length=1, max_length=64, description="The order number, e.g. #W1234567 or 123-1234567-1234567.")
ItemIds = Field(min_length=1, max_length=50, description="Item (variant) ids of the order's items; repeat an id for each unit.")


class GetOrderArgs(ToolArgs):
    order_id: str = OrderId


class CancelOrderArgs(ToolArgs):
    order_id: str = OrderId
    reason: str = Field(min_length=1, max_length=200, description="Why the customer cancels, in their words or a policy reason.")


class OrderCancelled(ToolResult):
    order_id: str
    status: str
    refunds: list[RefundLine]


class ItemSwapArgs(ToolArgs):
    # Items of an order, each swapped for another variant of the same product, and the
    # payment method that settles the price difference.
    order_id: str = OrderId
    item_ids: list[str] = ItemIds
    new_item_ids: list[str] = Field(
        min_length=1, max_length=50, description="For each item, the variant it becomes (same product)."
    )
    payment_method_id: str = Field(min_length=1, max_length=64, description="Pays or receives the price difference.")

    @model_validator(mode="after")
    def _same_length(self) -> ItemSwapArgs:
        if len(self.item_ids) != len(self.new_item_ids):
            raise ValueError("item_ids and new_item_ids must have the same length")
        return self


class ModifyOrderItemsArgs(ItemSwapArgs):
    pass


class OrderItemsModified(ToolResult):
    order_id: str
    status: str
    price_difference: Decimal = Field(description="Positive: the customer paid more; negative: refunded.")
    currency: str
    settlement: TransactionView


class ModifyOrderPaymentArgs(ToolArgs):
    order_id: str = OrderId
    payment_method_id: str = Field(min_length=1, max_length=64)


class OrderPaymentModified(ToolResult):
    order_id: str
    payment_method_id: str
    amount: Decimal
    currency: str


class ChangeShippingAddressArgs(ToolArgs):
    order_id: str = OrderId
    address: Address


class ShippingAddressChanged(ToolResult):
    order_id: str
    address: Address


def not_yet_shipped(order: Order) -> bool:
    """True while no parcel of the order has been handed to a carrier."""
    return all(s.status == ShipmentStatus.LABEL_CREATED for s in order.shipments)


def _require_pending(order: Order) -> None:
    if order.status != OrderStatus.PENDING:
        raise ToolError(
            ErrorCode.INVALID_STATE, f"Order {order.id} is {order.status.value}; only pending orders can be modified."
        )


def append_transaction(
    order: Order, kind: TransactionKind, amount: Decimal, payment_method_id: str, context: ToolContext
) -> PaymentTransaction:
    transaction = PaymentTransaction(
        kind=kind,
        amount=amount,
        payment_method_id=payment_method_id,
        status=TransactionStatus.SUCCEEDED,
        position=len(order.transactions),
        created_at=context.now(),
    )
    order.transactions.append(transaction)
    return transaction


def match_lines(order: Order, item_ids: list[str]) -> list[OrderItem]:
    """The order lines the ids name, one distinct line per id, in the order given."""
    available = Counter(line.variant_id for line in order.items)
    for item_id, wanted in Counter(item_ids).items():
        if wanted > available.get(item_id, 0):
            raise ToolError(ErrorCode.NOT_FOUND, f"Item {item_id} is not in order {order.id} (or not that many times).")
    taken: set[int] = set()
    lines = []
    for item_id in item_ids:
        line = next(li for li in order.items if li.variant_id == item_id and li.id not in taken)
        taken.add(line.id)
        lines.append(line)
    return lines


def replacement_variants(context: ToolContext, lines: list[OrderItem], new_item_ids: list[str]) -> list[Variant]:
    """New variants for the lines: each must exist, be available and belong to the same product."""
    variants = []
    for line, new_id in zip(lines, new_item_ids, strict=True):
        variant = context.session.get(Variant, new_id)
        if variant is None or variant.product_id != line.product_id:
            raise ToolError(
                ErrorCode.INVALID_ARGUMENT,
                f"Item {new_id} is not a variant of the same product as {line.variant_id} ({line.name}).",
            )
        if not variant.available:
            raise ToolError(ErrorCode.OUT_OF_STOCK, f"Item {new_id} ({line.name}) is not available.")
        variants.append(variant)
    return variants


def price_difference(order: Order, lines: list[OrderItem], variants: list[Variant]) -> Decimal:
    """What the new variants cost minus what the old lines cost, in the order's currency."""
    new_total = sum(
        (convert(v.price, order.fx_rate, order.currency) * li.quantity for li, v in zip(lines, variants, strict=True)),
        Decimal("0"),
    )
    old_total = sum((li.line_total for li in lines), Decimal("0"))
    return new_total - old_total


@tool(
    kind=ToolKind.READ,
    target="order",
    gerund="reading an order",
    noun="Order reads",
    model_visible=True,
)
def get_order(context: ToolContext, args: GetOrderArgs) -> OrderView:
    """Get an order: status, items with item ids and prices, amounts, shipping address, shipments and payment history."""
    return order_view(context.order(args.order_id))


@tool(
    kind=ToolKind.WRITE,
    target="order",
    gerund="cancelling an order",
    noun="Cancellations",
    takes_reason=True,
    moves_money=True,
    rule="cancel_order",
    consent=True,
    model_visible=True,
)
def cancel_order(context: ToolContext, args: CancelOrderArgs) -> OrderCancelled:
    """Cancel an order that has not been handed to a carrier, and refund what was paid to the
    methods it was paid with (gift cards at once, cards and PayPal in 5 to 7 business days)."""
    order = context.order(args.order_id, for_update=True)
    shippable = order.status == OrderStatus.PENDING or (order.status == OrderStatus.PROCESSED and not_yet_shipped(order))
    if not shippable:
        raise ToolError(ErrorCode.INVALID_STATE, f"Order {order.id} is {order.status.value} and can no longer be cancelled.")
    refunds = [
        refund_to_method(context, order, context.payment_method(order.customer, method_id), amount, args.reason)
        for method_id, amount in reversed(net_paid_by_method(order).items())
        if amount > 0
    ]
    order.status = OrderStatus.CANCELLED
    order.cancel_reason = args.reason
    order.cancelled_at = context.now()
    return OrderCancelled(order_id=order.id, status=order.status.value, refunds=refunds)


@tool(
    kind=ToolKind.WRITE,
    target="order",
    gerund="changing an order's items",
    noun="Item changes",
    rule="modify_order_items",
    consent=True,
    model_visible=True,
)
def modify_order_items(context: ToolContext, args: ModifyOrderItemsArgs) -> OrderItemsModified:
    """Swap items of a pending order for other variants of the same product (size, colour...).
    All items to change must be in this one call; the price difference is charged to, or
    refunded to, the given payment method."""
    order = context.order(args.order_id, for_update=True)
    _require_pending(order)
    lines = match_lines(order, args.item_ids)
    variants = replacement_variants(context, lines, args.new_item_ids)
    difference = price_difference(order, lines, variants)
    method = context.payment_method(order.customer, args.payment_method_id)
    require_gift_card_balance(method, difference, "the new item")
    # The difference is always settled on the chosen method, so the history shows which one.
    kind = TransactionKind.PAYMENT if difference > 0 else TransactionKind.REFUND
    settlement = append_transaction(order, kind, abs(difference), method.id, context)
    if method.kind == PaymentKind.GIFT_CARD:
        method.balance = (method.balance or Decimal("0")) - difference
    for line, variant in zip(lines, variants, strict=True):
        line.variant_id = variant.id
        line.unit_price = convert(variant.price, order.fx_rate, order.currency)
        line.options = dict(variant.options)
    order.subtotal += difference
    order.total += difference
    order.items_modified = True
    return OrderItemsModified(
        order_id=order.id,
        status=order.status.value,
        price_difference=difference,
        currency=order.currency,
        settlement=transaction_view(settlement),
    )


@tool(
    kind=ToolKind.WRITE,
    target="order",
    gerund="changing an order's payment method",
    noun="Payment changes",
    rule="modify_order_payment",
    consent=True,
    model_visible=True,
)
def modify_order_payment(context: ToolContext, args: ModifyOrderPaymentArgs) -> OrderPaymentModified:
    """Pay a pending order with another of the customer's payment methods; the first method
    is refunded (a gift card at once, otherwise in 5 to 7 business days)."""
    order = context.order(args.order_id, for_update=True)
    _require_pending(order)
    history = [t for t in order.transactions if t.status == TransactionStatus.SUCCEEDED]
    if len(history) != 1 or history[0].kind != TransactionKind.PAYMENT:
        raise ToolError(ErrorCode.INVALID_STATE, f"Order {order.id} must have exactly one payment to change its method.")
    original = history[0]
    new_method = context.payment_method(order.customer, args.payment_method_id)
    if new_method.id == original.payment_method_id:
        raise ToolError(ErrorCode.INVALID_ARGUMENT, "The new payment method must differ from the current one.")
    amount = original.amount
    require_gift_card_balance(new_method, amount, "the order")
    append_transaction(order, TransactionKind.PAYMENT, amount, new_method.id, context)
    append_transaction(order, TransactionKind.REFUND, amount, original.payment_method_id, context)
    if new_method.kind == PaymentKind.GIFT_CARD:
        new_method.balance = (new_method.balance or Decimal("0")) - amount
    old_method = context.payment_method(order.customer, original.payment_method_id)
    if old_method.kind == PaymentKind.GIFT_CARD:
        old_method.balance = (old_method.balance or Decimal("0")) + amount
    return OrderPaymentModified(order_id=order.id, payment_method_id=new_method.id, amount=amount, currency=order.currency)


@tool(
    kind=ToolKind.WRITE,
    target="order",
    gerund="changing the delivery address",
    noun="Address changes",
    rule="change_shipping_address",
    consent=True,
    model_visible=True,
)
def change_shipping_address(context: ToolContext, args: ChangeShippingAddressArgs) -> ShippingAddressChanged:
    """Change where an order will be shipped, while no parcel has left the warehouse.
    For a parcel already with the carrier, use intercept_parcel."""
    order = context.order(args.order_id, for_update=True)
    if order.status not in (OrderStatus.PENDING, OrderStatus.PROCESSED) or not not_yet_shipped(order):
        raise ToolError(
            ErrorCode.INVALID_STATE,
            f"Order {order.id} has already left the warehouse; the parcel can only be intercepted.",
        )
    set_shipping_address(order, args.address)
    return ShippingAddressChanged(order_id=order.id, address=address_of_order(order))


def set_shipping_address(order: Order, address: Address) -> None:
    order.ship_name = address.name or order.ship_name
    order.ship_address1, order.ship_address2 = address.address1, address.address2
    order.ship_city, order.ship_state = address.city, address.state
    order.ship_postal_code, order.ship_country = address.postal_code, address.country
    if address.country_code:
        order.ship_country_code = address.country_code.upper()
