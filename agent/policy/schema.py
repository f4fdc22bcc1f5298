"""The policy profile's schema: the pydantic models a profile YAML must fit, and the checks that
a rule's settings make sense for the tools it governs."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from commerce.models import OrderStatus, RefundDestination, ShipmentStatus, UrgencyLevel
from tools import REGISTRY, ToolSpec

# ---------------------------------------------------------------- the tools, from their specs

READ_TOOLS: frozenset[str] = frozenset(name for name, spec in REGISTRY.items() if not spec.is_write)
WRITE_TOOLS: frozenset[str] = frozenset(name for name, spec in REGISTRY.items() if spec.is_write)
# The action rules a profile may set: one for each rule a write tool names.
RULE_NAMES: frozenset[str] = frozenset(spec.rule for spec in REGISTRY.values() if spec.rule)


def governed_by(rule: str) -> list[ToolSpec]:
    """The write tools an action rule governs."""
    return [spec for spec in REGISTRY.values() if spec.is_write and spec.rule == rule]


# ---------------------------------------------------------------- profile schema


def _one_line(text: str) -> str:
    if "\n" in text:
        raise ValueError("must be a single line of plain English")
    return text


def _profile_name(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,59}", name):
        raise ValueError(f"{name!r} must be lowercase letters, digits, '-' or '_' (at most 60)")
    return name


def _rule_name(name: str) -> str:
    if name not in RULE_NAMES:
        raise ValueError(f"unknown tool; write tools are: {', '.join(sorted(RULE_NAMES))}")
    return name


def _currency_code(code: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(f"{code!r} is not a three-letter currency code such as EUR")
    return code


PolicyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), AfterValidator(_one_line)]
CurrencyCode = Annotated[str, AfterValidator(_currency_code)]
RuleName = Annotated[str, AfterValidator(_rule_name)]
Amount = Annotated[Decimal, Field(ge=0)]
CurrencyTable = dict[CurrencyCode, Amount]
NonEmptyText = Annotated[str, Field(min_length=1, max_length=200)]


class IdentityMethod(StrEnum):
    ORDER_NUMBER_EMAIL = "order_number_email"
    NAME_POSTAL_CODE = "name_postal_code"
    EMAIL = "email"
    SIGNED_TOKEN = "signed_token"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Clause(_Section):
    text: PolicyText | None = Field(default=None, description="The rule in one plain-English sentence.")


class IdentityRules(_Clause):
    methods: Annotated[list[IdentityMethod], Field(min_length=1)]
    required_for_reads: bool = True
    # The proofs strong enough for a write (an action's own `identity` list overrides it); None:
    # any proof in `methods`. A name and a postal code are public knowledge: read-only help.
    methods_for_writes: Annotated[list[IdentityMethod], Field(min_length=1)] | None = None


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
    # A profile that leaves this out gets the governed tool's consent (see PolicyProfile), so
    # forgetting the key never lets a customer-facing write run without the customer's yes.
    requires_confirmation: bool = True
    approval_above: CurrencyTable | None = None
    vip_multiplier: Annotated[Decimal, Field(ge=1)] = Decimal(1)
    # The proofs of identity this action needs; None: the profile's `identity.methods_for_writes`.
    identity: Annotated[list[IdentityMethod], Field(min_length=1)] | None = None


def rule_consent(rule: str) -> bool:
    """Whether a write under this rule needs the customer's yes when the profile does not say."""
    return any(spec.consent for spec in governed_by(rule))


# Handing over to a human is always possible, even when a profile does not mention it.
_DEFAULT_ESCALATION = ActionRule(enabled=True, requires_confirmation=rule_consent("escalate_to_human"))


class RefundRules(_Clause):
    # The tools check the payment kind; the gate can only see the destination argument.
    destinations: Annotated[list[RefundDestination], Field(min_length=1)] = Field(default_factory=lambda: list(RefundDestination))


class CouponRules(_Clause):
    max_percent: Annotated[int, Field(ge=1, le=100)] | None = None
    max_amount: CurrencyTable | None = None
    max_valid_days: Annotated[int, Field(ge=1)] | None = None
    max_per_customer: Annotated[int, Field(ge=0)] | None = None
    window_days: Annotated[int, Field(ge=1)] = 30


