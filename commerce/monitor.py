"""The exception monitor: rules over orders, payments, stock and tracking events that flag what a
seller should look at (a stalled parcel, a duplicate order, a refund above the payment, …).

Each rule is one set-based query. A flag is raised once per rule and subject (an order, a parcel
or a variant); its reason is an English sentence with the facts, it carries an urgency and the
name of the playbook that handles it. Thresholds come from ``monitor_rules.yaml`` (shipped next to
this module) or a seller's copy. An incremental scan reads only what changed since the last one
(new tracking events, orders, payments and customer messages, and the records whose time limit
ran out since then), using the watermarks kept in ``MonitorCursor``.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml
from sqlalchemy import (
    Column,
    ColumnElement,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session, aliased

from commerce.db import Store
from commerce.models import (
    Coupon,
    Customer,
    Flag,
    FlagStatus,
    Message,
    MonitorCursor,
    Order,
    OrderItem,
    OrderStatus,
    PaymentTransaction,
    ProductIssue,
    Shipment,
    ShipmentStatus,
    StockLevel,
    TrackingCode,
    TrackingEvent,
    TransactionKind,
    TransactionStatus,
    UrgencyLevel,
    Variant,
    utcnow,
)
from commerce.money import APPROX_EUR_PER_UNIT

SHIPPED_RULES = Path(__file__).with_name("monitor_rules.yaml")

RULES = (
    "parcel_stalled",
    "delivery_late",
    "customs_hold",
    "returned_to_sender",
    "delivered_not_received",
    "duplicate_order",
    "ip_burst",
    "cancelled_after_payment",
    "new_account_coupon",
    "phone_country_mismatch",
    "address_red_flags",
    "captured_not_fulfilled",
    "stock_without_payment",
    "oversold",
    "refund_exceeds_payment",
)

# The threshold each rule's measured value is compared with (for suggestions from feedback).
THRESHOLD_PARAM: dict[str, str] = {
    "parcel_stalled": "days",
    "delivery_late": "grace_days",
    "customs_hold": "days",
    "duplicate_order": "minutes",
    "ip_burst": "orders",
    "cancelled_after_payment": "min_eur",
    "new_account_coupon": "min_eur",
    "captured_not_fulfilled": "days",
}

# Above this many changed orders an incremental scan reads everything instead.
INCREMENTAL_LIMIT = 10_000
_CHUNK = 500

# The orders an incremental scan looks at, each with the kind of change that brought it in, held
# for the length of the scan in a temporary table of the scan's own connection: every rule reads
# the orders whose changes matter to it from there instead of repeating a list of ids.
_SCOPE = Table(
    "monitor_scope",
    MetaData(),
    Column("kind", String(20)),
    Column("order_id", String(64)),
    prefixes=["TEMPORARY"],
)
_SCOPE_DDL = "CREATE TEMPORARY TABLE IF NOT EXISTS monitor_scope (kind VARCHAR(20), order_id VARCHAR(64))"

# The kinds of change each rule depends on: an incremental scan runs a rule only over the orders
# with such a change, and not at all when there is none. Every rule sees new orders; the parcel
# rules see new tracking events and their own time limits, the money rules new payments.
# A rule missing here (``oversold``, over stock levels) reads everything in every scan.
_RULE_INPUTS: dict[str, tuple[str, ...]] = {
    "parcel_stalled": ("placed", "events", "stall_limit"),
    "delivery_late": ("placed", "events", "promise_limit"),
    "customs_hold": ("placed", "events", "customs_limit"),
    "returned_to_sender": ("placed", "events"),
    "delivered_not_received": ("placed", "events", "messages"),
    "duplicate_order": ("placed", "cancelled"),
    "ip_burst": ("placed",),
    "cancelled_after_payment": ("placed", "cancelled", "payments"),
    "new_account_coupon": ("placed", "payments"),
    "phone_country_mismatch": ("placed",),
    "address_red_flags": ("placed",),
    "captured_not_fulfilled": ("placed", "payments", "capture_limit"),
    "stock_without_payment": ("placed", "payments"),
    "refund_exceeds_payment": ("placed", "payments"),
}

# Calling codes of the countries the shop sells to; +1 and +7 are shared by two countries each.
CALLING_CODES: dict[str, frozenset[str]] = {
    "1": frozenset({"US", "CA"}),
    "44": frozenset({"GB"}),
    "49": frozenset({"DE"}),
    "33": frozenset({"FR"}),
    "34": frozenset({"ES"}),
    "39": frozenset({"IT"}),
    "31": frozenset({"NL"}),
    "48": frozenset({"PL"}),
    "81": frozenset({"JP"}),
    "82": frozenset({"KR"}),
    "55": frozenset({"BR"}),
    "90": frozenset({"TR"}),
    "52": frozenset({"MX"}),
    "86": frozenset({"CN"}),
    "966": frozenset({"SA"}),
    "971": frozenset({"AE"}),
    "7": frozenset({"KZ", "RU"}),
    "41": frozenset({"CH"}),
    "46": frozenset({"SE"}),
    "61": frozenset({"AU"}),
}

POSTAL_CODE_FORMATS: dict[str, re.Pattern[str]] = {
    cc: re.compile(pattern)
    for cc, pattern in {
        "US": r"\d{5}(-\d{4})?",
        "CA": r"[A-Z]\d[A-Z] ?\d[A-Z]\d",
        "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
        "DE": r"\d{5}",
        "FR": r"\d{5}",
        "ES": r"\d{5}",
        "IT": r"\d{5}",
        "NL": r"\d{4} ?[A-Z]{2}",
        "PL": r"\d{2}-\d{3}",
        "JP": r"\d{3}-?\d{4}",
        "KR": r"\d{5}",
        "BR": r"\d{5}-?\d{3}",
        "TR": r"\d{5}",
        "MX": r"\d{5}",
        "CN": r"\d{6}",
        "SA": r"\d{5}(-\d{4})?",
        "KZ": r"[A-Z]\d{2}[A-Z]\d[A-Z]\d|\d{6}",
        "CH": r"\d{4}",
        "SE": r"\d{3} ?\d{2}",
        "AU": r"\d{4}",
    }.items()
}

# Words of parcel forwarders and pickup points, in the shop's languages.
FORWARDER_WORDS = re.compile(
    r"forwarder|forwarding|reship(?:per|ping)? service|mail ?box|parcel ?locker|pick-?up point|"
    r"reenv[ií]o|reexpedi|casillero|packstation|paketshop|postfiliale|nachsendeservice|"
    r"point relais|relais colis|consigne|punto di ritiro|fermo ?posta|pakketpunt|afhaalpunt|"
    r"paczkomat|punkt odbioru|転送|私書箱|转运|集运|代收点|택배 ?보관함|배송대행|ponto de retirada|kargo noktası",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")


# ---------------------------------------------------------------- the rules file


@dataclass(frozen=True)
class RuleConfig:
    name: str
    enabled: bool
    urgency: UrgencyLevel
    playbook: str
    params: dict[str, float]

    def param(self, key: str) -> float:
        return self.params[key]


@dataclass(frozen=True)
class MonitorRules:
    rules: dict[str, RuleConfig]

    def __getitem__(self, name: str) -> RuleConfig:
        return self.rules[name]

    def enabled(self) -> list[RuleConfig]:
        return [r for r in self.rules.values() if r.enabled]


def _parse(raw: Any, source: str) -> dict[str, dict[str, Any]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{source}: expected a mapping of rule names to settings")
    parsed: dict[str, dict[str, Any]] = {}
    for name, settings in raw.items():
        if name not in RULES:
            raise ValueError(f"{source}: unknown rule {name!r} (known: {', '.join(RULES)})")
        if settings is None:
            settings = {}
        if not isinstance(settings, dict):
            raise ValueError(f"{source}: rule {name!r} needs a mapping of settings")
        parsed[str(name)] = dict(settings)
    return parsed


def load_rules(path: Path | str | None = None) -> MonitorRules:
    """The shipped rules, with a seller's file (if given) laid over them rule by rule."""
    merged = _parse(yaml.safe_load(SHIPPED_RULES.read_text(encoding="utf-8")), str(SHIPPED_RULES))
    if path is not None:
        own = Path(path)
        if not own.is_file():
            raise FileNotFoundError(f"rules file not found: {own}")
        for name, settings in _parse(yaml.safe_load(own.read_text(encoding="utf-8")), str(own)).items():
            merged[name] = {**merged.get(name, {}), **settings}
    rules: dict[str, RuleConfig] = {}
    for name in RULES:
        settings = dict(merged.get(name, {}))
        try:
            urgency = UrgencyLevel(str(settings.pop("urgency", "yellow")))
        except ValueError as e:
            raise ValueError(f"rule {name!r}: urgency must be one of red, orange, yellow, blue") from e
        enabled = bool(settings.pop("enabled", True))
        playbook = str(settings.pop("playbook", ""))
        params: dict[str, float] = {}
        for key, value in settings.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"rule {name!r}: {key} must be a number, got {value!r}")
            params[str(key)] = float(value)
        rules[name] = RuleConfig(name, enabled, urgency, playbook, params)
    return MonitorRules(rules)


