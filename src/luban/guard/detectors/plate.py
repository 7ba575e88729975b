"""Chinese licence plates (GA 36-2018): province character, issuing-office letter, then the serial.

Serials, with I and O never used:
- ordinary plates: 5 characters of digits and letters, at most two of them letters (so `京ABCDEF` and
  `沪ABC12` are not plates), or 4 such characters and a class character (挂 trailer, 学 learner, 警 police,
  港 / 澳 Hong Kong / Macau);
- new-energy plates (6 characters): small vehicles a letter, a letter or digit, then 4 digits (`京AD12345`,
  `粤BF1234A` is not); large vehicles 5 digits then D or F.
The province character must begin the plate, not end a place name (`北京`, `南京`, `天津`, `江苏`: `南京A1234`
is a code after a city), and nothing alphanumeric may touch the plate on either side.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from luban.guard.detectors.base import Match
from luban.guard.detectors.context import is_business
from luban.guard.detectors.windows import Seed

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
L = "A-HJ-NP-Z"  # letters of GA 36: no I, no O
PATTERN = re.compile(
    rf"(?<![0-9A-Za-z])[{PROVINCES}][{L}][·•\s]?"
    rf"(?:[{L}][{L}\d]\d{{4}}|\d{{5}}[DF]|[{L}\d]{{5}}|[{L}\d]{{4}}[挂学警港澳])(?![0-9A-Za-z])")
PLACE_NAMES = ("北京", "南京", "东京", "西京", "天津", "江苏", "姑苏", "西藏", "新疆")


def _serial_ok(serial: str) -> bool:
    if len(serial) == 6:  # new energy: the pattern already holds its shape
        return True
    if serial[-1] in "挂学警港澳":
        serial = serial[:-1]
    return sum(c.isdigit() for c in serial) >= len(serial) - 2


class LicencePlate:
    name = "licence_plate"
    priority = 45
    seed = Seed(re.compile(f"[{PROVINCES}][{L}]"), ascii_ok=False)

    def find(self, text: str, start: int = 0, end: int | None = None) -> Iterator[Match]:
        for m in PATTERN.finditer(text, start, len(text) if end is None else end):
            start = m.start()
            if start and text[start - 1:start + 1] in PLACE_NAMES:
                continue
            serial = re.sub(r"[·•\s]", "", m.group(0))[2:]
            if _serial_ok(serial) and not is_business(text, start):
                yield Match(self.name, start, m.end(), m.group(0))
