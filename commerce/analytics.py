"""Support analytics for a period: how fast customers get an answer, how many conversations the
agent settles on its own, whether cases meet their SLA, what customers think, and where the
volume comes from (language, intent, marketplace, carrier, day).

Which conversations count: those whose first customer message falls in [start, end). Which
cases count (resolution time, SLA): those created in [start, end).

Definitions, as the report computes them:

* first response: from a conversation's first customer message to the first agent or human
  message at or after it (conversations still waiting for an answer are left out);
* resolution: from a case's creation to its resolution (resolved cases only);
* medians are the usual median (mean of the two middle values for an even count); the p90 is
  the nearest-rank 90th percentile (the ceil(0.9·n)-th smallest value);
* automated: a conversation no case was ever opened for; escalated: one with a case;
* SLA: a case meets its SLA when it was resolved by its due time, or was still open at the end
  of the period and not yet due then; it is breached when resolved late or still open past due;
* language: the first customer message that carries one; intent: likewise ("unknown" when none);
* marketplace and carrier: through the order of the conversation's case (the first case naming
  an order), else the customer's latest order placed at or before the conversation started
  (the customer from the messages, else from the conversation); the carrier is that order's
  first parcel ("none" when there is no order or no parcel);
* flags: the per-rule, per-status counts of the `flags` table when the deployment has one
  (created in the period when the table records a creation time).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, inspect, literal, select
from sqlalchemy.orm import Session

from commerce import models
from commerce.models import Case, Conversation, Message, Order, Shipment, UrgencyLevel

UNKNOWN = "unknown"
NONE = "none"
URGENCIES: tuple[str, ...] = tuple(level.value for level in UrgencyLevel)
_CHUNK = 500


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class Durations:
    """How long something took, in seconds, over `count` occurrences."""

    count: int
    median_seconds: float | None
    p90_seconds: float | None

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "median_seconds": self.median_seconds, "p90_seconds": self.p90_seconds}


@dataclass(frozen=True)
class SlaLevel:
    """SLA outcome of the cases of one urgency level."""

    urgency: str
    cases: int
    met: int
    breached: int
    open: int

    @property
    def compliance(self) -> float | None:
        return _ratio(self.met, self.cases)

    def as_json(self) -> dict[str, Any]:
        return {
            "urgency": self.urgency,
            "cases": self.cases,
            "met": self.met,
            "breached": self.breached,
            "open": self.open,
            "compliance": self.compliance,
        }


@dataclass(frozen=True)
class Csat:
    """Customer ratings (1–5) of the period's conversations."""

    count: int
    mean: float | None
    satisfied: int  # ratings of 4 or 5

    @property
    def share_satisfied(self) -> float | None:
        return _ratio(self.satisfied, self.count)

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "mean": self.mean, "satisfied": self.satisfied, "share_satisfied": self.share_satisfied}


