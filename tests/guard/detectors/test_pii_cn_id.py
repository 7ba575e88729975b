"""Chinese ID numbers: checksum and birth date, and no order or product label in front."""

from __future__ import annotations

from luban.guard.detectors.cn_id import CNResidentID, valid_cn_id


def found(text: str) -> list[str]:
    return [m.text for m in CNResidentID().find(text)]


def test_ids_are_found_with_or_without_a_label() -> None:
    assert found("身份证号11010519491231002X，请核对") == ["11010519491231002X"]
    assert found("ID: 44030519900101123X verified") == ["44030519900101123X"]
    assert found("联系人 11010519491231002x") == ["11010519491231002x"]


def test_order_numbers_that_pass_the_checksum_are_not_ids() -> None:
    assert valid_cn_id("11010519491231002X")
    assert found("订单号11010519491231002X") == []
    assert found("Order No. 11010519491231002X shipped") == []
    assert found("物料编码：11010519491231002X") == []


def test_numbers_with_a_bad_checksum_or_date_are_not_ids() -> None:
    assert found("110105194912310021") == []  # check character
    assert found("110105194902300027") == []  # 30 February
    assert found("SN11010519491231002X") == []  # joined to letters
