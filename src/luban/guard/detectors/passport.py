"""Passport and travel-permit numbers, only where the text says so.

The formats alone are everywhere in business text: Chinese ordinary passports are E + 8 digits or
E + letter + 7 digits, older series G/D/S/P + 8 digits, Mainland travel permits for Hong Kong and Macau
C/H/M/K + 8 digits (ICAO Doc 9303 leaves the number's format to each state, up to 9 characters); but so are
order numbers (`订单号S20240101`), model numbers (`型号M12345678`) and part numbers (`Part D20231231`). A
number is reported only when the nearest label before it in its clause is a passport word (护照, 通行证,
旅行证, passport, travel document), or one follows it (`E12345678（护照）`). With such a label, other
states' common shapes count too: one or two letters and 6-8 digits, or 9 digits (the US).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from luban.guard.detectors.base import Match
from luban.guard.detectors.context import BUSINESS, after, labels, nearest_label
from luban.guard.detectors.windows import DIGITS6

PATTERN = re.compile(r"(?<![0-9A-Za-z])(?:[EGDSPHMCK]\d{8}|E[A-HJ-NP-Z]\d{7}|[A-Z]{1,2}\d{6,8}|\d{9})(?![0-9A-Za-z])")
KEYWORDS = ("护照", "通行证", "旅行证", "出入境证件", "passport", "travel document", "passeport", "reisepass")
LABELS = labels(passport=KEYWORDS, business=BUSINESS)


class Passport:
    name = "passport"
    priority = 45
    seed = DIGITS6

    def find(self, text: str, start: int = 0, end: int | None = None) -> Iterator[Match]:
        for m in PATTERN.finditer(text, start, len(text) if end is None else end):
            if "passport" in (nearest_label(text, m.start(), LABELS, window=40), after(text, m.end(), LABELS)):
                yield Match(self.name, m.start(), m.end(), m.group(0))
