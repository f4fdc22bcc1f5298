"""The policy gate: decides whether a proposed tool call may run, needs the customer's yes,
needs a human's approval, or is refused, according to the seller's policy profile (YAML).

The gate only decides. The typed tools check their own hard preconditions (stock, balances,
payment kinds) when they run; the gate judges what the profile says about identity,
ownership, order and shipment stage, arguments, money and confirmation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from commerce.models import OrderStatus, RefundDestination, ShipmentStatus, UrgencyLevel
from commerce.money import minor_unit

__all__ = [
    "READ_TOOLS",
    "WRITE_TOOLS",
    "ActionRequest",
    "ActionRule",
    "GateDecision",
    "IdentityMethod",
    "ItemFacts",
    "OrderFacts",
    "PolicyGate",
    "PolicyProfile",
    "ProfileError",
    "Verdict",
    "available_profiles",
    "load_profile",
    "profile_dir",
]


# ---------------------------------------------------------------- the tools the gate knows


@dataclass(frozen=True)
class _Tool:
    write: bool
    # What the call touches: an order, a customer record, nobody's data, or the public catalogue.
    target: Literal["order", "customer", "lookup", "catalogue", "none"]
    gerund: str
    noun: str
    takes_reason: bool = False
    moves_money: bool = False


_TOOLS: dict[str, _Tool] = {
    # reads
    "find_customer_by_email": _Tool(False, "lookup", "looking up a customer by email", "Customer look-ups"),
    "find_customer_by_name_postal_code": _Tool(
        False, "lookup", "looking up a customer by name and postal code", "Customer look-ups"
    ),
    "get_customer": _Tool(False, "customer", "reading a customer profile", "Profile reads"),
    "get_order": _Tool(False, "order", "reading an order", "Order reads"),
    "track_shipment": _Tool(False, "order", "tracking a shipment", "Tracking look-ups"),
    "get_product": _Tool(False, "catalogue", "reading a product", "Product reads"),
    "list_product_types": _Tool(False, "catalogue", "listing product types", "Catalogue reads"),
    # writes
    "issue_refund": _Tool(True, "order", "issuing a refund", "Refunds", takes_reason=True, moves_money=True),
    "create_reshipment": _Tool(True, "order", "sending a replacement", "Reshipments", takes_reason=True, moves_money=True),
    "switch_carrier": _Tool(True, "order", "switching the carrier", "Carrier switches"),
    "change_shipping_address": _Tool(True, "order", "changing the delivery address", "Address changes"),
    "intercept_parcel": _Tool(True, "order", "intercepting a parcel", "Parcel intercepts"),
    "cancel_order": _Tool(True, "order", "cancelling an order", "Cancellations", takes_reason=True, moves_money=True),
    "modify_order_items": _Tool(True, "order", "changing an order's items", "Item changes"),
    "modify_order_payment": _Tool(True, "order", "changing an order's payment method", "Payment changes"),
    "return_items": _Tool(True, "order", "returning items", "Returns"),
    "exchange_items": _Tool(True, "order", "exchanging items", "Exchanges"),
    "issue_coupon": _Tool(True, "customer", "issuing a coupon", "Coupons", takes_reason=True, moves_money=True),
    "update_customer_address": _Tool(True, "customer", "updating the customer's saved address", "Address updates"),
    "escalate_to_human": _Tool(True, "none", "handing over to a human", "Hand-overs", takes_reason=True),
}

READ_TOOLS: frozenset[str] = frozenset(name for name, tool in _TOOLS.items() if not tool.write)
WRITE_TOOLS: frozenset[str] = frozenset(name for name, tool in _TOOLS.items() if tool.write)

# ---------------------------------------------------------------- profile schema


def _one_line(text: str) -> str:
    if "\n" in text:
        raise ValueError("must be a single line of plain English")
    return text


def _profile_name(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,59}", name):
        raise ValueError(f"{name!r} must be lowercase letters, digits, '-' or '_' (at most 60)")
    return name


def _write_tool(name: str) -> str:
    if name not in WRITE_TOOLS:
        raise ValueError(f"unknown tool; write tools are: {', '.join(sorted(WRITE_TOOLS))}")
    return name


def _currency_code(code: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(f"{code!r} is not a three-letter currency code such as EUR")
    return code


PolicyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), AfterValidator(_one_line)]
CurrencyCode = Annotated[str, AfterValidator(_currency_code)]
WriteToolName = Annotated[str, AfterValidator(_write_tool)]
Amount = Annotated[Decimal, Field(ge=0)]
CurrencyTable = dict[CurrencyCode, Amount]
NonEmptyText = Annotated[str, Field(min_length=1, max_length=200)]


class IdentityMethod(StrEnum):
    ORDER_NUMBER_EMAIL = "order_number_email"
    NAME_POSTAL_CODE = "name_postal_code"
    EMAIL = "email"
    SIGNED_TOKEN = "signed_token"


_METHOD_WORDS = {
    IdentityMethod.ORDER_NUMBER_EMAIL: "order number and email",
    IdentityMethod.NAME_POSTAL_CODE: "name and postal code",
    IdentityMethod.EMAIL: "email address",
    IdentityMethod.SIGNED_TOKEN: "a signed-in session",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Clause(_Section):
    text: PolicyText | None = Field(default=None, description="The rule in one plain-English sentence.")


class IdentityRules(_Clause):
    methods: Annotated[list[IdentityMethod], Field(min_length=1)]
    required_for_reads: bool = True


class ShipmentStage(_Clause):
    """Which parcel states allow the action, judged on the order's shipments."""

    statuses: Annotated[list[ShipmentStatus], Field(min_length=1)]
    match: Literal["all", "any"] = "all"
    when_not_shipped: Literal["allow", "deny"] = "allow"


