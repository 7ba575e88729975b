"""PII detectors: real findings only (checksums, dates, Luhn), overlaps resolved, mask and tag."""

from __future__ import annotations

import pytest

from luban.core.errors import ConfigError
from luban.guard.detectors import load, redact, scan
from luban.guard.detectors.bank_card import luhn_ok
from luban.guard.detectors.cn_id import valid_cn_id


def types(text: str) -> list[tuple[str, str]]:
    return [(m.type, m.text) for m in scan(text)]


def test_cn_resident_id_checksum_and_birth_date() -> None:
    assert valid_cn_id("11010519491231002X")
    assert not valid_cn_id("110105194912310021")  # wrong check character
    assert not valid_cn_id("110105194902300027")  # 30 February
    assert not valid_cn_id("110105299912310023")  # born in the future
    assert types("身份证号11010519491231002X，请核对") == [("cn_id", "11010519491231002X")]
    assert types("订单号110105194912310021") == []


def test_phones() -> None:
    assert types("手机13812345678或+86 139-1234-5678") == [("cn_mobile", "13812345678"),
                                                      ("cn_mobile", "+86 139-1234-5678")]
    assert types("座机010-62345678，分机(0755)8765432") == [("cn_landline", "010-62345678"),
                                                      ("cn_landline", "(0755)8765432")]
    assert types("call +1 415 555 0100 or +44 20 7946 0958") == [("phone", "+1 415 555 0100"),
                                                                ("phone", "+44 20 7946 0958")]
    assert types("version 12345678901234") == []


def test_bank_card_luhn() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert types("卡号 6222 0212 3456 7894") == [] or types("卡号 6222 0212 3456 7894")[0][0] == "bank_card"
    assert types("card 4111 1111 1111 1111 ok") == [("bank_card", "4111 1111 1111 1111")]
    assert types("card 4111 1111 1111 1112 no") == []


def test_email_ip_passport_plate() -> None:
    assert types("mail li.lei+cs@mail.example.com.") == [("email", "li.lei+cs@mail.example.com")]
    assert types("server 192.168.1.20 and 2001:db8::8a2e:370:7334 at 12:30:45") == [
        ("ipv4", "192.168.1.20"), ("ipv6", "2001:db8::8a2e:370:7334")]
    assert types("version 1.2.3.4.5 and 999.1.1.1") == []
    assert types("护照号E12345678，车牌粤B·12345和新能源京AD12345") == [
        ("passport", "E12345678"), ("licence_plate", "粤B·12345"), ("licence_plate", "京AD12345")]


def test_redact_mask_and_tag() -> None:
    text = "电话13812345678，邮箱a@b.cn"
    found = scan(text)
    assert redact(text, found, "mask") == "电话***********，邮箱******"
    assert redact(text, found, "tag") == "电话[CN_MOBILE]，邮箱[EMAIL]"


def test_unknown_type_is_an_error() -> None:
    with pytest.raises(ConfigError, match="unknown PII type 'ssn'.*known: email"):
        load(["ssn"])
    with pytest.raises(ConfigError, match="unknown PII type 'emial'.*did you mean 'email'"):
        load(["emial"])
