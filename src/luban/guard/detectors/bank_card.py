"""Bank card numbers: 13-19 digits (ISO/IEC 7812), optionally grouped by spaces or dashes, that pass
the Luhn check and start with a payment-network digit (3 Amex/JCB, 4 Visa, 5 Mastercard, 6 UnionPay
/Discover)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from luban.guard.detectors.base import Match

PATTERN = re.compile(r"(?<![\d-])[3-6]\d{3}(?:[ -]?\d{2,4}){2,4}[ -]?\d{1,4}(?![\d-])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


class BankCard:
    name = "bank_card"
    priority = 60

    def find(self, text: str) -> Iterator[Match]:
        for m in PATTERN.finditer(text):
            digits = re.sub(r"[ -]", "", m.group(0))
            if 13 <= len(digits) <= 19 and luhn_ok(digits):
                yield Match(self.name, m.start(), m.end(), m.group(0))
