"""What every tool shares: the caller, the per-call context, errors, and the registry."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.models import Customer, Order, PaymentKind, PaymentMethod, utcnow

# Money in arguments: positive, at most two decimal places.
Amount = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]


class ToolKind(StrEnum):
    READ = "read"
    WRITE = "write"


class ErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    INVALID_STATE = "invalid_state"
    INVALID_ARGUMENT = "invalid_argument"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    LIMIT_EXCEEDED = "limit_exceeded"
    OUT_OF_STOCK = "out_of_stock"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"


class ToolError(Exception):
    """A call the tool refuses; nothing was changed."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ToolArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ToolResult(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class WriteLimits:
    """Counts and sums the writes check inside their own transaction (the customer's or the
    order's row locked), so that parallel calls cannot pass a limit together. None: no limit."""

    coupons_per_customer: int | None = None
    coupon_window_days: int = 30
    coupons_per_order: int | None = None
    reshipments_per_order: int | None = None
    money_back_share: Decimal | None = None  # refunded + reshipped value, as a share of the order total


@dataclass(frozen=True)
class Caller:
    """Who is calling. A customer-facing caller carries the verified customer id, and every
    tool then refuses records of other customers; staff and system callers carry none. The
    limits are the seller's caps on what the agent gives alone."""

    actor: str = "system"
    customer_id: str | None = None
    conversation_id: str | None = None
    clock: Callable[[], dt.datetime] = field(default=utcnow)
    limits: WriteLimits = field(default_factory=lambda: WriteLimits())


@dataclass
class ToolContext:
    session: Session
    caller: Caller

    def now(self) -> dt.datetime:
        return self.caller.clock()

    def order(self, order_id: str, *, for_update: bool = False) -> Order:
        """The order, if it exists and the caller may see it."""
        order_id = order_id.strip()
        query = select(Order).where(Order.id == order_id)
        if for_update:
            query = query.with_for_update()
        order = self.session.scalars(query).first()
        if order is None and not order_id.startswith("#"):
            # Customers often drop the leading '#' of a shop order number.
            order = self.session.scalars(select(Order).where(Order.id == f"#{order_id}")).first()
        if order is None:
            raise ToolError(ErrorCode.NOT_FOUND, f"No order {order_id} was found.")
        self.check_owner(order.customer_id, f"Order {order_id}")
        return order

    def customer(self, customer_id: str, *, for_update: bool = False) -> Customer:
        # (Locked, the customer's row makes parallel writes that count their records wait in turn.)
        customer = self.session.get(Customer, customer_id.strip(), with_for_update=for_update or None)
        if customer is None:
            raise ToolError(ErrorCode.NOT_FOUND, f"No customer {customer_id} was found.")
        self.check_owner(customer.id, f"Customer {customer_id}")
        return customer

    def check_given_back(self, order: Order, more: Decimal) -> None:
        """Refuse a refund or reshipment that would take what the order gave back, in money and
        goods sent again, over the seller's share of its total (the order row is locked)."""
        share = self.caller.limits.money_back_share
        if share is None:
            return
        reshipped = Decimal(0)
        prices = {line.variant_id: line.unit_price for line in order.items}
        for reshipment in order.reshipments:
            reshipped += sum((prices.get(item, Decimal(0)) for item in reshipment.item_ids), Decimal(0))
        if order.amount_refunded + reshipped + more > share * order.total:
            raise ToolError(
                ErrorCode.LIMIT_EXCEEDED,
                f"Order {order.id} has had {order.amount_refunded + reshipped} {order.currency} back in refunds and "
                f"reshipments; {more} more would pass the cap of {share * order.total} {order.currency}.",
            )

    def check_owner(self, owner_id: str, what: str) -> None:
        if self.caller.customer_id is not None and owner_id != self.caller.customer_id:
            raise ToolError(ErrorCode.FORBIDDEN, f"{what} belongs to another customer.")

    def payment_method(self, customer: Customer, payment_method_id: str) -> PaymentMethod:
        for method in customer.payment_methods:
            if method.id == payment_method_id:
                return method
        raise ToolError(ErrorCode.NOT_FOUND, f"Payment method {payment_method_id} is not one of this customer's.")


def require_gift_card_balance(method: PaymentMethod, amount: Decimal, purpose: str) -> None:
    """A gift card can only pay what its balance covers."""
    if method.kind == PaymentKind.GIFT_CARD and (method.balance or Decimal("0")) < amount:
        raise ToolError(ErrorCode.INSUFFICIENT_FUNDS, f"insufficient gift card balance to pay for {purpose}")


ToolFunction = Callable[[ToolContext, Any], ToolResult]

# What a call touches: an order, a customer record, a look-up of who a customer is, the public
# catalogue, or nobody's data.
ToolTarget = Literal["order", "customer", "lookup", "catalogue", "none"]