@dataclass(frozen=True)
class Report:
    """The support figures of one period [start, end)."""

    start: dt.datetime
    end: dt.datetime
    conversations: int
    escalated: int
    first_response: Durations
    resolution: Durations
    sla: list[SlaLevel]
    csat: Csat
    by_language: dict[str, int]
    by_intent: dict[str, int]
    by_marketplace: dict[str, int]
    by_carrier: dict[str, int]
    by_day: list[tuple[dt.date, int]]
    flags: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def automated(self) -> int:
        return self.conversations - self.escalated

    @property
    def automated_rate(self) -> float | None:
        return _ratio(self.automated, self.conversations)

    @property
    def escalation_rate(self) -> float | None:
        return _ratio(self.escalated, self.conversations)

    @property
    def sla_breaches(self) -> int:
        return sum(level.breached for level in self.sla)

    def as_json(self) -> dict[str, Any]:
        return {
            "period": {"from": self.start.isoformat(), "to": self.end.isoformat()},
            "conversations": self.conversations,
            "escalated": self.escalated,
            "automated": self.automated,
            "automated_rate": self.automated_rate,
            "escalation_rate": self.escalation_rate,
            "first_response": self.first_response.as_json(),
            "resolution": self.resolution.as_json(),
            "sla": [level.as_json() for level in self.sla],
            "sla_breaches": self.sla_breaches,
            "csat": self.csat.as_json(),
            "by_language": dict(self.by_language),
            "by_intent": dict(self.by_intent),
            "by_marketplace": dict(self.by_marketplace),
            "by_carrier": dict(self.by_carrier),
            "by_day": [{"date": day.isoformat(), "conversations": count} for day, count in self.by_day],
            "flags": {rule: dict(statuses) for rule, statuses in self.flags.items()},
        }

    def rows(self) -> list[tuple[str, str, str]]:
        """Every figure as (section, name, value), the shape of the CSV export."""
        rows: list[tuple[str, str, str]] = [
            ("period", "from", self.start.isoformat()),
            ("period", "to", self.end.isoformat()),
            ("summary", "conversations", str(self.conversations)),
            ("summary", "escalated", str(self.escalated)),
            ("summary", "automated", str(self.automated)),
            ("summary", "automated_rate", _cell(self.automated_rate)),
            ("summary", "escalation_rate", _cell(self.escalation_rate)),
        ]
        for section, durations in (("first_response", self.first_response), ("resolution", self.resolution)):
            rows += [(section, key, _cell(value)) for key, value in durations.as_json().items()]
        for level in self.sla:
            rows += [
                ("sla", f"{level.urgency}.{key}", _cell(value)) for key, value in level.as_json().items() if key != "urgency"
            ]
        rows.append(("sla", "breaches", str(self.sla_breaches)))
        rows += [("csat", key, _cell(value)) for key, value in self.csat.as_json().items()]
        for section, counts in (
            ("language", self.by_language),
            ("intent", self.by_intent),
            ("marketplace", self.by_marketplace),
            ("carrier", self.by_carrier),
        ):
            rows += [(section, name, str(count)) for name, count in counts.items()]
        rows += [("day", day.isoformat(), str(count)) for day, count in self.by_day]
        for rule, statuses in self.flags.items():
            rows += [("flags", f"{rule}.{status}", str(count)) for status, count in statuses.items()]
        return rows


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: Sequence[float]) -> float | None:
    """The nearest-rank 90th percentile: the ceil(0.9·n)-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(1, math.ceil(0.9 * len(ordered))) - 1])


def durations(values: Sequence[float]) -> Durations:
    return Durations(len(values), median(values), p90(values))


# ---------------------------------------------------------------- computing it


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _ranked(counter: Counter[str]) -> dict[str, int]:
    """Counts, largest first (ties by name)."""
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def build_report(session: Session, start: dt.datetime, end: dt.datetime) -> Report:
    """The support figures for conversations started, and cases opened, in [start, end)."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise ValueError("the period must end after it starts")

    started_at = func.min(Message.created_at)
    scope = (
        select(Message.conversation_id.label("cid"), started_at.label("started"))
        .where(Message.role == "customer", Message.created_at < end)
        .group_by(Message.conversation_id)
        .having(started_at >= start)
        .subquery()
    )

    # First response: the first agent or human message at or after the first customer message.
    replies = session.execute(
        select(scope.c.cid, scope.c.started, func.min(Message.created_at))
        .select_from(scope)
        .outerjoin(
            Message,
            and_(
                Message.conversation_id == scope.c.cid,
                Message.role.in_(("agent", "human")),
                Message.created_at >= scope.c.started,
            ),
        )
        .group_by(scope.c.cid, scope.c.started)
    ).all()
    started: dict[str, dt.datetime] = {}
    waits: list[float] = []
    for cid, first, reply in replies:
        started[cid] = _utc(first)
        if reply is not None:
            waits.append((_utc(reply) - started[cid]).total_seconds())

    # Language, intent and customer from the customer messages, in order.
    language: dict[str, str] = {}
    intent: dict[str, str] = {}
    customer: dict[str, str] = {}
    for cid, lang, kind, customer_id in session.execute(
        select(Message.conversation_id, Message.language, Message.intent, Message.customer_id)
        .join(scope, scope.c.cid == Message.conversation_id)
        .where(Message.role == "customer")
        .order_by(Message.conversation_id, Message.created_at, Message.id)
    ):
        if lang and cid not in language:
            language[cid] = lang
        if kind and cid not in intent:
            intent[cid] = kind
        if customer_id and cid not in customer:
            customer[cid] = customer_id

    # Escalation: any case on the conversation; its first case naming an order gives the order.
    escalated: set[str] = set()
    case_order: dict[str, str] = {}
    for cid, order_id in session.execute(
        select(scope.c.cid, Case.order_id).select_from(Case).join(scope, scope.c.cid == Case.conversation_id).order_by(Case.id)
    ):
        escalated.add(cid)
        if order_id and cid not in case_order:
            case_order[cid] = order_id

    # Ratings, and the customer when the messages do not name one.
    ratings: list[int] = []
    for cid, rating, customer_id in session.execute(
        select(Conversation.id, Conversation.rating, Conversation.customer_id).join(scope, scope.c.cid == Conversation.id)
    ):
        if rating is not None:
            ratings.append(int(rating))
        if customer_id and cid not in customer:
            customer[cid] = customer_id

    order_of = dict(case_order)
    order_of.update(
        _latest_orders(session, {cid: customer[cid] for cid in started if cid not in case_order and cid in customer}, started)
    )
    marketplace = _marketplaces(session, sorted(set(order_of.values())))
    carrier = _carriers(session, sorted(set(order_of.values())))

    by_language: Counter[str] = Counter()
    by_intent: Counter[str] = Counter()
    by_marketplace: Counter[str] = Counter()
    by_carrier: Counter[str] = Counter()
    per_day: Counter[dt.date] = Counter()
    for cid, first in started.items():
        by_language[language.get(cid, UNKNOWN)] += 1
        by_intent[intent.get(cid, UNKNOWN)] += 1
        order_id = order_of.get(cid)
        by_marketplace[marketplace.get(order_id, NONE) if order_id else NONE] += 1
        by_carrier[carrier.get(order_id, NONE) if order_id else NONE] += 1
        per_day[first.date()] += 1

    days: list[tuple[dt.date, int]] = []
    day, last = start.date(), (end - dt.timedelta(microseconds=1)).date()
    while day <= last:
        days.append((day, per_day.get(day, 0)))
        day += dt.timedelta(days=1)

    resolution, sla = _cases(session, start, end)
    csat = Csat(
        count=len(ratings),
        mean=round(statistics.fmean(ratings), 4) if ratings else None,
        satisfied=sum(1 for r in ratings if r >= 4),
    )
    return Report(
        start=start,
        end=end,
        conversations=len(started),
        escalated=len(escalated),
        first_response=durations(waits),
        resolution=resolution,
        sla=sla,
        csat=csat,
        by_language=_ranked(by_language),
        by_intent=_ranked(by_intent),
        by_marketplace=_ranked(by_marketplace),
        by_carrier=_ranked(by_carrier),
        by_day=days,
        flags=flag_counts(session, start, end),
    )


