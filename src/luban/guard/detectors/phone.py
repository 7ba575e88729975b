"""Phone numbers: Chinese mobile (11 digits, 13x-19x, optional +86), Chinese landline (area code
0xx/0xxx with a separator or parentheses, 7-8 digit number), and international E.164-style numbers
(a + country code, 8-15 digits in all; ITU-T E.164)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from luban.guard.detectors.base import Match

MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)")
LANDLINE = re.compile(r"(?<![\d+])(?:(?:\+|00)86[-\s]?)?(?:\(0?\d{2,3}\)\s?|0\d{2,3}[-\s])[2-9]\d{2,3}[-\s]?\d{4}"
                      r"(?:-\d{1,5})?(?!\d)")
INTERNATIONAL = re.compile(r"(?<![A-Za-z0-9+])\+[1-9]\d{0,2}(?:[-\s.]?\(?\d{1,4}\)?){2,5}(?!\d)")


class CNMobile:
    name = "cn_mobile"
    priority = 40

    def find(self, text: str) -> Iterator[Match]:
        for m in MOBILE.finditer(text):
            yield Match(self.name, m.start(), m.end(), m.group(0))


class CNLandline:
    name = "cn_landline"
    priority = 35

    def find(self, text: str) -> Iterator[Match]:
        for m in LANDLINE.finditer(text):
            yield Match(self.name, m.start(), m.end(), m.group(0))


class InternationalPhone:
    name = "phone"
    priority = 30

    def find(self, text: str) -> Iterator[Match]:
        if "+" not in text:
            return
        for m in INTERNATIONAL.finditer(text):
            digits = sum(c.isdigit() for c in m.group(0))
            if 8 <= digits <= 15:
                yield Match(self.name, m.start(), m.end(), m.group(0))