class ActionRule(_Clause):
    enabled: bool = True
    allowed_statuses: Annotated[list[OrderStatus], Field(min_length=1)] | None = None
    block_after_items_modified: bool = False
    shipment_stage: ShipmentStage | None = None
    allowed_reasons: Annotated[list[NonEmptyText], Field(min_length=1)] | None = None
    # Forgetting the key must not let a write run without the customer's yes.
    requires_confirmation: bool = True
    approval_above: CurrencyTable | None = None
    vip_multiplier: Annotated[Decimal, Field(ge=1)] = Decimal(1)


# Handing over to a human is always possible, even when a profile does not mention it.
_DEFAULT_ESCALATION = ActionRule(enabled=True, requires_confirmation=False)


class RefundRules(_Clause):
    # The tools check the payment kind; the gate can only see the destination argument.
    destinations: Annotated[list[RefundDestination], Field(min_length=1)] = Field(default_factory=lambda: list(RefundDestination))


class CouponRules(_Clause):
    max_percent: Annotated[int, Field(ge=1, le=100)] | None = None
    max_amount: CurrencyTable | None = None
    max_valid_days: Annotated[int, Field(ge=1)] | None = None
    max_per_customer: Annotated[int, Field(ge=0)] | None = None
    window_days: Annotated[int, Field(ge=1)] = 30


class ReturnRules(_Clause):
    window_days: Annotated[int, Field(ge=0)] | None = None


class UrgencySla(_Section):
    red: Annotated[float, Field(gt=0)] = 1
    orange: Annotated[float, Field(gt=0)] = 4
    yellow: Annotated[float, Field(gt=0)] = 12
    blue: Annotated[float, Field(gt=0)] = 24

    @model_validator(mode="after")
    def _more_urgent_is_sooner(self) -> UrgencySla:
        hours = [self.red, self.orange, self.yellow, self.blue]
        if hours != sorted(hours):
            raise ValueError("a more urgent level must not get a later deadline (red ≤ orange ≤ yellow ≤ blue)")
        return self

    def hours_for(self, level: UrgencyLevel) -> float:
        value: float = getattr(self, level.value)
        return value


class DeliveredNotReceived(_Clause):
    reship_below: CurrencyTable = Field(default_factory=dict)


