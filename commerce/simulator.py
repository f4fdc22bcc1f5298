"""Time moving over the shop: the carrier events the next hours would bring for parcels on their way.

Most parcels progress (sort facility, out for delivery, delivered), some go quiet, some are held by
customs, a few fail delivery or go back to the sender. The feed is as messy as real ones: an event
sent twice, a late scan older than what the parcel already had, a time without a UTC offset, a
tracking number the shop does not know, and carriers that describe an event in their own words
instead of sending a code. The same seed over the same shop gives the same events.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from commerce.carriers import CARRIERS
from commerce.db import Store
from commerce.demo import CUSTOMS_HOLD_REASONS, EU, GATEWAYS
from commerce.models import Shipment, ShipmentStatus, TrackingCode, TrackingEvent, Warehouse

__all__ = ["WORDING", "next_start", "simulate_events"]

ACTIVE = (
    ShipmentStatus.LABEL_CREATED,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.CUSTOMS_HOLD,
    ShipmentStatus.OUT_FOR_DELIVERY,
    ShipmentStatus.EXCEPTION,
)

# Hours from UTC where a scan happens (November: winter time), so times arrive with local offsets.
UTC_OFFSETS: dict[str, int] = {
    "US": -5,
    "MX": -6,
    "BR": -3,
    "GB": 0,
    "DE": 1,
    "FR": 1,
    "ES": 1,
    "IT": 1,
    "NL": 1,
    "PL": 1,
    "TR": 3,
    "SA": 3,
    "KZ": 5,
    "CN": 8,
    "JP": 9,
    "KR": 9,
}

# How carriers that send words instead of codes put it, by the language of the destination country.
WORDING: dict[str, dict[TrackingCode, str]] = {
    "de": {
        TrackingCode.ARRIVED_AT_HUB: "Die Sendung ist im Paketzentrum eingetroffen",
        TrackingCode.IN_TRANSIT: "Die Sendung ist unterwegs",
        TrackingCode.CUSTOMS_HOLD: "Die Sendung wird beim Zoll geprüft",
        TrackingCode.CUSTOMS_CLEARED: "Die Sendung wurde vom Zoll freigegeben",
        TrackingCode.OUT_FOR_DELIVERY: "Die Sendung wird heute zugestellt",
        TrackingCode.DELIVERY_FAILED: "Zustellversuch: Empfänger nicht angetroffen",
        TrackingCode.DELIVERED: "Die Sendung wurde erfolgreich zugestellt",
        TrackingCode.RETURNED_TO_SENDER: "Rücksendung an den Absender",
    },
    "fr": {
        TrackingCode.ARRIVED_AT_HUB: "Votre colis est arrivé sur notre centre de tri",
        TrackingCode.IN_TRANSIT: "Votre colis est en transit",
        TrackingCode.CUSTOMS_HOLD: "Votre colis est retenu en douane",
        TrackingCode.CUSTOMS_CLEARED: "Votre colis a été dédouané",
        TrackingCode.OUT_FOR_DELIVERY: "Votre colis est en cours de livraison",
        TrackingCode.DELIVERY_FAILED: "Destinataire absent, avis de passage déposé",
        TrackingCode.DELIVERED: "Votre colis a été livré",
        TrackingCode.RETURNED_TO_SENDER: "Colis retourné à l'expéditeur",
    },
    "es": {
        TrackingCode.IN_TRANSIT: "El envío está en tránsito",
        TrackingCode.CUSTOMS_HOLD: "Envío retenido en aduana",
        TrackingCode.OUT_FOR_DELIVERY: "El envío está en reparto",
        TrackingCode.DELIVERY_FAILED: "Intento de entrega: destinatario ausente",
        TrackingCode.DELIVERED: "Envío entregado",
        TrackingCode.RETURNED_TO_SENDER: "Devuelto al remitente",
    },
    "it": {
        TrackingCode.IN_TRANSIT: "La spedizione è in transito",
        TrackingCode.CUSTOMS_HOLD: "Spedizione trattenuta in dogana",
        TrackingCode.OUT_FOR_DELIVERY: "La spedizione è in consegna",
        TrackingCode.DELIVERED: "La spedizione è stata consegnata",
        TrackingCode.RETURNED_TO_SENDER: "Spedizione reso al mittente",
    },
    "nl": {
        TrackingCode.IN_TRANSIT: "Het pakket is onderweg",
        TrackingCode.OUT_FOR_DELIVERY: "Het pakket wordt bezorgd",
        TrackingCode.DELIVERED: "Het pakket is bezorgd",
    },
    "en": {
        TrackingCode.ARRIVED_AT_HUB: "Arrival at delivery facility",
        TrackingCode.IN_TRANSIT: "Shipment on its way",
        TrackingCode.CUSTOMS_HOLD: "Clearance event: held by customs",
        TrackingCode.OUT_FOR_DELIVERY: "With delivery courier",
        TrackingCode.DELIVERY_FAILED: "Attempted delivery: nobody home",
        TrackingCode.DELIVERED: "Package delivered to front door",
        TrackingCode.RETURNED_TO_SENDER: "Return to sender in progress",
    },
}
_LANGUAGE = {"DE": "de", "FR": "fr", "ES": "es", "IT": "it", "NL": "nl"}

WORDS_SHARE = 0.12  # events sent as a carrier's words, without a code
DUPLICATE_SHARE = 0.03  # events sent twice


@dataclass
class _Step:
    offset_hours: float
    code: TrackingCode
    description: str
    location: str
    country_code: str


@dataclass
class _Parcel:
    shipment: Shipment
    origin: str
    destination: str
    city: str

    @property
    def international(self) -> bool:
        return self.origin != self.destination and not (self.origin in EU and self.destination in EU)


@dataclass
class _Out:
    at: dt.datetime
    carrier: str
    tracking_number: str
    destination: str  # the country whose carrier wording is used
    code: TrackingCode
    description: str
    location: str
    country_code: str
    words: bool = False
    naive: bool = False


def simulate_events(source: Store | Session, *, start: dt.datetime, hours: float, seed: int) -> list[dict[str, Any]]:
    """Carrier events for the parcels on their way between ``start`` and ``start + hours``, as
    JSON-ready dicts in the order a feed would send them (see :mod:`commerce.tracking`)."""
    if hours <= 0:
        raise ValueError("hours must be more than 0")
    start = start.replace(tzinfo=dt.UTC) if start.tzinfo is None else start.astimezone(dt.UTC)
    if isinstance(source, Store):
        with source.read() as session:
            return _simulate(session, start, hours, seed)
    return _simulate(source, start, hours, seed)


def _simulate(session: Session, start: dt.datetime, hours: float, seed: int) -> list[dict[str, Any]]:
    end = start + dt.timedelta(hours=hours)
    warehouses = {w.id: w.country_code for w in session.scalars(select(Warehouse))}
    shipments = session.scalars(
        select(Shipment)
        .where(Shipment.status.in_(ACTIVE))
        .order_by(Shipment.id)
        .options(selectinload(Shipment.events), selectinload(Shipment.order))
    ).all()
    produced: list[_Out] = []
    for shipment in shipments:
        order = shipment.order
        last_country = shipment.events[-1].country_code if shipment.events else None
        origin = warehouses.get(shipment.warehouse_id or "", last_country or order.ship_country_code)
        parcel = _Parcel(shipment, origin, order.ship_country_code, order.ship_city or GATEWAYS.get(order.ship_country_code, ""))
        rng = random.Random(f"{seed}:{shipment.id}")
        newest = shipment.events[-1].occurred_at if shipment.events else shipment.shipped_at or start
        begin = max(start, newest)
        for step in _plan(parcel, rng):
            at = begin + dt.timedelta(hours=step.offset_hours)
            if at > end:
                break
            produced.append(
                _Out(
                    at,
                    shipment.carrier,
                    shipment.tracking_number,
                    parcel.destination,
                    step.code,
                    step.description,
                    step.location,
                    step.country_code,
                )
            )
    produced.sort(key=lambda o: (o.at, o.tracking_number))
    messy = random.Random(f"{seed}:messy")
    return [_as_json(o) for o in _mess_up(session, produced, shipments, messy, start)]


def _position(parcel: _Parcel) -> int:
    """Where on the full route (see ``_route``) the parcel's next scan is."""
    shipment = parcel.shipment
    last = shipment.events[-1] if shipment.events else None
    fixed = {ShipmentStatus.OUT_FOR_DELIVERY: 8, ShipmentStatus.CUSTOMS_HOLD: 4, ShipmentStatus.EXCEPTION: 7}
    if shipment.status == ShipmentStatus.LABEL_CREATED or last is None:
        return 0
    if shipment.status in fixed:
        return fixed[shipment.status]
    if "local" in last.description.lower():
        return 7
    if last.code == TrackingCode.PICKED_UP:
        return 1
    if parcel.international and last.country_code == parcel.destination:
        return {TrackingCode.ARRIVED_AT_HUB: 4, TrackingCode.CUSTOMS_CLEARED: 5}.get(last.code, 6)
    if last.code == TrackingCode.ARRIVED_AT_HUB:
        return 2
    return 3 if parcel.international else 5