class OrderCaps(_Clause):
    """What one order may get without a human, however many conversations ask: free reshipments,
    coupons, and the money and goods given back as a share of what the order cost."""

    reshipments: Annotated[int, Field(ge=0)] | None = None
    coupons: Annotated[int, Field(ge=0)] | None = None
    money_back_share: Annotated[Decimal, Field(ge=0)] | None = None


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
    # A write tool whose rule is left out of this table is out of scope for the agent.
    actions: dict[RuleName, ActionRule]
    refunds: RefundRules = Field(default_factory=RefundRules)
    coupons: CouponRules = Field(default_factory=CouponRules)
    order_caps: OrderCaps = Field(default_factory=OrderCaps)
    returns: ReturnRules = Field(default_factory=ReturnRules)
    urgency_sla_hours: UrgencySla = Field(default_factory=UrgencySla)
    delivered_not_received: DeliveredNotReceived | None = None

    @model_validator(mode="before")
    @classmethod
    def _confirmation_from_consent(cls, data: Any) -> Any:
        """A rule that does not say whether the customer must confirm follows its tools' consent."""
        if not isinstance(data, dict) or not isinstance(data.get("actions"), dict):
            return data
        actions = {
            name: {**raw, "requires_confirmation": rule_consent(name)}
            if isinstance(raw, dict) and "requires_confirmation" not in raw and name in RULE_NAMES
            else raw
            for name, raw in data["actions"].items()
        }
        return {**data, "actions": actions}

    @model_validator(mode="after")
    def _consistent(self) -> PolicyProfile:
        problems = _consistency_problems(self)
        if problems:
            summary = "; ".join(f"{path}: {what}" for path, what in problems)
            raise PydanticCustomError(CONSISTENCY, "{summary}", {"summary": summary, "problems": problems})
        return self

    def action(self, rule: str) -> ActionRule | None:
        """The action rule of that name; None means the profile leaves its tools out of scope."""
        found = self.actions.get(rule)
        if found is None and rule == "escalate_to_human":
            return _DEFAULT_ESCALATION
        return found


# The error type that carries every consistency problem of a profile at once.
CONSISTENCY = "profile_consistency"


def _consistency_problems(profile: PolicyProfile) -> list[tuple[str, str]]:
    return [problem for name, rule in profile.actions.items() for problem in rule_problems(name, rule)]


def rule_problems(name: str, rule: ActionRule) -> list[tuple[str, str]]:
    """Settings that make no sense for the tools this rule governs."""
    problems: list[tuple[str, str]] = []
    specs = governed_by(name)
    base = f"actions.{name}"
    if rule.allowed_reasons is not None and not any(spec.takes_reason for spec in specs):
        problems.append((f"{base}.allowed_reasons", "this tool takes no reason"))
    order_bound = {
        "shipment_stage": rule.shipment_stage is not None,
        "block_after_items_modified": rule.block_after_items_modified,
        "allowed_statuses": rule.allowed_statuses is not None,
    }
    on_orders = all(spec.target == "order" for spec in specs)
    for field_name, used in order_bound.items():
        # A coupon may be tied to an order, so only its status can be judged.
        coupon_status = name == "issue_coupon" and field_name == "allowed_statuses"
        if used and not on_orders and not coupon_status:
            problems.append((f"{base}.{field_name}", "this tool does not act on an order"))
    if not any(spec.moves_money for spec in specs):
        for field_name in ("approval_above", "vip_multiplier"):
            if field_name in rule.model_fields_set:
                problems.append((f"{base}.{field_name}", "this tool moves no money"))
    elif "vip_multiplier" in rule.model_fields_set and rule.approval_above is None:
        problems.append((f"{base}.vip_multiplier", "has no effect without approval_above"))
    if name == "escalate_to_human" and not rule.enabled:
        problems.append((f"{base}.enabled", "handing over to a human cannot be switched off"))
    return problems