# ---------------------------------------------------------------- results


@dataclass
class ScanResult:
    scanned_orders: int
    new_flags: dict[str, int] = field(default_factory=dict)
    flags: list[int] = field(default_factory=list)
    playbooks_run: dict[str, int] = field(default_factory=dict)
    incremental: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "scanned_orders": self.scanned_orders,
            "new_flags": dict(self.new_flags),
            "playbooks_run": dict(self.playbooks_run),
        }


@dataclass(frozen=True)
class _Hit:
    subject: str
    order_id: str | None
    customer_id: str | None
    reason: str
    measured: float | None = None


def _order_hit(oid: str, cid: str | None, reason: str, measured: float | None = None) -> _Hit:
    return _Hit(f"order:{oid}", oid, cid, reason, measured)


def _parcel_hit(sid: int, oid: str, cid: str | None, reason: str, measured: float | None = None) -> _Hit:
    return _Hit(f"shipment:{sid}", oid, cid, reason, measured)


# ---------------------------------------------------------------- SQL helpers


class _Ctx:
    """What every rule needs: the session, the instant, and the orders in scope (None: all; else
    they are in the temporary ``monitor_scope`` table, and ``kinds`` are the kinds of change the
    running rule reads from it)."""

    def __init__(self, session: Session, now: dt.datetime, scope: dict[str, int] | None) -> None:
        self.session = session
        self.now = now
        self.scope = scope
        self.kinds: tuple[str, ...] = ()
        self.sqlite = session.get_bind().dialect.name == "sqlite"

    def in_scope(self, kinds: tuple[str, ...] | None) -> bool:
        """Whether a rule reading these kinds of change has anything to look at."""
        return self.scope is None or kinds is None or any(self.scope.get(kind) for kind in kinds)

    def epoch(self, column: Any) -> ColumnElement[float]:
        """Seconds since 1970 of a timestamp column, in the database's own arithmetic."""
        if self.sqlite:
            return cast(ColumnElement[float], (func.julianday(column) - 2440587.5) * 86400.0)
        return cast(ColumnElement[float], func.extract("epoch", column))

    def rows(self, query: Any, order_column: Any) -> list[Any]:
        """Run a query over every order, or over the orders in scope."""
        if self.scope is None:
            return list(self.session.execute(query).all())
        scoped = select(_SCOPE.c.order_id).where(_SCOPE.c.kind.in_(self.kinds))
        return list(self.session.execute(query.where(order_column.in_(scoped))).all())


