"""Carrier tracking events coming in: JSON lines (or webhook payloads) from carriers and tracking
aggregators, matched to the seller's parcels, stored once each, and used to move a parcel's status.

One event looks like::

    {"carrier": "dhl", "tracking_number": "JD0142", "code": "in_transit",
     "occurred_at": "2026-11-21T08:15:00+01:00", "location": "Leipzig", "description": "Departed facility"}

``code`` is a :class:`~commerce.models.TrackingCode` value; a carrier that only sends its own words
("Zugestellt", "Retenu en douane", "Out for delivery") may leave it out, and the words in ``code`` or
``description`` are read instead. Feeds are messy, so nothing in a line stops the rest: a line that
cannot be used is counted as rejected with its reason, the same event sent twice is stored once, and
an event that arrives after a newer one is kept in the history without moving the status back.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from commerce.carriers import CARRIERS, status_after
from commerce.db import Store
from commerce.models import OrderStatus, Shipment, ShipmentStatus, TrackingCode, TrackingEvent

__all__ = ["IngestResult", "Note", "code_from_words", "ingest_events", "normalise_tracking_number", "status_after"]

BATCH = 500  # lines per unit of work
KEEP_NOTES = 20  # rejections and warnings listed in a result (all of them are counted)

# A carrier's own words, as they appear in English, German, French, Spanish, Italian and Dutch feeds
# (compared without accents and case). The first entry that matches wins, so the specific phrases
# ("not delivered", "wird zugestellt", "customs cleared") come before the words they contain.
CARRIER_WORDS: tuple[tuple[TrackingCode, tuple[str, ...]], ...] = (
    (
        TrackingCode.RETURNED_TO_SENDER,
        (
            "returned to sender",
            "return to sender",
            "returning to sender",
            "returned to shipper",
            "rts",
            "retour a l'expediteur",
            "retour expediteur",
            "renvoye a l'expediteur",
            "retourne a l'expediteur",
            "zuruck an absender",
            "rucksendung an absender",
            "rucksendung",
            "rucklauf",
            "devuelto al remitente",
            "devolucion al remitente",
            "reso al mittente",
            "retour afzender",
        ),
    ),
    (TrackingCode.INTERCEPT_REQUESTED, ("intercept", "shipment held at sender's request", "sendung gestoppt")),
    (TrackingCode.REDIRECTED, ("redirected", "rerouted", "forwarded to", "umgeleitet", "weitergeleitet", "reachemine")),
    (
        TrackingCode.DELIVERY_FAILED,
        (
            "not delivered",
            "delivery attempt",
            "delivery failed",
            "attempted delivery",
            "recipient not available",
            "nobody home",
            "zustellversuch",
            "nicht zugestellt",
            "nicht angetroffen",
            "nicht zustellbar",
            "echec de livraison",
            "echec de la livraison",
            "tentative de livraison",
            "destinataire absent",
            "avis de passage",
            "non livre",
            "intento de entrega",
            "entrega fallida",
            "mancata consegna",
            "bezorgpoging",
            "refused",
            "verweigert",
            "refuse par",
            "rechazado",
            "rifiutato",
        ),
    ),
    (
        TrackingCode.OUT_FOR_DELIVERY,
        (
            "out for delivery",
            "with delivery courier",
            "on vehicle for delivery",
            "in zustellung",
            "wird zugestellt",
            "wird heute zugestellt",
            "zustellfahrzeug",
            "en cours de livraison",
            "en livraison",
            "en reparto",
            "in consegna",
            "onderweg naar bezorgadres",
            "wordt bezorgd",
        ),
    ),
    (
        TrackingCode.DELIVERED,
        (
            "delivered",
            "zugestellt",
            "ausgeliefert",
            "livre",
            "remis au destinataire",
            "distribue",
            "entregado",
            "consegnat",
            "bezorgd",
            "afgeleverd",
            "geleverd",
        ),
    ),
    (TrackingCode.EXPORT_CLEARED, ("export", "ausfuhr", "dedouanement export", "dedouanement a l'exportation")),
    (
        TrackingCode.CUSTOMS_CLEARED,
        (
            "customs cleared",
            "cleared customs",
            "cleared by customs",
            "released by customs",
            "customs clearance completed",
            "import clearance completed",
            "clearance completed",
            "verzollt",
            "vom zoll freigegeben",
            "zollabfertigung abgeschlossen",
            "dedouane",
            "dedouanement termine",
            "despachado de aduana",
            "sdoganato",
            "ingeklaard",
        ),
    ),
    (
        TrackingCode.CUSTOMS_HOLD,
        ("customs", "held by import", "duties", "douane", "zoll", "aduana", "dogana"),
    ),
    (TrackingCode.DAMAGED, ("damaged", "beschadigt", "endommage", "danado", "danneggiato", "beschadigd")),
    (
        TrackingCode.LABEL_CREATED,
        (
            "label created",
            "shipment information received",
            "electronic notification",
            "elektronisch angekundigt",
            "daten ubermittelt",
            "auftragsdaten",
            "information transmise",
            "etiquette creee",
        ),
    ),
    (
        TrackingCode.PICKED_UP,
        ("picked up", "pickup", "collected", "abgeholt", "eingeliefert", "pris en charge", "recogido", "ritirato", "opgehaald"),
    ),
    (
        TrackingCode.IN_TRANSIT,
        (
            "in transit",
            "departed",
            "processed through",
            "on its way",
            "on the way",
            "unterwegs",
            "transport",
            "en transit",
            "en route",
            "en transito",
            "in transito",
            "onderweg",
        ),
    ),
    (
        TrackingCode.ARRIVED_AT_HUB,
        (
            "arrived at",
            "arrival at",
            "sort facility",
            "delivery facility",
            "processed at",
            "paketzentrum",
            "depot",
            "centre de tri",
            "arrive",
            "llegada",
            "centro di smistamento",
            "sorteercentrum",
        ),
    ),
)

_WORD_PATTERNS: tuple[tuple[TrackingCode, re.Pattern[str]], ...] = tuple(
    (code, re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")")) for code, phrases in CARRIER_WORDS
)
_CODES = {c.value for c in TrackingCode}


def _plain(text: str) -> str:
    """Lower case, no accents, one kind of apostrophe, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").replace("ß", "ss"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def code_from_words(text: str) -> TrackingCode | None:
    """The tracking code a carrier's own wording stands for ("Zugestellt" → delivered), if any."""
    plain = _plain(text)
    if not plain:
        return None
    for code, pattern in _WORD_PATTERNS:
        if pattern.search(plain):
            return code
    return None


