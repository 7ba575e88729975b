"""Bank cards: Luhn, a network's range and length, and no order or invoice label in front."""

from __future__ import annotations

import pytest

from luban.guard.detectors.bank_card import BankCard, luhn_ok, network_ok


def found(text: str) -> list[str]:
    return [m.text for m in BankCard().find(text)]


@pytest.mark.parametrize("text, card", [
    ("卡号6222021234567894", "6222021234567894"),
    ("Visa 4111 1111 1111 1111 exp 12/27", "4111 1111 1111 1111"),
    ("Amex 3782-822463-10005", "3782-822463-10005"),
    ("Mastercard 2221000000000009 (2-series)", "2221000000000009"),
    ("工行借记卡9558800200123456788", "9558800200123456788"),
])
def test_cards_are_found(text: str, card: str) -> None:
    assert luhn_ok(card.replace(" ", "").replace("-", ""))
    assert found(text) == [card]


def test_network_ranges_and_lengths() -> None:
    assert network_ok("4111111111111111") and network_ok("378282246310005")
    assert not network_ok("37828224631000")  # Amex has 15 digits
    assert not network_ok("7000000000000000")  # no network starts with 7
    assert not network_ok("2100000000000000")  # below Mastercard's 2221


@pytest.mark.parametrize("text", [
    "订单号 4111111111111111 已退款",  # Luhn-valid, but an order number
    "Invoice No. 6011000990139424 due 2024-04-30",
    "交易流水号: 6222021234567894",
    "tracking 5555 5555 5555 4444 out for delivery",
    "卡号 4111 1111 1111 1112",  # Luhn fails
    "batch 7992739871300008",  # Luhn-valid, no network
])
def test_labelled_or_invalid_numbers_are_not_cards(text: str) -> None:
    assert found(text) == []
