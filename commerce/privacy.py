"""Card numbers typed into a chat are masked before anything is stored, logged or sent to a
model: a run of 13 to 19 digits (whole, or in the groups cards are printed in) that passes the
Luhn check keeps only its last four digits."""

from __future__ import annotations

import re

# Digits with at most one space or dash between them, not part of a longer number.
_CANDIDATE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_SEPARATOR = re.compile(r"[ -]")
# Cards of the networks in use start with these (Amex and Diners 3, Visa 4, Mastercard 2 and 5,
# Discover and UnionPay 6): a long tracking or phone number starting otherwise is left alone.
_CARD_FIRST_DIGITS = frozenset("23456")
# The groups cards are printed in: 4-4-4-4(-3), 4-6-5 (Amex), 4-6-4 (Diners).
_PRINTED = ((4, 6, 5), (4, 6, 4))


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_like(found: str) -> bool:
    groups = _SEPARATOR.split(found)
    digits = "".join(groups)
    if not 13 <= len(digits) <= 19:
        return False
    if digits[0] not in _CARD_FIRST_DIGITS:
        return False
    sizes = tuple(len(g) for g in groups)
    shaped = len(groups) == 1 or sizes in _PRINTED or (all(s == 4 for s in sizes[:-1]) and 1 <= sizes[-1] <= 4)
    return shaped and luhn_valid(digits)


def mask_card_numbers(text: str) -> str:
    """The text with every card number reduced to its last four digits ("•••• 4242")."""

    def mask(match: re.Match[str]) -> str:
        found = match.group()
        if not _card_like(found):
            return found
        return "•••• " + re.sub(r"\D", "", found)[-4:]

    return _CANDIDATE.sub(mask, text)
