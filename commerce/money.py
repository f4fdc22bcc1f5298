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


# Approximate euros per unit, to compare order values across currencies (urgency, thresholds).
APPROX_EUR_PER_UNIT: dict[str, Decimal] = {
    "EUR": Decimal("1"),
    "USD": Decimal("0.92"),
    "GBP": Decimal("1.17"),
    "JPY": Decimal("0.0061"),
    "KRW": Decimal("0.00068"),
    "PLN": Decimal("0.23"),
    "TRY": Decimal("0.027"),
    "BRL": Decimal("0.17"),
    "MXN": Decimal("0.05"),
    "CNY": Decimal("0.13"),
    "SAR": Decimal("0.25"),
    "KZT": Decimal("0.0019"),
    "CHF": Decimal("1.05"),
    "SEK": Decimal("0.087"),
    "CAD": Decimal("0.68"),
    "AUD": Decimal("0.61"),
    "AED": Decimal("0.25"),
    "RUB": Decimal("0.01"),
}


def approx_eur(amount: Decimal, currency: str) -> Decimal | None:
    rate = APPROX_EUR_PER_UNIT.get(currency.upper())
    return None if rate is None else (amount * rate).quantize(Decimal("0.01"))
