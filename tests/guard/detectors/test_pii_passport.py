"""Passport numbers need a passport word in their clause: the format alone is an order or model number."""

from __future__ import annotations

import pytest

from luban.guard.detectors.passport import Passport


def found(text: str) -> list[str]:
    return [m.text for m in Passport().find(text)]


@pytest.mark.parametrize("text, number", [
    ("护照号E12345678，请核对", "E12345678"),
    ("旅客护照号码为：EA1234567。", "EA1234567"),
    ("港澳通行证 C12345678 已过期", "C12345678"),
    ("Passport No.: G12345678, issued 2015", "G12345678"),
    ("US passport number 123456789 on file", "123456789"),
    ("证件：E87654321（护照）", "E87654321"),
])
def test_labelled_passport_numbers_are_found(text: str, number: str) -> None:
    assert found(text) == [number]


@pytest.mark.parametrize("text", [
    "订单号S20240101已签收",
    "型号M12345678，颜色白色",
    "Replace Part D20231231 and H20240115 together.",
    "护照和订单号S20240101一起寄出",  # the nearest label is the order's
    "请携带护照办理。快递单号E12345678已寄出",  # the passport word is in another sentence
    "Ticket P20240312 closed; see passport office hours.",
])
def test_order_model_and_part_numbers_are_not_passports(text: str) -> None:
    assert found(text) == []
