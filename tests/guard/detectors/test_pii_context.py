"""Context rules: the label right before a value, the nearest label in its clause."""

from __future__ import annotations

from luban.guard.detectors.context import clause_before, is_business, labels, nearest_label


def at(text: str, value: str) -> int:
    return text.index(value)


def test_a_business_label_counts_only_right_before_the_value() -> None:
    for text in ["订单号：S20240101", "Order No.: S20240101", "Invoice # S20240101", "型号为S20240101",
                 "Part S20240101", "version S20240101", "P/N S20240101"]:
        assert is_business(text, at(text, "S20240101")), text
    for text in ["for product support call S20240101", "partner S20240101", "订单已发货，联系人S20240101"]:
        assert not is_business(text, at(text, "S20240101")), text


def test_the_nearest_label_in_the_clause_wins() -> None:
    pattern = labels(passport=("护照", "passport"), business=("订单", "order"))
    text = "护照和订单号S20240101"
    assert nearest_label(text, at(text, "S2"), pattern) == "business"
    text = "订单已付款，护照号E12345678"
    assert nearest_label(text, at(text, "E1"), pattern) == "passport"
    text = "带上护照。E12345678"
    assert nearest_label(text, at(text, "E1"), pattern) is None
    assert clause_before("a. b; c", 7) == " c"