class PolicyProfile(_Section):
    name: Annotated[str, AfterValidator(_profile_name)]
    description: Annotated[str, Field(min_length=1)]
    identity: IdentityRules
    out_of_scope: Literal["escalate", "deny"]
    # A write tool left out of this table is out of scope for the agent.
    actions: dict[WriteToolName, ActionRule]
    refunds: RefundRules = Field(default_factory=RefundRules)
    coupons: CouponRules = Field(default_factory=CouponRules)
    returns: ReturnRules = Field(default_factory=ReturnRules)
    urgency_sla_hours: UrgencySla = Field(default_factory=UrgencySla)
    delivered_not_received: DeliveredNotReceived | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PolicyProfile:
        problems = _consistency_problems(self)
        if problems:
            summary = "; ".join(f"{path}: {what}" for path, what in problems)
            raise PydanticCustomError(_CONSISTENCY, "{summary}", {"summary": summary, "problems": problems})
        return self

    def action(self, tool: str) -> ActionRule | None:
        """The rule for a write tool; None means the profile leaves it out of scope."""
        rule = self.actions.get(tool)
        if rule is None and tool == "escalate_to_human":
            return _DEFAULT_ESCALATION
        return rule


_CONSISTENCY = "profile_consistency"


def _consistency_problems(profile: PolicyProfile) -> list[tuple[str, str]]:
    return [problem for tool, rule in profile.actions.items() for problem in _rule_problems(tool, rule)]


def _rule_problems(tool: str, rule: ActionRule) -> list[tuple[str, str]]:
    """Settings that make no sense for this particular tool."""
    problems: list[tuple[str, str]] = []
    info = _TOOLS[tool]
    base = f"actions.{tool}"
    if rule.allowed_reasons is not None and not info.takes_reason:
        problems.append((f"{base}.allowed_reasons", "this tool takes no reason"))
    order_bound = {
        "shipment_stage": rule.shipment_stage is not None,
        "block_after_items_modified": rule.block_after_items_modified,
        "allowed_statuses": rule.allowed_statuses is not None,
    }
    for field_name, used in order_bound.items():
        # A coupon may be tied to an order, so only its status can be judged.
        coupon_status = tool == "issue_coupon" and field_name == "allowed_statuses"
        if used and info.target != "order" and not coupon_status:
            problems.append((f"{base}.{field_name}", "this tool does not act on an order"))
    if not info.moves_money:
        for field_name in ("approval_above", "vip_multiplier"):
            if field_name in rule.model_fields_set:
                problems.append((f"{base}.{field_name}", "this tool moves no money"))
    elif "vip_multiplier" in rule.model_fields_set and rule.approval_above is None:
        problems.append((f"{base}.vip_multiplier", "has no effect without approval_above"))
    if tool == "escalate_to_human" and not rule.enabled:
        problems.append((f"{base}.enabled", "handing over to a human cannot be switched off"))
    return problems


# ---------------------------------------------------------------- loading


