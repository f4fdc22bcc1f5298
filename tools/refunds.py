"""Refunds: to the methods the order was paid with, or to a gift card."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, model_validator

from commerce.models import (
    Order,
    PaymentKind,
    PaymentMethod,
    PaymentTransaction,
    Refund,
    RefundDestination,
    TransactionKind,
    TransactionStatus,
)
from commerce.money import minor_unit
from tools.base import Amount, ErrorCode, ToolArgs, ToolContext, ToolError, ToolKind, ToolResult, tool


class RefundLine(ToolResult):
    payment_method_id: str
    description: str
    amount: Decimal
    arrives: str = Field(description="'immediately' for gift cards, otherwise '5-7 business days'.")


class IssueRefundArgs(ToolArgs):
    order_id: str = Field(min_length=1, max_length=64)
    amount: Amount | None = Field(
        default=None, description="In the order's currency; omit to refund everything still refundable."
    )
    destination: RefundDestination = Field(default=RefundDestination.ORIGINAL_METHOD)
    gift_card_id: str | None = Field(
        default=None, max_length=64, description="Which of the customer's gift cards, for destination gift_card."
    )
    reason: str = Field(min_length=1, max_length=300)

    @model_validator(mode="after")
    def _gift_card_named(self) -> IssueRefundArgs:
        if self.gift_card_id and self.destination != RefundDestination.GIFT_CARD:
            raise ValueError("gift_card_id is only used with destination gift_card")
        return self


class RefundIssued(ToolResult):
    order_id: str
    amount: Decimal
    currency: str
    refunds: list[RefundLine]


def refund_to_method(
    context: ToolContext,
    order: Order,
    method: PaymentMethod,
    amount: Decimal,
    reason: str,
    destination: RefundDestination = RefundDestination.ORIGINAL_METHOD,
) -> RefundLine:
    """Record one refund: a refund transaction on the order, a refund record, and at once
    the gift card's balance when the money goes to a gift card."""
    order.transactions.append(
        PaymentTransaction(
            kind=TransactionKind.REFUND,
            amount=amount,
            payment_method_id=method.id,
            status=TransactionStatus.SUCCEEDED,
            position=len(order.transactions),
            created_at=context.now(),
        )
    )
    context.session.add(
        Refund(
            order=order,
            amount=amount,
            currency=order.currency,
            payment_method_id=method.id,
            destination=destination,
            reason=reason,
            created_at=context.now(),
        )
    )
    if method.kind == PaymentKind.GIFT_CARD:
        method.balance = (method.balance or Decimal("0")) + amount
        arrives = "immediately"
    else:
        arrives = "5-7 business days"
    return RefundLine(payment_method_id=method.id, description=method.describe(), amount=amount, arrives=arrives)


def net_paid_by_method(order: Order) -> dict[str, Decimal]:
    """Payments minus refunds per payment method, most recently paid method first."""
    net: dict[str, Decimal] = {}
    for t in reversed(order.transactions):
        if t.status != TransactionStatus.SUCCEEDED:
            continue
        sign = Decimal("1") if t.kind == TransactionKind.PAYMENT else Decimal("-1")
        net[t.payment_method_id] = net.get(t.payment_method_id, Decimal("0")) + sign * t.amount
    return net


@tool(
    kind=ToolKind.WRITE,
    target="order",
    gerund="issuing a refund",
    noun="Refunds",
    takes_reason=True,
    moves_money=True,
    rule="issue_refund",
    consent=True,
    model_visible=True,
)
def issue_refund(context: ToolContext, args: IssueRefundArgs) -> RefundIssued:
    """Refund an order in full or in part, never more than was paid and not yet refunded:
    to the original payment methods, or to one of the customer's gift cards (available at once)."""
    order = context.order(args.order_id, for_update=True)
    refundable = order.amount_paid - order.amount_refunded
    if refundable <= 0:
        raise ToolError(ErrorCode.INVALID_STATE, f"Nothing is left to refund on order {order.id}.")
    amount = args.amount if args.amount is not None else refundable
    if amount % minor_unit(order.currency):
        raise ToolError(ErrorCode.INVALID_ARGUMENT, f"{order.currency} amounts have no fractional part.")
    if amount > refundable:
        raise ToolError(
            ErrorCode.LIMIT_EXCEEDED,
            f"{amount} {order.currency} is more than the {refundable} {order.currency} still refundable on order {order.id}.",
        )
    context.check_given_back(order, amount)
    lines: list[RefundLine] = []
    if args.destination == RefundDestination.GIFT_CARD:
        cards = [m for m in order.customer.payment_methods if m.kind == PaymentKind.GIFT_CARD]
        if args.gift_card_id:
            card = context.payment_method(order.customer, args.gift_card_id)
            if card.kind != PaymentKind.GIFT_CARD:
                raise ToolError(ErrorCode.INVALID_ARGUMENT, f"{card.id} is not a gift card.")
        elif cards:
            card = cards[0]
        else:
            raise ToolError(ErrorCode.NOT_FOUND, "The customer has no gift card to refund to.")
        lines.append(refund_to_method(context, order, card, amount, args.reason, RefundDestination.GIFT_CARD))
    else:
        remaining = amount
        for method_id, net in net_paid_by_method(order).items():
            if remaining <= 0:
                break
            part = min(net, remaining)
            if part > 0:
                method = context.payment_method(order.customer, method_id)
                lines.append(refund_to_method(context, order, method, part, args.reason))
                remaining -= part
    return RefundIssued(order_id=order.id, amount=amount, currency=order.currency, refunds=lines)