def _cases(session: Session, start: dt.datetime, end: dt.datetime) -> tuple[Durations, list[SlaLevel]]:
    """Resolution times and SLA outcome per urgency of the cases created in [start, end)."""
    took: list[float] = []
    tally: dict[str, Counter[str]] = {level: Counter() for level in URGENCIES}
    for urgency, created, resolved, due in session.execute(
        select(Case.urgency, Case.created_at, Case.resolved_at, Case.sla_due_at).where(
            Case.created_at >= start, Case.created_at < end
        )
    ):
        counts = tally.setdefault(str(urgency.value if isinstance(urgency, UrgencyLevel) else urgency), Counter())
        counts["cases"] += 1
        due = _utc(due)
        if resolved is not None:
            resolved = _utc(resolved)
            took.append((resolved - _utc(created)).total_seconds())
            counts["met" if resolved <= due else "breached"] += 1
        else:
            counts["open"] += 1
            counts["met" if due >= end else "breached"] += 1
    levels = [SlaLevel(level, c["cases"], c["met"], c["breached"], c["open"]) for level, c in tally.items()]
    return durations(took), levels


def _latest_orders(session: Session, customers: dict[str, str], started: dict[str, dt.datetime]) -> dict[str, str]:
    """For each conversation, its customer's latest order placed at or before it started."""
    orders: dict[str, list[tuple[dt.datetime, str]]] = {}
    for chunk in _chunks(sorted(set(customers.values()))):
        for order_id, customer_id, placed in session.execute(
            select(Order.id, Order.customer_id, Order.placed_at).where(Order.customer_id.in_(chunk))
        ):
            orders.setdefault(customer_id, []).append((_utc(placed), order_id))
    chosen: dict[str, str] = {}
    for cid, customer_id in customers.items():
        before = [entry for entry in orders.get(customer_id, []) if entry[0] <= started[cid]]
        if before:
            chosen[cid] = max(before)[1]
    return chosen


