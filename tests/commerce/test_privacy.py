"""Card numbers are masked wherever a customer types them; order, tracking and phone numbers are not."""

from __future__ import annotations

import pytest

from commerce.privacy import luhn_valid, mask_card_numbers


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("my card 4111 1111 1111 1111 was charged twice", "my card •••• 1111 was charged twice"),
        ("4111111111111111", "•••• 1111"),
        ("amex 3782-822463-10005 please", "amex •••• 0005 please"),
        ("5555-5555-5555-4444.", "•••• 4444."),
    ],
)
def test_a_card_number_keeps_only_its_last_four_digits(typed: str, kept: str) -> None:
    assert mask_card_numbers(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "order 161-9556050-2148893",
        "order 10-47209-51900",
        "tracking 1Z345812793201",
        "call me on +49 1512 3456789",
        "4111 1111 1111 1112 (a typo, no card)",
        "tracking 9400111899223197428490",
    ],
)
def test_other_numbers_are_left_as_typed(typed: str) -> None:
    assert mask_card_numbers(typed) == typed


def test_luhn() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