@dataclass(frozen=True)
class ToolSpec:
    """A registered tool and every fact the rest of the system needs about it."""

    name: str
    kind: ToolKind
    function: ToolFunction
    args_model: type[ToolArgs]
    result_model: type[ToolResult]
    description: str
    target: ToolTarget
    # The words the policy gate uses in its reasons: "issuing a refund", "Refunds".
    gerund: str
    noun: str
    # The profile may restrict the reasons given for it.
    takes_reason: bool = False
    # Money or goods leave the shop: the profile may set approval limits.
    moves_money: bool = False
    # The policy-profile action rule that governs a write; None for reads.
    rule: str | None = None
    # A write that needs the customer's yes unless the profile says otherwise.
    consent: bool = False
    # Whether a model may see and call it (staff and system tools are hidden).
    model_visible: bool = False

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise TypeError(f"tool {self.name}: " + "; ".join(problems))

    @property
    def is_write(self) -> bool:
        return self.kind is ToolKind.WRITE

    def problems(self) -> list[str]:
        """Facts that contradict each other or the tool's arguments."""
        problems: list[str] = []
        fields = self.args_model.model_fields
        if self.is_write and not self.rule:
            problems.append("a write needs the policy rule that governs it")
        if not self.is_write:
            for fact, value in (("rule", self.rule), ("consent", self.consent), ("moves_money", self.moves_money)):
                if value:
                    problems.append(f"a read has no {fact}")
        if self.takes_reason and "reason" not in fields:
            problems.append("takes_reason needs a reason argument")
        if self.target == "order" and "order_id" not in fields:
            problems.append("a tool that acts on an order needs an order_id argument")
        if self.target == "customer" and "customer_id" not in fields:
            problems.append("a tool that acts on a customer needs a customer_id argument")
        if self.moves_money and self.target not in ("order", "customer"):
            problems.append("money moves only on an order or a customer's account")
        if not self.gerund[:1].islower():
            problems.append("the gerund is used mid-sentence and starts lowercase")
        if not self.noun[:1].isupper():
            problems.append("the noun starts a sentence and is capitalised")
        return problems

    def json_schema(self, fields: Collection[str] | None = None) -> dict[str, Any]:
        """The tool in the OpenAI function-calling format; `fields` keeps only those arguments
        (the others must have defaults)."""
        args_model = self.args_model if fields is None else _select_fields(self.args_model, fields)
        parameters = args_model.model_json_schema()
        parameters.pop("title", None)
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": parameters},
        }


def _select_fields(model: type[ToolArgs], fields: Collection[str]) -> type[ToolArgs]:
    unknown = set(fields) - set(model.model_fields)
    if unknown:
        raise ValueError(f"{model.__name__} has no argument {', '.join(sorted(unknown))}")
    left_out = [name for name, info in model.model_fields.items() if name not in fields and info.is_required()]
    if left_out:
        raise ValueError(f"{model.__name__} needs {', '.join(left_out)}; it cannot be left out")
    kept: dict[str, Any] = {name: (info.annotation, info) for name, info in model.model_fields.items() if name in fields}
    selected: type[ToolArgs] = create_model(model.__name__, __base__=ToolArgs, **kept)
    return selected


REGISTRY: dict[str, ToolSpec] = {}

F = TypeVar("F", bound=Callable[..., Any])


def tool(
    *,
    kind: ToolKind,
    target: ToolTarget,
    gerund: str,
    noun: str,
    takes_reason: bool = False,
    moves_money: bool = False,
    rule: str | None = None,
    consent: bool | None = None,
    model_visible: bool = False,
) -> Callable[[F], F]:
    """Register a tool: its name is the function's, its description the docstring, its
    argument and result types the annotations, and its facts the keyword arguments. A write
    needs the policy `rule` that governs it; its `consent` defaults to asking the customer."""

    def register(function: F) -> F:
        hints = get_type_hints(function)
        params = list(inspect.signature(function).parameters)
        if len(params) != 2:
            raise TypeError(f"tool {function.__name__} must take (context, args)")
        args_model = hints[params[1]]
        result_model = hints["return"]
        if not (issubclass(args_model, ToolArgs) and issubclass(result_model, ToolResult)):
            raise TypeError(f"tool {function.__name__} needs ToolArgs and ToolResult types")
        description = inspect.cleandoc(function.__doc__ or "")
        if not description:
            raise TypeError(f"tool {function.__name__} needs a docstring: it is the description")
        name = function.__name__
        if name in REGISTRY:
            raise TypeError(f"tool {name} is registered twice")
        REGISTRY[name] = ToolSpec(
            name=name,
            kind=kind,
            function=function,
            args_model=args_model,
            result_model=result_model,
            description=description,
            target=target,
            gerund=gerund,
            noun=noun,
            takes_reason=takes_reason,
            moves_money=moves_money,
            rule=rule,
            consent=(kind is ToolKind.WRITE) if consent is None else consent,
            model_visible=model_visible,
        )
        return function

    return register
