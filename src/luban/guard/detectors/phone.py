"""Phone numbers: Chinese mobile (11 digits, optional +86), Chinese landline (area code 0xx/0xxx with a
separator or parentheses, 7-8 digit number), and international E.164-style numbers (a + country code,
8-15 digits in all; ITU-T E.164).

Mobile numbers start 13-19 (MIIT's numbering plan gives mobile service the 13x-19x blocks; the list of
allocated sub-blocks grows every few years, so it is not hard-coded here), so an 11-digit order number
starting 10, 11 or 12 is not one. A number joined to letters
(`SN13812345678`, `user_13812345678_x`) is an identifier, a run of digit groups inside a longer grouped
number (a card's `0212 3456 7895`) is part of that number, and one right after an order, invoice,
tracking or product label (`订单号`, `Tracking No.`) is that (`context.is_business`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from luban.guard.detectors.base import Match
from luban.guard.detectors.context import is_business
from luban.guard.detectors.windows import DIGITS6

# not joined to letters, and not a group inside a longer grouped number ("6222 0212 3456 7895")
_NOT_BEFORE = r"(?<![0-9A-Za-z_+#/-])(?<!\d[\s.])"
MOBILE = re.compile(_NOT_BEFORE + r"(?:(?:\+|00)86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}"
                    r"(?![0-9A-Za-z_])")
LANDLINE = re.compile(_NOT_BEFORE + r"(?:(?:\+|00)86[-\s]?)?(?:\(0?\d{2,3}\)\s?|0\d{2,3}[-\s])[2-9]\d{2,3}[-\s]?\d{4}"
                      r"(?:-\d{1,5})?(?![0-9A-Za-z_])(?![-\s.]\d{4})")
INTERNATIONAL = re.compile(r"(?<![A-Za-z0-9+])\+[1-9]\d{0,2}(?:[-\s.]?\(?\d{1,4}\)?){2,5}(?![0-9A-Za-z_%])")


def _found(name: str, pattern: re.Pattern[str], text: str, start: int, end: int | None) -> Iterator[Match]:
    for m in pattern.finditer(text, start, len(text) if end is None else end):
        if not is_business(text, m.start()):
            yield Match(name, m.start(), m.end(), m.group(0))


class CNMobile:
    name = "cn_mobile"
    priority = 40
    seed = DIGITS6

    def find(self, text: str, start: int = 0, end: int | None = None) -> Iterator[Match]:
        return _found(self.name, MOBILE, text, start, end)


class CNLandline:
    name = "cn_landline"
    priority = 35
    seed = DIGITS6

    def find(self, text: str, start: int = 0, end: int | None = None) -> Iterator[Match]:
        return _found(self.name, LANDLINE, text, start, end)


class InternationalPhone:
    name = "phone"
    priority = 30
    seed = DIGITS6

    def find(self, text: str, start: int = 0, end: int | None = None) -> Iterator[Match]:
        if "+" not in text:
            return
        for m in _found(self.name, INTERNATIONAL, text, start, end):
            if 8 <= sum(c.isdigit() for c in m.text) <= 15:
                yield m