def _route(parcel: _Parcel) -> list[tuple[TrackingCode, str, str, str]]:
    """The scans of a parcel's journey: code, description, location, country."""
    shipment = parcel.shipment
    carrier = CARRIERS.get(shipment.carrier)
    name = carrier.name if carrier else shipment.carrier.upper()
    origin_hub = GATEWAYS.get(parcel.origin, parcel.origin)
    dest_hub = f"{GATEWAYS.get(parcel.destination, parcel.destination)}, {parcel.destination}"
    local = f"{parcel.city}, {parcel.destination}" if parcel.city else dest_hub
    return [
        (TrackingCode.PICKED_UP, "Picked up from the seller's warehouse", origin_hub, parcel.origin),
        (TrackingCode.ARRIVED_AT_HUB, f"Arrived at {name} sort facility", origin_hub, parcel.origin),
        (TrackingCode.IN_TRANSIT, "Departed sort facility", origin_hub, parcel.origin),
        (TrackingCode.ARRIVED_AT_HUB, "Arrived at destination gateway", dest_hub, parcel.destination),
        (TrackingCode.CUSTOMS_CLEARED, "Import customs clearance completed", dest_hub, parcel.destination),
        (
            TrackingCode.IN_TRANSIT,
            f"Departed facility, in transit to {parcel.city or parcel.destination}",
            dest_hub,
            parcel.destination,
        ),
        (TrackingCode.ARRIVED_AT_HUB, "Arrived at local delivery facility", local, parcel.destination),
        (TrackingCode.OUT_FOR_DELIVERY, "Out for delivery", local, parcel.destination),
        (TrackingCode.DELIVERED, "Delivered", local, parcel.destination),
    ]


