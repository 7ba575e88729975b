"""Passport numbers: Chinese ordinary passports (E + 8 digits, or E + letter + 7 digits; older G/D/S/P
series) and Hong Kong / Macau travel permits (H/M + 8 digits). Uppercase only, with no letter or
digit next to it, to keep product codes out."""

from __future__ import annotations

import re
from collections.abc import Iterator

from luban.guard.detectors.base import Match

PATTERN = re.compile(r"(?<![0-9A-Za-z])(?:[EGDSPHM]\d{8}|E[A-HJ-NP-Z]\d{7})(?![0-9A-Za-z])")


class Passport:
    name = "passport"
    priority = 45

    def find(self, text: str) -> Iterator[Match]:
        for m in PATTERN.finditer(text):
            yield Match(self.name, m.start(), m.end(), m.group(0))
