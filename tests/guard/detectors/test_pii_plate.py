"""Licence plates follow GA 36's serial structure; letter-only serials, codes after place names are not plates."""

from __future__ import annotations

import pytest

from luban.guard.detectors.plate import LicencePlate


def found(text: str) -> list[str]:
    return [m.text for m in LicencePlate().find(text)]


@pytest.mark.parametrize("text, plate", [
    ("车牌粤B·12345违章", "粤B·12345"),
    ("新能源小车京AD12345", "京AD12345"),
    ("大型新能源车沪A12345D", "沪A12345D"),
    ("教练车苏E1234学", "苏E1234学"),
    ("选号浙A8B8C8", "浙A8B8C8"),
    ("挂车冀B 1234挂", "冀B 1234挂"),
])
def test_plates_are_found(text: str, plate: str) -> None:
    assert found(text) == [plate]


@pytest.mark.parametrize("text", [
    "京ABCDEF",  # letters only
    "沪ABC12",  # three letters in the serial
    "南京A12345号仓库",  # a code after a city name
    "北京B23456批次",
    "型号京A12345",  # labelled as a model
    "粤BF1234A型号",  # not a new-energy shape
    "京A12345678",  # too long
    "XX京A12345",  # joined to letters
])
def test_letter_only_serials_and_codes_are_not_plates(text: str) -> None:
    assert found(text) == []
