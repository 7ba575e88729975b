"""Chinese resident identity numbers (GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit
sequence, check character. A match must have a real, past birth date and a valid ISO 7064 MOD 11-2
check character, so random 18-digit numbers (orders, bank cards) are not flagged; one random number with a
valid date in eleven still passes the check, so a number right after an order, invoice or product label
(`订单号`, `Invoice No.`) is not one either (`context.is_business`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from luban.guard.detectors.base import Match
from luban.guard.detectors.context import is_business
from luban.guard.detectors.windows import DIGITS6

PATTERN = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}"
                     r"[0-9Xx](?![0-9A-Za-z])")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def valid_cn_id(number: str) -> bool:
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if CHECK[sum(int(d) * w for d, w in zip(number[:17], WEIGHTS)) % 11] != number[17].upper():
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return dt.date(1890, 1, 1) <= born <= dt.date.today()


class CNResidentID:
    name = "cn_id"
    priority = 90
    seed = DIGITS6

    def find(self, text: str, start: int = 0, end: int | None = None) -> Iterator[Match]:
        for m in PATTERN.finditer(text, start, len(text) if end is None else end):
            if valid_cn_id(m.group(0)) and not is_business(text, m.start()):
                yield Match(self.name, m.start(), m.end(), m.group(0))
