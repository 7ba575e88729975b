"""Phones: mobile blocks of the numbering plan, landlines, E.164; identifiers and labelled numbers are not phones."""

from __future__ import annotations

import pytest

from luban.guard.detectors.phone import CNLandline, CNMobile, InternationalPhone


def found(det: CNMobile | CNLandline | InternationalPhone, text: str) -> list[str]:
    return [m.text for m in det.find(text)]


def test_phones_are_found() -> None:
    assert found(CNMobile(), "手机13812345678或+86 139-1234-5678，Tel.15000001111") == [
        "13812345678", "+86 139-1234-5678", "15000001111"]
    assert found(CNLandline(), "座机010-62345678，分机(0755)8765432") == ["010-62345678", "(0755)8765432"]
    assert found(InternationalPhone(), "call +1 415 555 0100 or +44 20 7946 0958") == [
        "+1 415 555 0100", "+44 20 7946 0958"]


@pytest.mark.parametrize("text", [
    "订单号13812345678已发货",
    "Tracking No. 13912345678 delivered",
    "序列号SN13812345678",
    "user_13812345678_backup.tar",
    "时间戳1700000000000毫秒",
    "编号12012345678与11012345678不是手机号",  # 12x, 11x: not mobile blocks
    "卡号 6222 0212 3456 7895",
])
def test_labelled_numbers_identifiers_and_other_blocks_are_not_mobiles(text: str) -> None:
    assert found(CNMobile(), text) == []
    assert found(CNLandline(), text) == []


@pytest.mark.parametrize("text", [
    "UTC+8 2024 12 31 meeting",
    "growth +12.5% in Q3, +15 20 30%",
    "Part No. +1 415 555 0100",
    "version 12345678901234",
])
def test_offsets_percentages_and_labelled_numbers_are_not_international_phones(text: str) -> None:
    assert found(InternationalPhone(), text) == []
