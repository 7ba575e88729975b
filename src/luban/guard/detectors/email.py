"""E-mail addresses (RFC 5322's common subset: local@domain.tld)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from luban.guard.detectors.base import Match

PATTERN = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                     r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9])")


class Email:
    name = "email"
    priority = 50

    def find(self, text: str) -> Iterator[Match]:
        if "@" not in text:
            return
        for m in PATTERN.finditer(text):
            yield Match(self.name, m.start(), m.end(), m.group(0))