def normalise_tracking_number(value: str) -> str:
    """A tracking number as carriers print it: upper case, without spaces or dashes."""
    return re.sub(r"[\s\-]", "", value).upper()


def _carrier_code(value: str) -> str:
    plain = _plain(value)
    for carrier in CARRIERS.values():
        if plain in (carrier.code, _plain(carrier.name)):
            return carrier.code
    return plain.replace(" ", "")


@dataclass(frozen=True)
class Note:
    """Why a line was rejected, or what was assumed about it."""

    line: int
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason}


@dataclass
class IngestResult:
    """What one ingest did: lines read, events stored, duplicates skipped, lines rejected (with the
    first reasons), assumptions made, and parcels whose status changed."""

    read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    warnings: int = 0
    late: int = 0  # stored, but older than what the parcel already had: the status stayed
    shipments_updated: int = 0
    orders_delivered: int = 0
    rejections: list[Note] = field(default_factory=list)
    warning_notes: list[Note] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < KEEP_NOTES:
            self.rejections.append(Note(line, reason))

    def warn(self, line: int, reason: str) -> None:
        self.warnings += 1
        if len(self.warning_notes) < KEEP_NOTES:
            self.warning_notes.append(Note(line, reason))

    def as_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "warnings": self.warnings,
            "late": self.late,
            "shipments_updated": self.shipments_updated,
            "orders_delivered": self.orders_delivered,
            "rejections": [n.as_json() for n in self.rejections],
            "warning_notes": [n.as_json() for n in self.warning_notes],
        }


@dataclass
class _Event:
    line: int
    carrier: str | None
    tracking_number: str
    raw_tracking_number: str
    code: TrackingCode
    occurred_at: dt.datetime
    location: str
    description: str
    country_code: str | None


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    value = data.get(key)
    if value is None:
        return ""
    return " ".join(str(value).split())[:limit]


