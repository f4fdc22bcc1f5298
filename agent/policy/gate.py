"""The policy gate: decides whether a proposed tool call may run, needs the customer's yes,
needs a human's approval, or is refused, according to the seller's policy profile.

The gate only decides. The typed tools check their own hard preconditions (stock, balances,
payment kinds) when they run; the gate judges what the profile says about identity,
ownership, order and shipment stage, arguments, money and confirmation. What it knows about
each tool (read or write, what it touches, the rule that governs it, the words for it) comes
from the tool's spec in the registry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from agent.policy.schema import ActionRule, IdentityMethod, PolicyProfile, governed_by
from commerce.models import OrderStatus, RefundDestination, ShipmentStatus
from commerce.money import minor_unit
from tools import REGISTRY, ToolSpec

_METHOD_WORDS = {
    IdentityMethod.ORDER_NUMBER_EMAIL: "order number and email",
    IdentityMethod.NAME_POSTAL_CODE: "name and postal code",
    IdentityMethod.EMAIL: "email address",
    IdentityMethod.SIGNED_TOKEN: "a signed-in session",
}


# ---------------------------------------------------------------- requests and decisions


class ItemFacts(BaseModel):
    variant_id: str
    product_id: str
    unit_price: Decimal
    quantity: int = 1


class OrderFacts(BaseModel):
    """What the guard looked up about the order before asking the gate."""

    order_id: str
    customer_id: str
    status: OrderStatus
    items_modified: bool = False
    currency: str
    total: Decimal
    amount_paid: Decimal
    amount_refunded: Decimal
    items: list[ItemFacts] = Field(default_factory=list)
    shipment_statuses: list[ShipmentStatus] = Field(default_factory=list)
    delivered_at: dt.datetime | None = None
    placed_at: dt.datetime | None = None
    reshipments: int = 0  # free reshipments the order has had

    @property
    def refundable(self) -> Decimal:
        return self.amount_paid - self.amount_refunded


class ActionRequest(BaseModel):
    tool: str
    arguments: dict[str, Any]
    identity_verified: bool
    verified_customer_id: str | None = None
    # How the customer proved who they are (an IdentityMethod value); None for staff and jobs.
    identity_method: str | None = None
    order: OrderFacts | None = None
    customer_is_vip: bool = False
    coupons_issued_recently: int = 0
    now: dt.datetime | None = None


class Verdict(StrEnum):
    ALLOW = "allow"
    CONFIRM = "confirm"  # allowed once the customer says yes
    APPROVE = "approve"  # a human must approve; escalate
    DENY = "deny"


_SEVERITY = {Verdict.ALLOW: 0, Verdict.CONFIRM: 1, Verdict.APPROVE: 2, Verdict.DENY: 3}


class GateDecision(BaseModel):
    verdict: Verdict
    tool: str
    reasons: list[str]
    clauses: list[str]
    amount: Decimal | None = None


@dataclass(frozen=True)
class _Finding:
    verdict: Verdict
    clause: str
    reason: str
    text: str | None = None  # the profile's own wording of the clause, when it has one


# The clause cited when a proof of identity opens reads but not this write.
PROOF_FOR_WRITES = "identity.methods_for_writes"


class _BadArgument(ValueError):
    pass


# ---------------------------------------------------------------- the gate


class PolicyGate:
    """Judges one proposed tool call against a policy profile."""

    def __init__(self, profile: PolicyProfile) -> None:
        self.profile = profile

    def evaluate(self, request: ActionRequest, *, confirmed: bool = False) -> GateDecision:
        spec = REGISTRY.get(request.tool)
        if spec is None:
            finding = _Finding(Verdict.DENY, "gate.unknown_tool", f"There is no tool called {request.tool!r}.")
            return self._decide(request, [finding], None, confirmed=confirmed)
        findings = self._order_facts(request, spec)
        if not spec.is_write:
            findings += self._read_rules(request, spec)
            return self._decide(request, findings, None, confirmed=confirmed)

        amount, currency, money_findings = self._amount_moved(request)
        findings += money_findings
        if request.tool != "escalate_to_human":
            findings += self._identity_for_write(request)
            findings += self._ownership(request, spec)

        rule = self.profile.action(_rule_of(spec))
        if rule is None or not rule.enabled:
            findings.append(self._out_of_scope(spec, rule))
            return self._decide(request, findings, amount, confirmed=confirmed)

        if request.tool != "escalate_to_human":
            findings += self._proof_for_write(request, rule)
        findings += self._order_stage(request, spec, rule)
        findings += self._arguments(request, spec, rule)
        findings += self._approval(request, spec, rule, amount, currency)
        findings += self._order_caps(request)
        if rule.requires_confirmation and not confirmed:
            findings += self._confirmation(request, spec, amount, currency)
        return self._decide(request, findings, amount, confirmed=confirmed)

    # ------------------------------------------------ rules 1-3: facts, identity, ownership, scope

    def _order_facts(self, request: ActionRequest, spec: ToolSpec) -> list[_Finding]:
        order_id = request.arguments.get("order_id")
        order = request.order
        if order is not None and order_id is not None and _order_key(order_id) != _order_key(order.order_id):
            return [
                _Finding(
                    Verdict.DENY, "gate.order_facts", f"The facts supplied are for order {order.order_id}, not order {order_id}."
                )
            ]
        needs_facts = spec.is_write and request.tool != "escalate_to_human" and (spec.target == "order" or order_id is not None)
        if needs_facts and order is None:
            label = f"order {order_id}" if order_id is not None else "the order"
            return [_Finding(Verdict.DENY, "gate.order_facts", f"Look up {label} before acting on it.")]
        return []

    def _read_rules(self, request: ActionRequest, spec: ToolSpec) -> list[_Finding]:
        if spec.target not in {"order", "customer"}:
            return []
        identity = self.profile.identity
        if identity.required_for_reads and not request.identity_verified:
            return [
                _Finding(
                    Verdict.DENY,
                    "identity.required_for_reads",
                    f"Verify the customer's identity first ({self._methods_text()}).",
                    identity.text,
                )
            ]
        return self._ownership(request, spec)

    def _identity_for_write(self, request: ActionRequest) -> list[_Finding]:
        if request.identity_verified:
            return []
        return [
            _Finding(
                Verdict.DENY,
                "gate.identity",
                f"Verify the customer's identity before changing anything ({self._methods_text()}).",
                self.profile.identity.text,
            )
        ]

    def write_methods(self, rule: ActionRule | None) -> list[IdentityMethod]:
        """The proofs of identity strong enough for a write under this rule."""
        if rule is not None and rule.identity is not None:
            return list(rule.identity)
        return list(self.profile.identity.methods_for_writes or self.profile.identity.methods)

    def _proof_for_write(self, request: ActionRequest, rule: ActionRule) -> list[_Finding]:
        method = request.identity_method
        if not request.identity_verified or method is None:
            return []
        allowed = self.write_methods(rule)
        if method in allowed:
            return []
        return [
            _Finding(
                Verdict.DENY,
                PROOF_FOR_WRITES,
                f"The customer proved who they are by {_METHOD_WORDS.get(IdentityMethod(method), method)}, which opens "
                f"read-only help; this action needs {' or '.join(_METHOD_WORDS[m] for m in allowed)}.",
                self.profile.identity.text,
            )
        ]

    def _methods_text(self) -> str:
        return "by " + ", or ".join(_METHOD_WORDS[m] for m in self.profile.identity.methods)

    def _ownership(self, request: ActionRequest, spec: ToolSpec) -> list[_Finding]:
        verified = request.verified_customer_id
        if verified is None:
            return []
        findings: list[_Finding] = []
        if request.order is not None and request.order.customer_id != verified:
            findings.append(
                _Finding(
                    Verdict.DENY,
                    "gate.ownership",
                    f"Order {request.order.order_id} is another customer's order; only the "
                    "verified customer's own orders can be handled.",
                )
            )
        customer_id = request.arguments.get("customer_id")
        if spec.target == "customer" and customer_id is not None and str(customer_id) != verified:
            findings.append(
                _Finding(
                    Verdict.DENY,
                    "gate.ownership",
                    "That is another customer's account; only the verified customer's own account can be handled.",
                )
            )
        return findings

    def _out_of_scope(self, spec: ToolSpec, rule: ActionRule | None) -> _Finding:
        gerund = spec.gerund
        text = rule.text if rule is not None else None
        if self.profile.out_of_scope == "escalate":
            return _Finding(
                Verdict.APPROVE,
                "out_of_scope",
                f"{_cap(gerund)} is outside what the agent may do under the {self.profile.name} "
                "policy, so a human must take it over.",
                text,
            )
        return _Finding(
            Verdict.DENY, "out_of_scope", f"{_cap(gerund)} is not offered under the {self.profile.name} policy.", text
        )

    # ------------------------------------------------ rule 4: order status and shipment stage

    def _order_stage(self, request: ActionRequest, spec: ToolSpec, rule: ActionRule) -> list[_Finding]:
        order = request.order
        if order is None:
            return []
        name = _rule_of(spec)
        gerund = spec.gerund
        findings: list[_Finding] = []
        if rule.allowed_statuses is not None and order.status not in rule.allowed_statuses:
            allowed = _or_list(_words(s) for s in rule.allowed_statuses)
            findings.append(
                _Finding(
                    Verdict.DENY,
                    f"actions.{name}.allowed_statuses",
                    f"{_cap(gerund)} is only possible while the order is {allowed}; "
                    f"order {order.order_id} is {_words(order.status)}.",
                    rule.text,
                )
            )
        if rule.block_after_items_modified and order.items_modified:
            findings.append(
                _Finding(
                    Verdict.DENY,
                    f"actions.{name}.block_after_items_modified",
                    f"Order {order.order_id} already had its items changed, so {gerund} is no longer possible.",
                    rule.text,
                )
            )
        stage = rule.shipment_stage
        if stage is not None:
            statuses = order.shipment_statuses
            wanted = _or_list(f"'{_words(s)}'" for s in stage.statuses)
            clause = f"actions.{name}.shipment_stage"
            if not statuses:
                if stage.when_not_shipped == "deny":
                    findings.append(
                        _Finding(
                            Verdict.DENY,
                            clause,
                            f"{_cap(gerund)} needs a parcel at the {wanted} stage, and order "
                            f"{order.order_id} has not shipped yet.",
                            stage.text,
                        )
                    )
            else:
                check = all if stage.match == "all" else any
                if not check(s in stage.statuses for s in statuses):
                    which = "every parcel" if stage.match == "all" else "a parcel"
                    found = ", ".join(_words(s) for s in statuses)
                    findings.append(
                        _Finding(
                            Verdict.DENY,
                            clause,
                            f"{_cap(gerund)} is only possible while {which} is at the {wanted} stage; "
                            f"order {order.order_id} has: {found}.",
                            stage.text,
                        )
                    )
        return findings

    # ------------------------------------------------ rule 5: arguments

    def _arguments(self, request: ActionRequest, spec: ToolSpec, rule: ActionRule) -> list[_Finding]:
        tool = request.tool
        findings: list[_Finding] = []
        if rule.allowed_reasons is not None and spec.takes_reason:
            given = str(request.arguments.get("reason") or "").strip()
            if given.casefold() not in {r.strip().casefold() for r in rule.allowed_reasons}:
                allowed = _or_list(f"'{r}'" for r in rule.allowed_reasons)
                findings.append(
                    _Finding(
                        Verdict.DENY,
                        f"actions.{_rule_of(spec)}.allowed_reasons",
                        f"The reason for {spec.gerund} must be {allowed}, not '{given}'.",
                        rule.text,
                    )
                )
        if tool == "issue_refund":
            findings += self._refund_destination(request)
        elif tool == "issue_coupon":
            findings += self._coupon_limits(request)
        elif tool in {"return_items", "exchange_items"}:
            findings += self._return_window(request)
        return findings

    def _refund_destination(self, request: ActionRequest) -> list[_Finding]:
        refunds = self.profile.refunds
        given = str(request.arguments.get("destination") or RefundDestination.ORIGINAL_METHOD)
        if given in refunds.destinations:
            return []
        allowed = _or_list(_words(d) for d in refunds.destinations)
        return [
            _Finding(Verdict.DENY, "refunds.destinations", f"Refunds can only go to the {allowed}, not '{given}'.", refunds.text)
        ]

    def _coupon_limits(self, request: ActionRequest) -> list[_Finding]:
        rules = self.profile.coupons
        args = request.arguments
        findings: list[_Finding] = []

        def deny(clause: str, reason: str) -> None:
            findings.append(_Finding(Verdict.DENY, f"coupons.{clause}", reason, rules.text))

        try:
            percent = _as_int(args.get("percent_off"), "percent_off")
            amount_off = _as_decimal(args.get("amount_off"), "amount_off")
            valid_days = _as_int(args.get("valid_days"), "valid_days")
        except _BadArgument as exc:
            return [_Finding(Verdict.DENY, "gate.arguments", str(exc))]
        if percent is not None and rules.max_percent is not None and percent > rules.max_percent:
            deny("max_percent", f"Coupons can take at most {rules.max_percent}% off; {percent}% was proposed.")
        if amount_off is not None and rules.max_amount is not None:
            currency = _coupon_currency(request)
            if currency is None:
                deny("max_amount", "A fixed-amount coupon needs a currency.")
            elif currency not in rules.max_amount:
                deny("max_amount", f"No fixed-amount coupon limit is set for {currency}.")
            elif amount_off > rules.max_amount[currency]:
                deny(
                    "max_amount",
                    f"Coupons can take at most {_money(rules.max_amount[currency], currency)} off; "
                    f"{_money(amount_off, currency)} was proposed.",
                )
        if valid_days is not None and rules.max_valid_days is not None and valid_days > rules.max_valid_days:
            deny("max_valid_days", f"Coupons can be valid for at most {rules.max_valid_days} days; {valid_days} were proposed.")
        if rules.max_per_customer is not None and request.coupons_issued_recently >= rules.max_per_customer:
            deny(
                "max_per_customer",
                f"This customer already received {request.coupons_issued_recently} coupon(s) in the last "
                f"{rules.window_days} days, and the limit is {rules.max_per_customer}.",
            )
        return findings

    def _return_window(self, request: ActionRequest) -> list[_Finding]:
        returns = self.profile.returns
        order = request.order
        if returns.window_days is None or order is None or order.delivered_at is None:
            return []
        elapsed = _utc(request.now or dt.datetime.now(dt.UTC)) - _utc(order.delivered_at)
        if elapsed <= dt.timedelta(days=returns.window_days):
            return []
        return [
            _Finding(
                Verdict.DENY,
                "returns.window_days",
                f"Returns and exchanges are accepted within {returns.window_days} days of delivery; "
                f"order {order.order_id} was delivered {elapsed.days} days ago.",
                returns.text,
            )
        ]

    # ------------------------------------------------ rule 6: money

    def _amount_moved(self, request: ActionRequest) -> tuple[Decimal | None, str | None, list[_Finding]]:
        """The amount the action moves and its currency, or a finding when it cannot be known."""
        args = request.arguments
        order = request.order
        try:
            if request.tool == "issue_refund":
                amount = _as_decimal(args.get("amount"), "amount")
                if amount is None and order is not None:
                    amount = order.refundable
                return amount, order.currency if order else None, []
            if request.tool == "cancel_order" and order is not None:
                return order.refundable, order.currency, []
            if request.tool == "create_reshipment" and order is not None:
                return self._reshipment_value(order, args.get("item_ids"))
            if request.tool == "issue_coupon":
                return _as_decimal(args.get("amount_off"), "amount_off"), _coupon_currency(request), []
        except _BadArgument as exc:
            return None, None, [_Finding(Verdict.DENY, "gate.arguments", str(exc))]
        return None, None, []

    @staticmethod
    def _reshipment_value(order: OrderFacts, item_ids: Any) -> tuple[Decimal | None, str | None, list[_Finding]]:
        if not isinstance(item_ids, list) or not item_ids:
            return None, order.currency, [_Finding(Verdict.DENY, "gate.arguments", "Name the items to send again.")]
        named = {str(i) for i in item_ids}
        missing = sorted(named - {item.variant_id for item in order.items})
        if missing:
            return (
                None,
                order.currency,
                [_Finding(Verdict.DENY, "gate.arguments", f"Order {order.order_id} has no item {', '.join(missing)}.")],
            )
        value = sum((i.unit_price * i.quantity for i in order.items if i.variant_id in named), Decimal(0))
        return value, order.currency, []

    def _order_caps(self, request: ActionRequest) -> list[_Finding]:
        """A second free reshipment of one order is a person's decision (the tool checks the
        count again, inside its transaction)."""
        caps = self.profile.order_caps
        order = request.order
        if request.tool != "create_reshipment" or caps.reshipments is None or order is None:
            return []
        if order.reshipments < caps.reshipments:
            return []
        return [
            _Finding(
                Verdict.APPROVE,
                "order_caps.reshipments",
                f"Order {order.order_id} has been sent again {order.reshipments} time(s); the limit is {caps.reshipments}.",
                caps.text,
            )
        ]

    def _approval(
        self, request: ActionRequest, spec: ToolSpec, rule: ActionRule, amount: Decimal | None, currency: str | None
    ) -> list[_Finding]:
        if rule.approval_above is None or amount is None or currency is None:
            return []
        name = _rule_of(spec)
        noun = spec.noun
        clause = f"actions.{name}.approval_above"
        if currency not in rule.approval_above:
            return [
                _Finding(
                    Verdict.APPROVE,
                    clause,
                    f"No limit is set for {noun.lower()} in {currency}, so a human must approve this one.",
                    rule.text,
                )
            ]
        limit = rule.approval_above[currency]
        vip = request.customer_is_vip and rule.vip_multiplier != 1
        if vip:
            limit *= rule.vip_multiplier
        if amount <= limit:
            return []
        if vip:
            return [
                _Finding(
                    Verdict.APPROVE,
                    f"actions.{name}.vip_multiplier",
                    f"{noun} above {_money(limit, currency)} need a human's approval, even for a VIP customer.",
                    rule.text,
                )
            ]
        return [_Finding(Verdict.APPROVE, clause, f"{noun} above {_money(limit, currency)} need a human's approval.", rule.text)]

    # ------------------------------------------------ rule 7: confirmation

    def _confirmation(
        self, request: ActionRequest, spec: ToolSpec, amount: Decimal | None, currency: str | None
    ) -> list[_Finding]:
        clause = f"actions.{_rule_of(spec)}.requires_confirmation"
        what = _describe_action(request, amount, currency)
        findings = [_Finding(Verdict.CONFIRM, clause, f"The customer must confirm first: {what}.")]
        if request.tool == "modify_order_items":
            blocked = [name for name, rule in self.profile.actions.items() if rule.enabled and rule.block_after_items_modified]
            if blocked:
                # Items can be changed only once here, so the customer must know it is final.
                after = _or_list(governed.gerund for name in blocked for governed in governed_by(name))
                findings.append(
                    _Finding(
                        Verdict.CONFIRM,
                        clause,
                        f"After this change, {after} will no longer be possible for this "
                        "order, so every item to change must be in this one request.",
                    )
                )
        return findings

    # ------------------------------------------------ the verdict

    def _decide(
        self, request: ActionRequest, findings: list[_Finding], amount: Decimal | None, *, confirmed: bool
    ) -> GateDecision:
        if not findings:
            spec = REGISTRY.get(request.tool)
            name = spec.rule if spec is not None and spec.is_write else None
            rule = self.profile.action(name) if name else None
            if confirmed and rule is not None and rule.requires_confirmation:
                return GateDecision(
                    verdict=Verdict.ALLOW,
                    tool=request.tool,
                    reasons=["The customer confirmed this action."],
                    clauses=[f"actions.{name}.requires_confirmation"],
                    amount=amount,
                )
            return GateDecision(
                verdict=Verdict.ALLOW,
                tool=request.tool,
                reasons=[f"Allowed by the {self.profile.name} policy."],
                clauses=[],
                amount=amount,
            )
        verdict = max((f.verdict for f in findings), key=_SEVERITY.__getitem__)
        deciding = [f for f in findings if f.verdict == verdict]
        reasons = _unique([f.reason for f in deciding] + [f.text for f in deciding if f.text])
        clauses = _unique([f.clause for f in deciding])
        return GateDecision(verdict=verdict, tool=request.tool, reasons=reasons, clauses=clauses, amount=amount)


# ---------------------------------------------------------------- wording helpers


def _rule_of(spec: ToolSpec) -> str:
    """The action rule that governs a write (every write names one)."""
    if spec.rule is None:
        raise ValueError(f"{spec.name} is governed by no action rule")
    return spec.rule


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)} {currency}"


def _as_decimal(value: Any, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise _BadArgument(f"The {name} {value!r} is not a number.") from None
    if not amount.is_finite():
        raise _BadArgument(f"The {name} {value!r} is not a number.")
    return amount


def _as_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        raise _BadArgument(f"The {name} {value!r} is not a whole number.") from None


def _coupon_currency(request: ActionRequest) -> str | None:
    given = request.arguments.get("currency")
    if given:
        return str(given).upper()
    return request.order.currency if request.order is not None else None


def _order_key(order_id: Any) -> str:
    # Customers type order numbers with or without the marketplace's leading '#'.
    return str(order_id).strip().removeprefix("#")


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _words(value: str) -> str:
    return value.replace("_", " ")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _or_list(values: Iterable[str]) -> str:
    items = list(values)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _address(value: Any) -> str:
    if isinstance(value, dict):
        keys = ("name", "address1", "address2", "city", "state", "postal_code", "country")
        return ", ".join(str(value[k]) for k in keys if value.get(k))
    return str(value)


def _describe_action(request: ActionRequest, amount: Decimal | None, currency: str | None) -> str:
    """What will happen, in words the customer can say yes to."""
    args = request.arguments
    order_id = args.get("order_id")
    money = _money(amount, currency) if amount is not None and currency else None
    named = args.get("item_ids")
    items: list[Any] = named if isinstance(named, list) else []
    method = args.get("payment_method_id")
    match request.tool:
        case "issue_refund":
            if args.get("destination") == RefundDestination.GIFT_CARD:
                target = f"gift card {args['gift_card_id']}" if args.get("gift_card_id") else "a gift card"
            else:
                target = "the original payment method"
            return f"refund {money or 'everything still refundable'} on order {order_id} to {target}"
        case "create_reshipment":
            worth = f" worth {money}" if money else ""
            carrier = f" with {args['carrier']}" if args.get("carrier") else ""
            return f"send a replacement of {_count(len(items), 'item')}{worth} for order {order_id}{carrier}"
        case "switch_carrier":
            level = f" ({args['service_level']})" if args.get("service_level") else ""
            return f"move order {order_id} to {args.get('carrier')}{level}"
        case "change_shipping_address":
            return f"deliver order {order_id} to {_address(args.get('address'))}"
        case "intercept_parcel":
            if args.get("action") == "return_to_sender":
                return f"ask the carrier to return the parcel of order {order_id} to the sender"
            where = f" to {_address(args['address'])}" if args.get("address") else ""
            return f"ask the carrier to redirect the parcel of order {order_id}{where}"
        case "cancel_order":
            refund = f" and refund {money} to the original payment method" if amount and money else ""
            return f"cancel order {order_id}{refund}"
        case "modify_order_items":
            return (
                f"change {_count(len(items), 'item')} of order {order_id} to the new options, settling any "
                f"price difference with payment method {method}"
            )
        case "modify_order_payment":
            return f"pay for order {order_id} with payment method {method} instead"
        case "return_items":
            return f"return {_count(len(items), 'item')} of order {order_id}, refunded to payment method {method}"
        case "exchange_items":
            return (
                f"exchange {_count(len(items), 'item')} of order {order_id} for the new options, settling any "
                f"price difference with payment method {method}"
            )
        case "issue_coupon":
            off = f"{args['percent_off']}% off" if args.get("percent_off") is not None else f"{money} off"
            days = f" valid for {args['valid_days']} days" if args.get("valid_days") is not None else ""
            return f"give the customer a coupon for {off}{days}"
        case "update_customer_address":
            return f"save {_address(args.get('address'))} as the customer's default address"
        case "hold_shipment":
            return f"keep order {order_id} in the warehouse until the hold is released"
        case "release_stock":
            return f"give back the stock reserved for order {order_id}"
        case _:
            return "hand this conversation to a human agent"
