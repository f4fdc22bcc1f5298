"""Money helpers: minor units per currency and exact rounding."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW"})


def minor_unit(currency: str) -> Decimal:
    return Decimal("1") if currency.upper() in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")


def round_money(amount: Decimal, currency: str = "USD") -> Decimal:
    """Round half up to the currency's minor unit, keeping two places for storage."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP).quantize(Decimal("0.01"))


def convert(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    """A catalogue price in an order's currency, at the order's exchange rate."""
    return round_money(amount * rate, currency)