def _parse_time(value: Any, line: int, result: IngestResult) -> dt.datetime | str:
    """The instant in UTC, or the reason it cannot be read."""
    if value is None or value == "":
        return "no occurred_at"
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return f"occurred_at is not a timestamp: {value!r}"
    if isinstance(value, int | float):
        try:
            return dt.datetime.fromtimestamp(float(value), dt.UTC)
        except (OverflowError, OSError, ValueError):
            return f"occurred_at is not a timestamp: {value!r}"
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return f"occurred_at is not an ISO-8601 time: {value[:60]!r}"
    if parsed.tzinfo is None:
        result.warn(line, f"occurred_at {value[:40]!r} has no UTC offset; read as UTC")
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _parse(line: int, text: str, result: IngestResult) -> _Event | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        result.reject(line, "not valid JSON")
        return None
    if not isinstance(data, dict):
        result.reject(line, f"expected a JSON object, got {type(data).__name__}")
        return None
    raw_number = data.get("tracking_number")
    if not isinstance(raw_number, str | int) or isinstance(raw_number, bool) or not normalise_tracking_number(str(raw_number)):
        result.reject(line, "no tracking_number")
        return None
    carrier = data.get("carrier")
    if carrier is not None and not isinstance(carrier, str):
        result.reject(line, f"carrier is not a name: {carrier!r}")
        return None
    description = _text(data, "description", 300)
    given = data.get("code")
    code: TrackingCode | None = None
    if isinstance(given, str) and given.strip():
        value = re.sub(r"[\s\-]+", "_", given.strip().lower())
        code = TrackingCode(value) if value in _CODES else code_from_words(given)
    if code is None and description:
        code = code_from_words(description)
    if code is None:
        shown = given if isinstance(given, str) and given.strip() else description
        result.reject(line, f"unknown event {shown[:60]!r}" if shown else "no code and no description")
        return None
    occurred = _parse_time(data.get("occurred_at"), line, result)
    if isinstance(occurred, str):
        result.reject(line, occurred)
        return None
    country = data.get("country_code")
    country_code = country.strip().upper() if isinstance(country, str) and len(country.strip()) == 2 else None
    return _Event(
        line=line,
        carrier=_carrier_code(carrier) if carrier and carrier.strip() else None,
        tracking_number=normalise_tracking_number(str(raw_number)),
        raw_tracking_number=str(raw_number).strip(),
        code=code,
        occurred_at=occurred,
        location=_text(data, "location", 200),
        description=description or code.value.replace("_", " ").capitalize(),
        country_code=country_code,
    )


def _key(code: TrackingCode, occurred_at: dt.datetime) -> tuple[str, dt.datetime]:
    return code.value, occurred_at.astimezone(dt.UTC).replace(microsecond=0)


@dataclass
class _Parcel:
    shipment: Shipment
    seen: set[tuple[str, dt.datetime]]
    newest: dt.datetime | None  # the newest event known so far, stored or just read
    latest: _Event | None = None  # the newest event of this ingest, when it is the parcel's newest
    changed: bool = False