def _plan(parcel: _Parcel, rng: random.Random) -> list[_Step]:
    """What happens to one parcel from now on, hours after its newest scan (or the window start)."""
    route = _route(parcel)
    if not parcel.international:
        route = [step for i, step in enumerate(route) if i not in (3, 4)]
    position = _position(parcel)
    if not parcel.international:  # no gateway, no customs
        position = position - 2 if position >= 5 else min(position, 3)
    status = parcel.shipment.status
    fate = rng.random()
    if status == ShipmentStatus.CUSTOMS_HOLD and fate < 0.5:
        return []  # still held
    if status == ShipmentStatus.EXCEPTION and fate < 0.25:
        return [_Step(rng.uniform(6, 30), TrackingCode.RETURNED_TO_SENDER, "Not collected: returning to sender", *route[-1][2:])]
    if fate < 0.2:
        return []  # the carrier goes quiet
    held = parcel.international and position <= 4 and 0.2 <= fate < 0.32
    returned = 0.32 <= fate < 0.36
    failed = 0.36 <= fate < 0.42
    steps: list[_Step] = []
    hours = rng.uniform(0.5, 6.0)

    def add(code: TrackingCode, description: str, location: str, country: str) -> None:
        steps.append(_Step(hours, code, description, location, country))

    for index in range(position, len(route)):
        code, description, location, country = route[index]
        if held and code == TrackingCode.CUSTOMS_CLEARED:
            add(TrackingCode.CUSTOMS_HOLD, rng.choice(CUSTOMS_HOLD_REASONS), location, country)
            break
        if code == TrackingCode.DELIVERED and (failed or returned):
            add(TrackingCode.DELIVERY_FAILED, "Delivery attempted: recipient not available", location, country)
            if returned:
                hours += rng.uniform(4.0, 20.0)
                add(TrackingCode.RETURNED_TO_SENDER, "Refused by recipient: returning to sender", location, country)
                break
            hours += rng.uniform(14.0, 22.0)
            add(TrackingCode.OUT_FOR_DELIVERY, "Out for delivery (second attempt)", location, country)
            hours += rng.uniform(1.0, 6.0)
        add(code, description, location, country)
        hours += rng.uniform(1.0, 6.0) if code == TrackingCode.OUT_FOR_DELIVERY else rng.uniform(3.0, 16.0)
    return steps