def _eur(total: Any, currency: Any) -> ColumnElement[float]:
    rates = {code: float(rate) for code, rate in APPROX_EUR_PER_UNIT.items()}
    return cast(ColumnElement[float], total * case(rates, value=currency, else_=literal(0.0)))


def _days(delta: dt.timedelta) -> float:
    return round(delta.total_seconds() / 86400, 2)


def _money(value: Any, currency: str) -> str:
    return f"{float(value):,.2f} {currency}"


def _int(value: float) -> str:
    return f"{value:g}"


_OPEN_PARCEL = (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER)


# ---------------------------------------------------------------- parcel rules


def _parcels(*columns: Any) -> Select[Any]:
    """Parcels with their order and customer ids first, then the given columns."""
    return select(Shipment.id, Shipment.order_id, Order.customer_id, *columns).join(Order, Order.id == Shipment.order_id)


def _parcel_stalled(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    days = rule.param("days")
    last_at = (
        select(func.max(TrackingEvent.occurred_at))
        .where(TrackingEvent.shipment_id == Shipment.id)
        .correlate(Shipment)
        .scalar_subquery()
        .label("last_at")
    )
    cutoff = ctx.now - dt.timedelta(days=days)
    inner = _parcels(Shipment.carrier, Shipment.tracking_number, last_at).where(
        Shipment.status.not_in([*_OPEN_PARCEL, ShipmentStatus.CUSTOMS_HOLD]), last_at < cutoff
    )
    hits = []
    for sid, oid, cid, carrier, number, last in ctx.rows(inner, Shipment.order_id):
        if last is None or last >= cutoff:
            continue
        silent = _days(ctx.now - last)
        hits.append(
            _parcel_hit(
                sid,
                oid,
                cid,
                f"Parcel {number} ({carrier}) for order {oid} has had no tracking event for {silent:.1f} days "
                f"(last on {last:%Y-%m-%d %H:%M} UTC; limit {_int(days)} days).",
                silent,
            )
        )
    return hits


def _delivery_late(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    grace = rule.param("grace_days")
    before = ctx.now.date() - dt.timedelta(days=grace)
    query = _parcels(Shipment.tracking_number, Shipment.promised_delivery_date).where(
        Shipment.status.not_in(_OPEN_PARCEL), Shipment.promised_delivery_date < before
    )
    hits = []
    for sid, oid, cid, number, promised in ctx.rows(query, Shipment.order_id):
        late = float((ctx.now.date() - promised).days)
        hits.append(
            _parcel_hit(
                sid,
                oid,
                cid,
                f"Parcel {number} for order {oid} was promised for {promised:%Y-%m-%d} and is not delivered "
                f"({late:g} days late).",
                late,
            )
        )
    return hits


def _customs_hold(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    days = rule.param("days")
    since = (
        select(func.max(TrackingEvent.occurred_at))
        .where(TrackingEvent.shipment_id == Shipment.id, TrackingEvent.code == TrackingCode.CUSTOMS_HOLD)
        .correlate(Shipment)
        .scalar_subquery()
        .label("since")
    )
    query = _parcels(Shipment.tracking_number, since).where(Shipment.status == ShipmentStatus.CUSTOMS_HOLD)
    hits = []
    for sid, oid, cid, number, held_since in ctx.rows(query, Shipment.order_id):
        held = _days(ctx.now - held_since) if held_since is not None else 0.0
        if held < days:
            continue
        when = f" since {held_since:%Y-%m-%d}" if held_since is not None else ""
        hits.append(
            _parcel_hit(
                sid,
                oid,
                cid,
                f"Parcel {number} for order {oid} is held in customs{when} ({held:.1f} days).",
                held,
            )
        )
    return hits


def _returned_to_sender(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    query = _parcels(Shipment.tracking_number, Order.ship_city, Order.ship_country).where(
        Shipment.status == ShipmentStatus.RETURNED_TO_SENDER
    )
    return [
        _parcel_hit(
            sid,
            oid,
            cid,
            f"Parcel {number} for order {oid} is being returned to the sender (could not be delivered in {city}, {country}).",
        )
        for sid, oid, cid, number, city, country in ctx.rows(query, Shipment.order_id)
    ]


def _delivered_not_received(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    complaint = (
        select(func.min(Message.created_at))
        .where(
            Message.customer_id == Order.customer_id,
            Message.role == "customer",
            Message.intent == "not_received",
            Message.created_at >= Shipment.delivered_at,
        )
        .correlate(Order, Shipment)
        .scalar_subquery()
        .label("complaint")
    )
    query = (
        select(Order.id, Order.customer_id, Shipment.tracking_number, Shipment.delivered_at, Order.issue, complaint)
        .join(Shipment, Shipment.order_id == Order.id)
        .where(
            Shipment.status == ShipmentStatus.DELIVERED,
            or_(Order.issue == ProductIssue.DELIVERED_NOT_RECEIVED, complaint.is_not(None)),
        )
    )
    hits: dict[str, _Hit] = {}
    for oid, cid, number, delivered_at, issue, wrote_at in ctx.rows(query, Order.id):
        if issue != ProductIssue.DELIVERED_NOT_RECEIVED and wrote_at is None:
            continue
        day = f"{delivered_at:%Y-%m-%d}" if delivered_at is not None else "an unknown day"
        said = (
            f"the customer wrote on {wrote_at:%Y-%m-%d} that nothing arrived"
            if wrote_at
            else "the customer reports it never arrived"
        )
        hits.setdefault(oid, _order_hit(oid, cid, f"Parcel {number} for order {oid} was marked delivered on {day}, but {said}."))
    return list(hits.values())


# ---------------------------------------------------------------- order rules


def _duplicate_order(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    minutes = rule.param("minutes")
    a, b = aliased(Order), aliased(Order)
    ai, bi = aliased(OrderItem), aliased(OrderItem)
    gap = ctx.epoch(b.placed_at) - ctx.epoch(a.placed_at)
    count_a = select(func.count(ai.id)).where(ai.order_id == a.id).correlate(a).scalar_subquery()
    count_b = select(func.count(bi.id)).where(bi.order_id == b.id).correlate(b).scalar_subquery()
    missing = exists(
        select(bi.id)
        .where(bi.order_id == b.id)
        .where(
            ~exists(
                select(ai.id)
                .where(ai.order_id == a.id, ai.variant_id == bi.variant_id, ai.quantity == bi.quantity)
                .correlate_except(ai)
            )
        )
        .correlate_except(bi)
    )
    query = (
        select(b.id, b.customer_id, a.id, gap.label("gap"), b.total, b.currency)
        .join(a, and_(a.customer_id == b.customer_id, a.id != b.id, a.currency == b.currency, a.total == b.total))
        .where(
            b.status != OrderStatus.CANCELLED,
            a.status != OrderStatus.CANCELLED,
            gap >= 0,
            gap <= minutes * 60,
            or_(a.placed_at < b.placed_at, a.id < b.id),
            count_a == count_b,
            ~missing,
        )
    )
    hits: dict[str, _Hit] = {}
    for oid, cid, first, seconds, total, currency in ctx.rows(query, b.id):
        gap_minutes = round(float(seconds) / 60, 1)
        hits.setdefault(
            oid,
            _order_hit(
                oid,
                cid,
                f"Order {oid} repeats order {first} of the same customer ({_money(total, currency)}, same items) "
                f"placed {gap_minutes:g} minutes earlier.",
                gap_minutes,
            ),
        )
    return list(hits.values())


def _ip_burst(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    needed, minutes = rule.param("orders"), rule.param("minutes")
    o, p = aliased(Order), aliased(Order)
    gap = ctx.epoch(o.placed_at) - ctx.epoch(p.placed_at)
    query = (
        select(o.id, o.customer_id, o.ip_address, func.count(p.id), func.count(func.distinct(p.customer_id)))
        .join(p, and_(p.ip_address == o.ip_address, p.placed_at <= o.placed_at))
        .where(o.ip_address.is_not(None), gap <= minutes * 60)
        .group_by(o.id, o.customer_id, o.ip_address)
        .having(func.count(p.id) >= needed)
    )
    return [
        _order_hit(
            oid,
            cid,
            f"Order {oid} is one of {n} orders from IP address {ip} within {_int(minutes)} minutes "
            f"({accounts} customer account{'s' if accounts != 1 else ''}).",
            float(n),
        )
        for oid, cid, ip, n, accounts in ctx.rows(query, o.id)
    ]


def _first_payment_at() -> Any:
    """When the order's first successful payment was made (a subquery correlated to ``Order``)."""
    return (
        select(func.min(PaymentTransaction.created_at))
        .where(
            PaymentTransaction.order_id == Order.id,
            PaymentTransaction.kind == TransactionKind.PAYMENT,
            PaymentTransaction.status == TransactionStatus.SUCCEEDED,
        )
        .correlate(Order)
        .scalar_subquery()
    )


def _cancelled_after_payment(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    min_eur, hours = rule.param("min_eur"), rule.param("hours")
    paid_at = _first_payment_at()
    eur = _eur(Order.total, Order.currency)
    gap = ctx.epoch(Order.cancelled_at) - ctx.epoch(paid_at)
    query = select(Order.id, Order.customer_id, Order.total, Order.currency, eur, gap).where(
        Order.status == OrderStatus.CANCELLED, Order.cancelled_at.is_not(None), eur > min_eur, gap >= 0, gap <= hours * 3600
    )
    return [
        _order_hit(
            oid,
            cid,
            f"Order {oid} of {_money(total, currency)} (about {float(value):,.0f} EUR) was cancelled "
            f"{float(seconds) / 3600:.1f} hours after it was paid.",
            round(float(value), 2),
        )
        for oid, cid, total, currency, value, seconds in ctx.rows(query, Order.id)
    ]


def _new_account_coupon(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    account_days, min_eur = rule.param("account_days"), rule.param("min_eur")
    eur = _eur(Order.total, Order.currency)
    age = ctx.epoch(Order.placed_at) - ctx.epoch(Customer.created_at)
    query = (
        select(Order.id, Order.customer_id, Coupon.code, Order.total, Order.currency, eur, age)
        .join(Coupon, Coupon.redeemed_order_id == Order.id)
        .join(Customer, Customer.id == Order.customer_id)
        .where(Coupon.first_order_only.is_(True), eur > min_eur, age <= account_days * 86400)
    )
    hits: dict[str, _Hit] = {}
    for oid, cid, code, total, currency, value, seconds in ctx.rows(query, Order.id):
        hits.setdefault(
            oid,
            _order_hit(
                oid,
                cid,
                f"Order {oid} of {_money(total, currency)} (about {float(value):,.0f} EUR) used first-order coupon {code} "
                f"on an account created {max(0.0, float(seconds)) / 86400:.1f} days before.",
                round(float(value), 2),
            ),
        )
    return list(hits.values())


def phone_countries(phone: str | None) -> frozenset[str] | None:
    """The countries an E.164 phone number's calling code belongs to (None: unknown or no number)."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not phone.strip().startswith("+") or not digits:
        return None
    for length in (3, 2, 1):
        found = CALLING_CODES.get(digits[:length])
        if found is not None:
            return found
    return None


def address_problems(address1: str, address2: str, postal_code: str, country_code: str) -> list[str]:
    """What looks wrong in a ship-to address: forwarder or pickup-point words, no house number,
    a postal code that does not have the country's form."""
    problems: list[str] = []
    words = FORWARDER_WORDS.search(f"{address1} {address2}")
    if words:
        problems.append(f'it names a forwarder or pickup point ("{words.group(0)}")')
    if address1 and not _DIGIT.search(address1):
        problems.append(f'the street line "{address1}" has no house number')
    pattern = POSTAL_CODE_FORMATS.get(country_code.upper())
    if pattern is not None and not pattern.fullmatch(postal_code.strip().upper()):
        problems.append(f'the postal code "{postal_code}" does not have the form used in {country_code}')
    return problems


def _order_addresses(ctx: _Ctx) -> list[Any]:
    query = select(
        Order.id,
        Order.customer_id,
        Order.ship_address1,
        Order.ship_address2,
        Order.ship_postal_code,
        Order.ship_country_code,
        Customer.phone,
    ).join(Customer, Customer.id == Order.customer_id)
    return ctx.rows(query.where(Order.status != OrderStatus.CANCELLED), Order.id)


def _phone_country_mismatch(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    hits = []
    for oid, cid, _a1, _a2, _postal, country, phone in _order_addresses(ctx):
        countries = phone_countries(phone)
        if countries is None or country.upper() in countries:
            continue
        hits.append(
            _order_hit(
                oid,
                cid,
                f"Order {oid} ships to {country}, but the customer's phone {phone} is a number of {'/'.join(sorted(countries))}.",
            )
        )
    return hits


def _address_red_flags(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    hits = []
    for oid, cid, address1, address2, postal, country, _phone in _order_addresses(ctx):
        problems = address_problems(address1, address2, postal, country)
        if problems:
            hits.append(_order_hit(oid, cid, f"The ship-to address of order {oid} needs a look: {'; '.join(problems)}."))
    return hits


# ---------------------------------------------------------------- money and stock


def _payments(kind: TransactionKind, status: TransactionStatus) -> ColumnElement[bool]:
    return exists(
        select(PaymentTransaction.id).where(
            PaymentTransaction.order_id == Order.id, PaymentTransaction.kind == kind, PaymentTransaction.status == status
        )
    )


def _captured_not_fulfilled(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    days = rule.param("days")
    captured = _first_payment_at().label("captured")
    query = select(Order.id, Order.customer_id, Order.total, Order.currency, captured).where(
        Order.status == OrderStatus.PENDING,
        ~exists(select(Shipment.id).where(Shipment.order_id == Order.id)),
        captured <= ctx.now - dt.timedelta(days=days),
    )
    hits = []
    for oid, cid, total, currency, at in ctx.rows(query, Order.id):
        waited = _days(ctx.now - at)
        hits.append(
            _order_hit(
                oid,
                cid,
                f"Payment of {_money(total, currency)} for order {oid} was captured on {at:%Y-%m-%d} and nothing has "
                f"shipped after {waited:.1f} days.",
                waited,
            )
        )
    return hits


def _stock_without_payment(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    units = select(func.coalesce(func.sum(OrderItem.quantity), 0)).where(OrderItem.order_id == Order.id).correlate(Order)
    query = select(Order.id, Order.customer_id, Order.status, units.scalar_subquery()).where(
        Order.status.in_([OrderStatus.PENDING, OrderStatus.PROCESSED]),
        _payments(TransactionKind.PAYMENT, TransactionStatus.FAILED),
        ~_payments(TransactionKind.PAYMENT, TransactionStatus.SUCCEEDED),
    )
    return [
        _order_hit(
            oid,
            cid,
            f"Order {oid} holds {n} unit{'s' if n != 1 else ''} of stock ({status.value}) but its payment failed "
            "and none succeeded.",
        )
        for oid, cid, status, n in ctx.rows(query, Order.id)
    ]


def _oversold(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    on_hand, reserved = func.sum(StockLevel.on_hand), func.sum(StockLevel.reserved)
    query = (
        select(StockLevel.variant_id, Variant.sku, on_hand, reserved)
        .join(Variant, Variant.id == StockLevel.variant_id)
        .group_by(StockLevel.variant_id, Variant.sku)
        .having(on_hand - reserved < 0)
    )
    return [
        _Hit(
            f"variant:{vid}",
            None,
            None,
            f"Variant {vid}{f' (SKU {sku})' if sku else ''} is oversold: {held} units sold across marketplaces and "
            f"only {have} on hand in all warehouses ({held - have} short).",
            float(held - have),
        )
        for vid, sku, have, held in ctx.session.execute(query).all()
    ]


def _refund_exceeds_payment(ctx: _Ctx, rule: RuleConfig) -> list[_Hit]:
    ok = PaymentTransaction.status == TransactionStatus.SUCCEEDED
    paid = func.sum(case((and_(ok, PaymentTransaction.kind == TransactionKind.PAYMENT), PaymentTransaction.amount), else_=0))
    refunded = func.sum(case((and_(ok, PaymentTransaction.kind == TransactionKind.REFUND), PaymentTransaction.amount), else_=0))
    query = (
        select(Order.id, Order.customer_id, Order.currency, paid, refunded)
        .join(PaymentTransaction, PaymentTransaction.order_id == Order.id)
        .group_by(Order.id, Order.customer_id, Order.currency)
        .having(refunded > paid + 0.005)
    )
    return [
        _order_hit(
            oid,
            cid,
            f"Order {oid} was refunded {_money(out, currency)} but only {_money(got, currency)} was paid "
            f"({_money(float(out) - float(got), currency)} too much).",
            round(float(out) - float(got), 2),
        )
        for oid, cid, currency, got, out in ctx.rows(query, Order.id)
    ]


_RULE_FUNCTIONS: dict[str, Callable[[_Ctx, RuleConfig], list[_Hit]]] = {
    "parcel_stalled": _parcel_stalled,
    "delivery_late": _delivery_late,
    "customs_hold": _customs_hold,
    "returned_to_sender": _returned_to_sender,
    "delivered_not_received": _delivered_not_received,
    "duplicate_order": _duplicate_order,
    "ip_burst": _ip_burst,
    "cancelled_after_payment": _cancelled_after_payment,
    "new_account_coupon": _new_account_coupon,
    "phone_country_mismatch": _phone_country_mismatch,
    "address_red_flags": _address_red_flags,
    "captured_not_fulfilled": _captured_not_fulfilled,
    "stock_without_payment": _stock_without_payment,
    "oversold": _oversold,
    "refund_exceeds_payment": _refund_exceeds_payment,
}


# ---------------------------------------------------------------- watermarks and scope

_CURSOR_KINDS = ("tracking_events", "orders", "payment_transactions", "messages", "clock")


def _watermarks(session: Session) -> dict[str, tuple[int | None, dt.datetime | None]]:
    return {
        kind: (last_id, last_time)
        for kind, last_id, last_time in session.execute(
            select(MonitorCursor.kind, MonitorCursor.last_id, MonitorCursor.last_time)
        )
    }


def _changed_orders(
    session: Session, rules: MonitorRules, now: dt.datetime, marks: dict[str, tuple[int | None, dt.datetime | None]]
) -> dict[str, int] | None:
    """Put the orders touched since the last scan into the temporary ``monitor_scope`` table, by
    kind of change, and count its rows per kind (``""``: the distinct orders); None (and no table) when there is no complete last
    scan to go from or more than ``INCREMENTAL_LIMIT`` orders changed."""
    if any(kind not in marks for kind in _CURSOR_KINDS):
        return None
    events_id, orders_at, txn_id, msg_id = (
        marks["tracking_events"][0] or 0,
        marks["orders"][1],
        marks["payment_transactions"][0] or 0,
        marks["messages"][0] or 0,
    )
    before = marks["clock"][1]
    if before is None or before > now:
        return None
    parts: dict[str, Select[Any]] = {
        "events": select(Shipment.order_id).where(
            Shipment.id.in_(select(TrackingEvent.shipment_id).where(TrackingEvent.id > events_id))
        ),
        "payments": select(PaymentTransaction.order_id).where(PaymentTransaction.id > txn_id),
        "messages": select(Order.id).where(Order.customer_id.in_(select(Message.customer_id).where(Message.id > msg_id))),
        "cancelled": select(Order.id).where(Order.cancelled_at > before),
    }
    if orders_at is not None:
        parts["placed"] = select(Order.id).where(Order.placed_at > orders_at)
    # Records whose time limit ran out between the last scan and this one.
    for kind, name in (("stall_limit", "parcel_stalled"), ("customs_limit", "customs_hold")):
        limit = dt.timedelta(days=rules[name].params.get("days", 0.0))
        parts[kind] = select(Shipment.order_id).where(
            Shipment.id.in_(
                select(TrackingEvent.shipment_id).where(
                    TrackingEvent.occurred_at > before - limit, TrackingEvent.occurred_at <= now - limit
                )
            )
        )
    grace = dt.timedelta(days=rules["delivery_late"].params.get("grace_days", 0.0))
    parts["promise_limit"] = select(Shipment.order_id).where(
        Shipment.promised_delivery_date >= before.date() - grace, Shipment.promised_delivery_date < now.date() - grace
    )
    wait = dt.timedelta(days=rules["captured_not_fulfilled"].params.get("days", 0.0))
    parts["capture_limit"] = select(PaymentTransaction.order_id).where(
        PaymentTransaction.created_at > before - wait, PaymentTransaction.created_at <= now - wait
    )
    # Created in the scan's transaction: a scan that fails leaves nothing behind.
    session.execute(text(_SCOPE_DDL))
    session.execute(delete(_SCOPE))
    # An order may come in more than once under a kind; only the count over all kinds is distinct.
    for kind, query in parts.items():
        ids = query.subquery()
        session.execute(insert(_SCOPE).from_select(["kind", "order_id"], select(literal(kind, String(20)), ids.c[0])))
    total = session.scalar(select(func.count(func.distinct(_SCOPE.c.order_id)))) or 0
    if total > INCREMENTAL_LIMIT:
        _drop_scope(session)
        return None
    counts = {str(kind): int(n) for kind, n in session.execute(select(_SCOPE.c.kind, func.count()).group_by(_SCOPE.c.kind))}
    counts[""] = total  # all orders in scope
    return counts


def _drop_scope(session: Session) -> None:
    session.execute(text("DROP TABLE monitor_scope"))


def _advance(session: Session, now: dt.datetime) -> None:
    values: dict[str, tuple[int | None, dt.datetime | None]] = {
        "tracking_events": (session.scalar(select(func.max(TrackingEvent.id))), None),
        "orders": (None, session.scalar(select(func.max(Order.placed_at)))),
        "payment_transactions": (session.scalar(select(func.max(PaymentTransaction.id))), None),
        "messages": (session.scalar(select(func.max(Message.id))), None),
        "clock": (None, now),
    }
    existing = {c.kind: c for c in session.scalars(select(MonitorCursor))}
    for kind, (last_id, last_time) in values.items():
        cursor = existing.get(kind)
        if cursor is None:
            session.add(MonitorCursor(kind=kind, last_id=last_id, last_time=last_time, updated_at=now))
        else:
            cursor.last_id, cursor.last_time, cursor.updated_at = last_id, last_time, now


# ---------------------------------------------------------------- the scan


def _known_subjects(session: Session, rule: str, subjects: Sequence[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(subjects), _CHUNK):
        chunk = subjects[start : start + _CHUNK]
        known.update(session.scalars(select(Flag.subject_key).where(Flag.rule == rule, Flag.subject_key.in_(chunk))))
    return known


def scan(
    store: Store,
    rules: MonitorRules | None = None,
    now: dt.datetime | None = None,
    incremental: bool = True,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ScanResult:
    """Run every enabled rule and raise a flag for each new (rule, subject).

    ``incremental`` looks only at what changed since the last scan (a first scan reads
    everything); ``progress(done, total)`` is called after each rule. What is done about the
    new flags is the application's business (``support.monitoring``), not the domain's.
    """
    rules = rules or load_rules()
    now = now or utcnow()
    now = now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)
    enabled = rules.enabled()
    with store.write() as session:
        scope = _changed_orders(session, rules, now, _watermarks(session)) if incremental else None
        scanned = scope.pop("") if scope is not None else session.scalar(select(func.count(Order.id))) or 0
        result = ScanResult(scanned_orders=scanned, incremental=scope is not None)
        ctx = _Ctx(session, now, scope)
        if progress is not None:
            progress(0, len(enabled))
        for done, rule in enumerate(enabled, start=1):
            hits: dict[str, _Hit] = {}
            inputs = _RULE_INPUTS.get(rule.name)
            if ctx.in_scope(inputs):
                ctx.kinds = inputs or ()
                for hit in _RULE_FUNCTIONS[rule.name](ctx, rule):
                    hits.setdefault(hit.subject, hit)
            known = _known_subjects(session, rule.name, list(hits)) if hits else set()
            rows = [
                {
                    "rule": rule.name,
                    "subject_key": h.subject,
                    "order_id": h.order_id,
                    "customer_id": h.customer_id,
                    "reason": h.reason,
                    "urgency": rule.urgency,
                    "playbook": rule.playbook,
                    "status": FlagStatus.OPEN,
                    "measured": h.measured,
                    "created_at": now,
                    "updated_at": now,
                }
                for key, h in hits.items()
                if key not in known
            ]
            if rows:
                result.flags += list(session.scalars(insert(Flag).returning(Flag.id), rows))
                result.new_flags[rule.name] = len(rows)
            if progress is not None:
                progress(done, len(enabled))
        if scope is not None:
            _drop_scope(session)
        _advance(session, now)
    return result


# ---------------------------------------------------------------- feedback


def record_feedback(store: Store, flag_id: int, verdict: str, by: str, *, now: dt.datetime | None = None) -> Flag:
    """Mark a flag as a real problem (confirmed) or a false alarm, and who said so."""
    try:
        status = FlagStatus(verdict)
    except ValueError as e:
        raise ValueError(f"verdict must be confirmed or false_alarm, got {verdict!r}") from e
    if status not in (FlagStatus.CONFIRMED, FlagStatus.FALSE_ALARM):
        raise ValueError(f"verdict must be confirmed or false_alarm, got {verdict!r}")
    with store.write() as session:
        flag = session.get(Flag, flag_id)
        if flag is None:
            raise LookupError(f"no flag {flag_id}")
        flag.status, flag.feedback_by, flag.updated_at = status, by, now or utcnow()
        return flag


def rule_precision(store: Store, min_precision: float = 0.6, rules: MonitorRules | None = None) -> list[dict[str, Any]]:
    """Per rule: flags raised, confirmed, false alarms and precision (confirmed over judged);
    for a rule under ``min_precision`` with a numeric threshold, the threshold that would have
    left out most false alarms (the median value measured on them)."""
    rules = rules or load_rules()
    with store.read() as session:
        counts = session.execute(
            select(
                Flag.rule,
                func.count(Flag.id),
                func.sum(case((Flag.status == FlagStatus.CONFIRMED, 1), else_=0)),
                func.sum(case((Flag.status == FlagStatus.FALSE_ALARM, 1), else_=0)),
            ).group_by(Flag.rule)
        ).all()
        false_values: dict[str, list[float]] = {}
        for rule, value in session.execute(
            select(Flag.rule, Flag.measured).where(Flag.status == FlagStatus.FALSE_ALARM, Flag.measured.is_not(None))
        ):
            if value is not None:
                false_values.setdefault(rule, []).append(float(value))
    report: list[dict[str, Any]] = []
    for rule, flags, confirmed, false_alarms in sorted(counts):
        confirmed, false_alarms = int(confirmed or 0), int(false_alarms or 0)
        judged = confirmed + false_alarms
        precision = round(confirmed / judged, 3) if judged else None
        param = THRESHOLD_PARAM.get(rule)
        current = rules[rule].params.get(param) if param and rule in rules.rules else None
        suggested = None
        if precision is not None and precision < min_precision and param and false_values.get(rule):
            suggested = round(statistics.median(false_values[rule]), 2)
        report.append(
            {
                "rule": rule,
                "flags": int(flags),
                "confirmed": confirmed,
                "false_alarms": false_alarms,
                "precision": precision,
                "below_level": precision is not None and precision < min_precision,
                "threshold": param,
                "current": current,
                "suggested": suggested,
            }
        )
    return report


def open_flags(session: Session, rules: Iterable[str] | None = None) -> list[Flag]:
    """Open flags, most urgent first."""
    order = case({"red": 0, "orange": 1, "yellow": 2, "blue": 3}, value=Flag.urgency, else_=4)
    query = select(Flag).where(Flag.status == FlagStatus.OPEN).order_by(order, Flag.created_at, Flag.id)
    if rules is not None:
        query = query.where(Flag.rule.in_(list(rules)))
    return list(session.scalars(query))
