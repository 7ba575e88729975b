"""Fake personal data that looks real to a detector: checksummed IDs, Luhn-valid cards.

All people are invented ("测试" style names, example.com/example.org mail domains); the
numbers are generated, never copied. A PII detector must not be able to dismiss them on
checksum grounds, so they are valid by construction.
"""

from __future__ import annotations

import datetime as dt
import random

# GB 11643-1999: weights of the 17 leading digits and the check character for sum % 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# Real-format administrative division codes (district level) so region checks pass too.
REGIONS = ("110101", "110105", "310104", "310115", "440305", "440106", "330106", "510107", "420106", "320102")

SURNAMES = ("张", "王", "李", "赵", "陈", "刘", "杨", "黄", "周", "吴")
GIVEN = ("测试", "示例", "小明", "小红", "虚拟", "假名", "样本", "演示")
FIRST_EN = ("John", "Jane", "Alex", "Sam", "Chris", "Pat", "Robin", "Taylor")
LAST_EN = ("Doe", "Roe", "Example", "Sample", "Placeholder", "Testman")


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a resident ID's first 17 digits."""
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS)) % 11]


def luhn_valid(number: str) -> bool:
    """True when ``number`` (digits only) passes the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def resident_id(rng: random.Random) -> str:
    """An 18-character resident ID with a real birth date and a valid check character."""
    born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(365 * 40))
    first17 = f"{rng.choice(REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_char(first17)


def bank_card(rng: random.Random) -> str:
    """A 16- or 19-digit UnionPay-style card number (prefix 62) that passes Luhn."""
    length = rng.choice((16, 19))
    body = "62" + "".join(str(rng.randrange(10)) for _ in range(length - 3))
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always fits")


def mobile(rng: random.Random) -> str:
    """A mainland mobile number matching 1[3-9]\\d{9}."""
    return f"1{rng.randrange(3, 10)}{rng.randrange(10**9):09d}"


def person_zh(rng: random.Random) -> str:
    """An obviously invented Chinese name such as 张测试."""
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def person_en(rng: random.Random) -> str:
    """An obviously invented English name such as Jane Placeholder."""
    return f"{rng.choice(FIRST_EN)} {rng.choice(LAST_EN)}"


def email(rng: random.Random, name: str) -> str:
    """A mail address on a reserved example domain."""
    local = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum()) or "user"
    return f"{local}{rng.randrange(100, 999)}@{rng.choice(('example.com', 'example.org', 'example.net'))}"


class Ledger:
    """Records each injected value and the file it went into, for raw_dirt.json."""

    def __init__(self) -> None:
        self.items: dict[str, list[dict[str, str]]] = {
            "id_numbers": [],
            "phones": [],
            "emails": [],
            "bank_cards": [],
        }

    def add(self, kind: str, value: str, file: str) -> str:
        """Note ``value`` of ``kind`` in ``file`` and return it, for use inside f-strings."""
        self.items[kind].append({"value": value, "file": file})
        return value
