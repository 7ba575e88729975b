"""Chinese licence plates (GA 36-2018): province character, issuing-office letter, then 5 characters
(6 for new-energy plates); I and O are never used."""

from __future__ import annotations

import re
from collections.abc import Iterator

from luban.guard.detectors.base import Match

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
PATTERN = re.compile(rf"[{PROVINCES}][A-HJ-NP-Z][·•\s]?(?:[A-HJ-NP-Z0-9]{{5,6}}|[A-HJ-NP-Z0-9]{{4}}[挂学警港澳])"
                     r"(?![A-Za-z0-9])")


class LicencePlate:
    name = "licence_plate"
    priority = 45

    def find(self, text: str) -> Iterator[Match]:
        for m in PATTERN.finditer(text):
            yield Match(self.name, m.start(), m.end(), m.group(0))