class ProfileError(ValueError):
    """A policy profile that cannot be used; one line per problem, each naming file and field."""

    def __init__(self, source: str, problems: Iterable[tuple[str | None, str]]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [f"{source}: {path}: {what}" if path else f"{source}: {what}" for path, what in self.problems]
        super().__init__("\n".join(lines))


def profile_dir() -> Path:
    return Path(__file__).resolve().parent / "profiles"


def available_profiles() -> list[str]:
    return sorted(path.stem for path in profile_dir().glob("*.yaml"))


def load_profile(name_or_path: str) -> PolicyProfile:
    """Load a shipped profile by name ("default", "tau-retail") or any profile YAML by path."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or len(candidate.parts) > 1:
        return _load_file(candidate)
    if name_or_path in available_profiles():
        return _load_file(profile_dir() / f"{name_or_path}.yaml")
    known = ", ".join(available_profiles())
    raise ProfileError(name_or_path, [(None, f"unknown policy profile; available profiles: {known}")])


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML would silently keep the last of two equal keys; in a policy that hides a mistake."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable):
                if key in seen:
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_file(path: Path) -> PolicyProfile:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(source, [(None, "file not found")]) from None
    except OSError as exc:
        raise ProfileError(source, [(None, f"cannot read the file ({exc.strerror})")]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no object construction
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise ProfileError(source, [(where, f"not valid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise ProfileError(source, [(None, f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise ProfileError(source, [("(top level)", "expected a mapping of profile settings")])
    try:
        return PolicyProfile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(source, _problems_from(exc) + _raw_rule_problems(data)) from None


def _problems_from(error: ValidationError) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    for detail in error.errors():
        if detail["type"] == _CONSISTENCY:
            problems.extend(detail.get("ctx", {})["problems"])
        else:
            problems.append((_field_path(detail["loc"]), _describe(detail)))
    return problems


def _raw_rule_problems(data: dict[Any, Any]) -> list[tuple[str | None, str]]:
    """Per-tool checks on the actions that parsed, so one run reports every problem in the file."""
    actions = data.get("actions")
    if not isinstance(actions, dict):
        return []
    problems: list[tuple[str | None, str]] = []
    for tool, raw in actions.items():
        if tool not in WRITE_TOOLS:
            continue
        try:
            rule = ActionRule.model_validate(raw)
        except ValidationError:
            continue  # its own problems are already listed
        problems.extend(_rule_problems(tool, rule))
    return problems


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _describe(detail: ErrorDetails) -> str:
    kind = detail["type"]
    ctx: dict[str, Any] = dict(detail.get("ctx") or {})
    given = detail.get("input")
    if kind == "missing":
        return "required but missing"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in {"enum", "literal_error"}:
        return f"unknown value {given!r}; expected {ctx.get('expected', 'one of the listed values')}"
    if kind == "greater_than_equal" and str(ctx.get("ge")) == "0":
        return f"must not be negative (got {given})"
    if kind == "value_error":
        return str(detail["msg"]).removeprefix("Value error, ")
    message = str(detail["msg"])
    got = f" (got {given!r})" if isinstance(given, str | int | float | Decimal | bool) else ""
    return message[:1].lower() + message[1:] + got


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

    @property
    def refundable(self) -> Decimal:
        return self.amount_paid - self.amount_refunded


class ActionRequest(BaseModel):
    tool: str
    arguments: dict[str, Any]
    identity_verified: bool
    verified_customer_id: str | None = None
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


class _BadArgument(ValueError):
    pass


# ---------------------------------------------------------------- the gate


class PolicyGate:
    """Judges one proposed tool call against a policy profile."""

    def __init__(self, profile: PolicyProfile) -> None:
        self.profile = profile

    def evaluate(self, request: ActionRequest, *, confirmed: bool = False) -> GateDecision:
        info = _TOOLS.get(request.tool)
        if info is None:
            finding = _Finding(Verdict.DENY, "gate.unknown_tool", f"There is no tool called {request.tool!r}.")
            return self._decide(request, [finding], None, confirmed=confirmed)
        findings = self._order_facts(request, info)
        if not info.write:
            findings += self._read_rules(request, info)
            return self._decide(request, findings, None, confirmed=confirmed)

        amount, currency, money_findings = self._amount_moved(request)
        findings += money_findings
        if request.tool != "escalate_to_human":
            findings += self._identity_for_write(request)
            findings += self._ownership(request, info)

        rule = self.profile.action(request.tool)
        if rule is None or not rule.enabled:
            findings.append(self._out_of_scope(request.tool, rule))
            return self._decide(request, findings, amount, confirmed=confirmed)

        findings += self._order_stage(request, rule)
        findings += self._arguments(request, rule)
        findings += self._approval(request, rule, amount, currency)
        if rule.requires_confirmation and not confirmed:
            findings += self._confirmation(request, amount, currency)
        return self._decide(request, findings, amount, confirmed=confirmed)

    # ------------------------------------------------ rules 1-3: facts, identity, ownership, scope

    def _order_facts(self, request: ActionRequest, info: _Tool) -> list[_Finding]:
        order_id = request.arguments.get("order_id")
        order = request.order
        if order is not None and order_id is not None and _order_key(order_id) != _order_key(order.order_id):
            return [
                _Finding(
                    Verdict.DENY, "gate.order_facts", f"The facts supplied are for order {order.order_id}, not order {order_id}."
                )
            ]
        needs_facts = info.write and request.tool != "escalate_to_human" and (info.target == "order" or order_id is not None)
        if needs_facts and order is None:
            label = f"order {order_id}" if order_id is not None else "the order"
            return [_Finding(Verdict.DENY, "gate.order_facts", f"Look up {label} before acting on it.")]
        return []

    def _read_rules(self, request: ActionRequest, info: _Tool) -> list[_Finding]:
        if info.target not in {"order", "customer"}:
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
        return self._ownership(request, info)

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

    def _methods_text(self) -> str:
        return "by " + ", or ".join(_METHOD_WORDS[m] for m in self.profile.identity.methods)

    def _ownership(self, request: ActionRequest, info: _Tool) -> list[_Finding]:
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
        if info.target == "customer" and customer_id is not None and str(customer_id) != verified:
            findings.append(
                _Finding(
                    Verdict.DENY,
                    "gate.ownership",
                    "That is another customer's account; only the verified customer's own account can be handled.",
                )
            )
        return findings

    def _out_of_scope(self, tool: str, rule: ActionRule | None) -> _Finding:
        gerund = _TOOLS[tool].gerund
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

    def _order_stage(self, request: ActionRequest, rule: ActionRule) -> list[_Finding]:
        order = request.order
        if order is None:
            return []
        tool = request.tool
        gerund = _TOOLS[tool].gerund
        findings: list[_Finding] = []
        if rule.allowed_statuses is not None and order.status not in rule.allowed_statuses:
            allowed = _or_list(_words(s) for s in rule.allowed_statuses)
            findings.append(
                _Finding(
                    Verdict.DENY,
                    f"actions.{tool}.allowed_statuses",
                    f"{_cap(gerund)} is only possible while the order is {allowed}; "
                    f"order {order.order_id} is {_words(order.status)}.",
                    rule.text,
                )
            )
        if rule.block_after_items_modified and order.items_modified:
            findings.append(
                _Finding(
                    Verdict.DENY,
                    f"actions.{tool}.block_after_items_modified",
                    f"Order {order.order_id} already had its items changed, so {gerund} is no longer possible.",
                    rule.text,
                )
            )
        stage = rule.shipment_stage
        if stage is not None:
            statuses = order.shipment_statuses
            wanted = _or_list(f"'{_words(s)}'" for s in stage.statuses)
            clause = f"actions.{tool}.shipment_stage"
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

    def _arguments(self, request: ActionRequest, rule: ActionRule) -> list[_Finding]:
        tool = request.tool
        findings: list[_Finding] = []
        if rule.allowed_reasons is not None and _TOOLS[tool].takes_reason:
            given = str(request.arguments.get("reason") or "").strip()
            if given.casefold() not in {r.strip().casefold() for r in rule.allowed_reasons}:
                allowed = _or_list(f"'{r}'" for r in rule.allowed_reasons)
                findings.append(
                    _Finding(
                        Verdict.DENY,
                        f"actions.{tool}.allowed_reasons",
                        f"The reason for {_TOOLS[tool].gerund} must be {allowed}, not '{given}'.",
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

    def _approval(self, request: ActionRequest, rule: ActionRule, amount: Decimal | None, currency: str | None) -> list[_Finding]:
        if rule.approval_above is None or amount is None or currency is None:
            return []
        tool = request.tool
        noun = _TOOLS[tool].noun
        clause = f"actions.{tool}.approval_above"
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
                    f"actions.{tool}.vip_multiplier",
                    f"{noun} above {_money(limit, currency)} need a human's approval, even for a VIP customer.",
                    rule.text,
                )
            ]
        return [_Finding(Verdict.APPROVE, clause, f"{noun} above {_money(limit, currency)} need a human's approval.", rule.text)]

    # ------------------------------------------------ rule 7: confirmation

    def _confirmation(self, request: ActionRequest, amount: Decimal | None, currency: str | None) -> list[_Finding]:
        clause = f"actions.{request.tool}.requires_confirmation"
        what = _describe_action(request, amount, currency)
        findings = [_Finding(Verdict.CONFIRM, clause, f"The customer must confirm first: {what}.")]
        if request.tool == "modify_order_items":
            blocked = [tool for tool, rule in self.profile.actions.items() if rule.enabled and rule.block_after_items_modified]
            if blocked:
                # Items can be changed only once here, so the customer must know it is final.
                after = _or_list(_TOOLS[t].gerund for t in blocked)
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
            rule = self.profile.action(request.tool) if request.tool in WRITE_TOOLS else None
            if confirmed and rule is not None and rule.requires_confirmation:
                return GateDecision(
                    verdict=Verdict.ALLOW,
                    tool=request.tool,
                    reasons=["The customer confirmed this action."],
                    clauses=[f"actions.{request.tool}.requires_confirmation"],
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
        case _:
            return "hand this conversation to a human agent"