def _marketplaces(session: Session, order_ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(order_ids):
        for order_id, marketplace in session.execute(select(Order.id, Order.marketplace).where(Order.id.in_(chunk))):
            found[order_id] = str(marketplace.value if hasattr(marketplace, "value") else marketplace)
    return found


def _carriers(session: Session, order_ids: Sequence[str]) -> dict[str, str]:
    """The carrier of each order's first parcel (original parcels before reshipments)."""
    found: dict[str, str] = {}
    for chunk in _chunks(order_ids):
        for order_id, carrier in session.execute(
            select(Shipment.order_id, Shipment.carrier)
            .where(Shipment.order_id.in_(chunk))
            .order_by(Shipment.is_reshipment, Shipment.id)
        ):
            found.setdefault(order_id, carrier)
    return found


def flag_counts(session: Session, start: dt.datetime, end: dt.datetime) -> dict[str, dict[str, int]]:
    """Flags per rule and status, when the deployment keeps a `flags` table (else empty)."""
    flag: Any = getattr(models, "Flag", None)
    table = getattr(flag, "__table__", None)
    rule = getattr(flag, "rule", None)
    if table is None or rule is None or not inspect(session.get_bind()).has_table(table.name):
        return {}
    status = getattr(flag, "status", None)
    status_column = status if status is not None else literal("all")
    query = select(rule, status_column, func.count()).group_by(rule, status_column)
    created = getattr(flag, "created_at", None)
    if created is not None:
        query = query.where(created >= start, created < end)
    counts: dict[str, dict[str, int]] = {}
    for name, state, count in session.execute(query):
        key = str(getattr(state, "value", state))
        counts.setdefault(str(getattr(name, "value", name)), {})[key] = int(count)
    return {rule_name: dict(sorted(statuses.items())) for rule_name, statuses in sorted(counts.items())}


# ---------------------------------------------------------------- periods


def parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def period(
    first_day: str | None, last_day: str | None, *, now: dt.datetime, default_days: int = 30
) -> tuple[dt.datetime, dt.datetime]:
    """The UTC period [start, end) from an inclusive pair of days (YYYY-MM-DD). Without a last
    day the period ends now; without a first day it covers `default_days` days before its end."""
    now = _utc(now)
    try:
        end = dt.datetime.combine(parse_day(last_day) + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC) if last_day else now
    except OverflowError:
        raise ValueError(f"{last_day} is past the last day a period can end on") from None
    if first_day:
        start = dt.datetime.combine(parse_day(first_day), dt.time(), tzinfo=dt.UTC)
    else:
        start = end - dt.timedelta(days=default_days)
    if end <= start:
        raise ValueError("the last day of the period comes before its first day")
    if end - start > dt.timedelta(days=3660):
        raise ValueError("a period covers at most ten years")
    return start, end
