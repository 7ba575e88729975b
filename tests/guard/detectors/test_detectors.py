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
    assert types("卡号 6222 0212 3456 7894") == [("bank_card", "6222 0212 3456 7894")]  # UnionPay, Luhn-valid
    assert types("卡号 6222 0212 3456 7895") == []
    assert types("card 4111 1111 1111 1111 ok") == [("bank_card", "4111 1111 1111 1111")]
    assert types("card 4111 1111 1111 1112 no") == []


def test_email_ip_passport_plate() -> None:
    assert types("mail li.lei+cs@mail.example.com.") == [("email", "li.lei+cs@mail.example.com")]
    assert types("server 192.168.1.20 and 2001:da8::8a2e:370:7334 at 12:30:45") == [
        ("ipv4", "192.168.1.20"), ("ipv6", "2001:da8::8a2e:370:7334")]
    assert types("version 1.2.3.4.5 and 999.1.1.1") == []
    assert types("护照号E12345678，车牌粤B·12345和新能源京AD12345") == [
        ("passport", "E12345678"), ("licence_plate", "粤B·12345"), ("licence_plate", "京AD12345")]


# Business text with no personal data in it, written the way documents, tickets and catalogues write it.
# Every detector must stay silent on every line (the benchmark's negatives, bench/guard_pii.py, differ).
BUSINESS_TEXT = [
    "订单号S20240101已发货，预计三天内送达。",
    "型号M12345678的滤网请每三个月更换一次。",
    "Replace Part D20231231 before the warranty expires.",
    "发票号码 04400123 4567 8901，开票日期2024年3月15日，金额¥1,280.00。",
    "Invoice #6011000990139424 was paid on 2024-03-15 by wire transfer.",
    "Order No.: 13912345678 has been cancelled at your request.",
    "交易流水号4111111111111111，请在对账单中核对。",
    "SKU 62220212345678945 is out of stock until April.",
    "The firmware moved from version 2.0.0.1 to v3.1.4.1 last week; see section 1.2.3.4.",
    "物料编号110105194912310029已入库。",
    "Docs: https://example.com/api/v2/orders?id=20240101&page=3#section-2",
    "use Archive::Tar::Wrapper; my $log = Log::Dispatch->new; std::vector<int> v;",
    "In Rust, call std::fs::read_to_string and Vec::with_capacity(16).",
    "Assets: logo@2x.png, icon@3x.webp; clone git@github.com:acme/robot.git to build.",
    "The meeting is at 12:30:45 UTC+8 2024 12 31; MAC 00:1A:2B:3C:4D:5E.",
    "京ABCDEF 与 沪ABC12 都不是车牌；南京A12345仓库在江苏A区。",
    "Model XR-5000, serial S/N 12345678901, batch 2024-03-15-0012.",
    "用户名user_13812345678_bak 和 设备ID SN13812345678 都不是手机号。",
    "ISBN 978-7-111-12345-6, DOI 10.1000/182, RFC 4122, CVE-2024-12345.",
    "Scores rose +12.5% to 1,234,567 in Q3 2024.",
]


@pytest.mark.parametrize("line", BUSINESS_TEXT)
def test_business_text_holds_no_personal_data(line: str) -> None:
    assert types(line) == []


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
