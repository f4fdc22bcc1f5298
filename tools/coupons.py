"""Coupons: goodwill for a delay or a bad experience."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from decimal import Decimal

from pydantic import Field, model_validator
from sqlalchemy import func, select

from commerce.models import Coupon
from tools.base import Amount, ErrorCode, ToolArgs, ToolContext, ToolError, ToolKind, ToolResult, tool


class IssueCouponArgs(ToolArgs):
    customer_id: str = Field(min_length=1, max_length=64)
    order_id: str | None = Field(default=None, max_length=64, description="The order the coupon makes up for, if any.")
    percent_off: int | None = Field(default=None, ge=1, le=100)
    amount_off: Amount | None = None
    currency: str | None = Field(default=None, min_length=3, max_length=3, description="Currency of amount_off.")
    reason: str = Field(min_length=1, max_length=300)
    valid_days: int = Field(default=90, ge=1, le=730)

    @model_validator(mode="after")
    def _one_discount(self) -> IssueCouponArgs:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError("give either percent_off or amount_off")
        if self.amount_off is not None and not self.currency:
            raise ValueError("amount_off needs a currency")
        return self


class CouponIssued(ToolResult):
    code: str
    customer_id: str
    percent_off: int | None
    amount_off: Decimal | None
    currency: str | None
    expires_at: dt.datetime


@tool(
    kind=ToolKind.WRITE,
    target="customer",
    gerund="issuing a coupon",
    noun="Coupons",
    takes_reason=True,
    moves_money=True,
    rule="issue_coupon",
    consent=True,
    model_visible=True,
)
def issue_coupon(context: ToolContext, args: IssueCouponArgs) -> CouponIssued:
    """Give the customer a coupon for their next order: a percentage or a fixed amount off."""
    customer = context.customer(args.customer_id, for_update=True)
    if args.order_id:
        order = context.order(args.order_id)
        if order.customer_id != customer.id:
            raise ToolError(ErrorCode.FORBIDDEN, f"Order {order.id} is not this customer's.")
    now = context.now()
    limits = context.caller.limits
    if limits.coupons_per_customer is not None:
        since = now - dt.timedelta(days=limits.coupon_window_days)
        recent = context.session.scalar(
            select(func.count()).select_from(Coupon).where(Coupon.customer_id == customer.id, Coupon.created_at >= since)
        )
        if (recent or 0) >= limits.coupons_per_customer:
            raise ToolError(
                ErrorCode.LIMIT_EXCEEDED, f"The customer has had {recent} coupon(s) in {limits.coupon_window_days} days."
            )
    if args.order_id and limits.coupons_per_order is not None:
        for_order = context.session.scalar(select(func.count()).select_from(Coupon).where(Coupon.order_id == args.order_id))
        if (for_order or 0) >= limits.coupons_per_order:
            raise ToolError(ErrorCode.LIMIT_EXCEEDED, f"Order {args.order_id} has had {for_order} coupon(s) already.")
    seed = f"{customer.id}:{args.order_id}:{now.isoformat()}:{uuid.uuid4().hex}"  # two coupons in one instant differ
    code = "HW-" + hashlib.sha256(seed.encode()).hexdigest()[:10].upper()
    expires = now + dt.timedelta(days=args.valid_days)
    currency = args.currency.upper() if args.currency else None
    context.session.add(
        Coupon(
            code=code,
            customer_id=customer.id,
            order_id=args.order_id,
            percent_off=args.percent_off,
            amount_off=args.amount_off,
            currency=currency,
            reason=args.reason,
            expires_at=expires,
            created_at=now,
        )
    )
    return CouponIssued(
        code=code,
        customer_id=customer.id,
        percent_off=args.percent_off,
        amount_off=args.amount_off,
        currency=currency,
        expires_at=expires,
    )
