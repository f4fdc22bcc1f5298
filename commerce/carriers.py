"""Carriers the store ships with, their service levels and what each allows."""

from __future__ import annotations

from dataclasses import dataclass

from commerce.models import ServiceLevel, ShipmentStatus, TrackingCode


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    service_levels: tuple[ServiceLevel, ...]
    supports_intercept: bool
    transit_days: dict[ServiceLevel, int]
    tracking_prefix: str


CARRIERS: dict[str, Carrier] = {
    c.code: c
    for c in (
        Carrier(
            "dhl",
            "DHL Express",
            (ServiceLevel.STANDARD, ServiceLevel.EXPRESS),
            True,
            {ServiceLevel.STANDARD: 6, ServiceLevel.EXPRESS: 3},
            "JD",
        ),
        Carrier(
            "ups",
            "UPS",
            (ServiceLevel.STANDARD, ServiceLevel.EXPRESS),
            True,
            {ServiceLevel.STANDARD: 5, ServiceLevel.EXPRESS: 2},
            "1Z",
        ),
        Carrier(
            "fedex",
            "FedEx",
            (ServiceLevel.ECONOMY, ServiceLevel.STANDARD, ServiceLevel.EXPRESS),
            True,
            {ServiceLevel.ECONOMY: 8, ServiceLevel.STANDARD: 5, ServiceLevel.EXPRESS: 2},
            "FX",
        ),
        Carrier(
            "usps",
            "USPS",
            (ServiceLevel.ECONOMY, ServiceLevel.STANDARD),
            False,
            {ServiceLevel.ECONOMY: 10, ServiceLevel.STANDARD: 7},
            "94",
        ),
        Carrier(
            "yunexpress",
            "YunExpress",
            (ServiceLevel.ECONOMY, ServiceLevel.STANDARD),
            False,
            {ServiceLevel.ECONOMY: 18, ServiceLevel.STANDARD: 12},
            "YT",
        ),
        Carrier(
            "dpd",
            "DPD",
            (ServiceLevel.STANDARD, ServiceLevel.EXPRESS),
            True,
            {ServiceLevel.STANDARD: 4, ServiceLevel.EXPRESS: 2},
            "DP",
        ),
    )
}


def get_carrier(code: str) -> Carrier | None:
    return CARRIERS.get(code.strip().lower())


def status_after(code: TrackingCode) -> ShipmentStatus:
    """What a parcel's status is once this is the newest thing the carrier has said about it."""
    return {
        TrackingCode.LABEL_CREATED: ShipmentStatus.LABEL_CREATED,
        TrackingCode.CUSTOMS_HOLD: ShipmentStatus.CUSTOMS_HOLD,
        TrackingCode.OUT_FOR_DELIVERY: ShipmentStatus.OUT_FOR_DELIVERY,
        TrackingCode.DELIVERY_FAILED: ShipmentStatus.EXCEPTION,
        TrackingCode.DAMAGED: ShipmentStatus.EXCEPTION,
        TrackingCode.DELIVERED: ShipmentStatus.DELIVERED,
        TrackingCode.RETURNED_TO_SENDER: ShipmentStatus.RETURNED_TO_SENDER,
        TrackingCode.INTERCEPT_REQUESTED: ShipmentStatus.INTERCEPTED,
    }.get(code, ShipmentStatus.IN_TRANSIT)