def _mess_up(
    session: Session,
    produced: list[_Out],
    shipments: Sequence[Shipment],
    rng: random.Random,
    start: dt.datetime,
) -> list[_Out]:
    """The same events as a real feed sends them: some twice, one late scan, one time without its
    offset, one unknown parcel, and some in the carrier's own words."""
    if not produced:
        return produced
    for item in produced:
        if item.code in WORDING[_LANGUAGE.get(item.destination, "en")] and rng.random() < WORDS_SHARE:
            item.words = True
    feed = list(produced)
    for item in rng.sample(produced, max(1, round(len(produced) * DUPLICATE_SHARE))):
        feed.insert(min(len(feed), feed.index(item) + rng.randint(1, 5)), item)
    # A late scan: a sort-facility scan the carrier only now sends, older than the parcel's newest event.
    with_history = [s for s in shipments if len(s.events) >= 2]
    if with_history:
        shipment = rng.choice(with_history)
        before, last = shipment.events[-2], shipment.events[-1]
        at = before.occurred_at + (last.occurred_at - before.occurred_at) * rng.uniform(0.2, 0.8)
        country = before.country_code or shipment.order.ship_country_code
        late = _Out(
            at,
            shipment.carrier,
            shipment.tracking_number,
            shipment.order.ship_country_code,
            TrackingCode.IN_TRANSIT,
            "Processed through sort facility (late scan)",
            before.location,
            country,
        )
        feed.insert(rng.randint(0, len(feed)), late)
    # One time sent without its UTC offset.
    unmarked = rng.choice(produced)
    feed[feed.index(unmarked)] = replace(unmarked, naive=True)
    # A parcel this shop does not know (another seller's, or a typo).
    sample = rng.choice(produced)
    carrier = CARRIERS.get(sample.carrier)
    prefix = carrier.tracking_prefix if carrier else "XX"
    while True:
        number = prefix + "".join(str(rng.randint(0, 9)) for _ in range(14))
        if session.scalar(select(Shipment.id).where(Shipment.tracking_number == number)) is None:
            break
    stranger = replace(
        sample, at=start + (sample.at - start) * rng.uniform(0.0, 1.0), tracking_number=number, words=False, naive=False
    )
    feed.insert(rng.randint(0, len(feed)), stranger)
    return feed


def _as_json(item: _Out) -> dict[str, Any]:
    offset = dt.timezone(dt.timedelta(hours=UTC_OFFSETS.get(item.country_code, 0)))
    occurred = item.at.replace(microsecond=0)
    stamp = occurred.replace(tzinfo=None).isoformat() if item.naive else occurred.astimezone(offset).isoformat()
    event: dict[str, Any] = {"carrier": item.carrier, "tracking_number": item.tracking_number}
    if item.words:
        event["description"] = WORDING[_LANGUAGE.get(item.destination, "en")][item.code]
    else:
        event["code"] = item.code.value
        event["description"] = item.description
    event.update(occurred_at=stamp, location=item.location, country_code=item.country_code)
    return event


def next_start(source: Store | Session) -> dt.datetime:
    """Where the next simulated hours begin: the demo shop's present, or the newest event in the
    store once time has moved past it, so each run carries on from the last one."""
    from commerce.demo import REFERENCE_NOW

    if isinstance(source, Store):
        with source.read() as session:
            return next_start(session)
    newest = source.scalar(select(func.max(TrackingEvent.occurred_at)))
    if isinstance(newest, dt.datetime):
        newest = newest.replace(tzinfo=dt.UTC) if newest.tzinfo is None else newest.astimezone(dt.UTC)
        return max(REFERENCE_NOW, newest)
    return REFERENCE_NOW