# How far ahead of the clock a carrier's event may be dated (clocks and time zones differ a little).
FUTURE_SLACK = dt.timedelta(days=1)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _apply(session: Session, events: list[_Event], parcels: dict[int, _Parcel], result: IngestResult, now: dt.datetime) -> None:
    numbers = {e.tracking_number for e in events} | {e.raw_tracking_number for e in events}
    rows = session.scalars(
        select(Shipment).where(Shipment.tracking_number.in_(numbers)).options(selectinload(Shipment.events))
    ).all()
    by_number: dict[str, list[Shipment]] = {}
    for shipment in rows:
        by_number.setdefault(normalise_tracking_number(shipment.tracking_number), []).append(shipment)
    for event in events:
        candidates = by_number.get(event.tracking_number, [])
        if event.carrier is not None:
            candidates = [s for s in candidates if _carrier_code(s.carrier) == event.carrier]
        if not candidates:
            carrier = f"{event.carrier} " if event.carrier else ""
            result.reject(event.line, f"no parcel with {carrier}tracking number {event.tracking_number}")
            continue
        if len(candidates) > 1:
            result.reject(event.line, f"tracking number {event.tracking_number} matches several parcels: name the carrier")
            continue
        shipment = candidates[0]
        if _utc(event.occurred_at) > _utc(now) + FUTURE_SLACK:
            # ("9999-12-31": a parcel delivered in a future no carrier can know of.)
            result.reject(event.line, f"occurred_at {event.occurred_at.isoformat()} is more than a day in the future")
            continue
        if shipment.order is not None and _utc(event.occurred_at) < _utc(shipment.order.placed_at):
            result.reject(event.line, f"occurred_at {event.occurred_at.isoformat()} is before the order was placed")
            continue
        parcel = parcels.get(shipment.id)
        if parcel is None:
            parcel = _Parcel(
                shipment,
                {_key(e.code, e.occurred_at) for e in shipment.events},
                max((e.occurred_at for e in shipment.events), default=None),
            )
            parcels[shipment.id] = parcel
        key = _key(event.code, event.occurred_at)
        if key in parcel.seen:
            result.duplicates += 1
            continue
        parcel.seen.add(key)
        session.add(
            TrackingEvent(
                shipment_id=shipment.id,
                occurred_at=event.occurred_at,
                code=event.code,
                description=event.description,
                location=event.location,
                country_code=event.country_code,
            )
        )
        result.stored += 1
        if parcel.newest is not None and event.occurred_at < parcel.newest:
            result.late += 1  # kept in the history; the parcel already has newer news
        else:
            parcel.newest, parcel.latest = event.occurred_at, event
    for parcel in parcels.values():
        if parcel.latest is not None:
            _move(parcel, parcel.latest)
            parcel.latest = None


def _move(parcel: _Parcel, event: _Event) -> None:
    shipment = parcel.shipment
    status = status_after(event.code)
    if shipment.status != status:
        shipment.status = status
        parcel.changed = True
    if status == ShipmentStatus.DELIVERED and shipment.delivered_at != event.occurred_at:
        shipment.delivered_at = event.occurred_at
        parcel.changed = True


def _deliver_orders(session: Session, parcels: dict[int, _Parcel], result: IngestResult) -> None:
    """An order that was on its way is delivered once every one of its parcels is."""
    seen: set[str] = set()
    for parcel in parcels.values():
        order = parcel.shipment.order
        if not parcel.changed or order.id in seen or order.status != OrderStatus.PROCESSED:
            continue
        seen.add(order.id)
        if order.shipments and all(s.status == ShipmentStatus.DELIVERED for s in order.shipments):
            order.status = OrderStatus.DELIVERED
            result.orders_delivered += 1


def ingest_events(
    store: Store,
    lines: Iterable[str],
    *,
    progress: Callable[[int, int], None] | None = None,
    now: dt.datetime | None = None,
) -> IngestResult:
    """Read carrier events, one JSON object a line, and store the new ones against their parcels.

    Parcels are found by carrier and tracking number (case and spaces do not matter); a parcel's
    status (and delivery time) follows its newest event. Ingesting the same lines again adds
    nothing. An event dated more than a day after ``now`` (the current time by default) or before
    its order was placed is rejected. ``progress(done, total)`` is called after each batch of
    lines; ``total`` is the number of lines when ``lines`` has a length, else the lines read so far.
    """
    clock_now = now or dt.datetime.now(dt.UTC)
    result = IngestResult()
    total = len(lines) if isinstance(lines, Sized) else None
    changed: set[int] = set()
    batch: list[_Event] = []
    line_no = 0

    def flush() -> None:
        parcels: dict[int, _Parcel] = {}
        if batch:
            with store.write() as session:
                _apply(session, batch, parcels, result, clock_now)
                session.flush()
                _deliver_orders(session, parcels, result)
        changed.update(pid for pid, p in parcels.items() if p.changed)
        batch.clear()
        if progress is not None:
            progress(line_no, total if total is not None else line_no)

    for line_no, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        result.read += 1
        event = _parse(line_no, text, result)
        if event is not None:
            batch.append(event)
        if line_no % BATCH == 0:
            flush()
    flush()
    result.shipments_updated = len(changed)
    return result
