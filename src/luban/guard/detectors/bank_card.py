"""Bank card numbers (ISO/IEC 7812): 12-19 digits, optionally grouped by spaces or dashes, that pass the
Luhn check and fit a payment network's number range and length.

One random number in ten passes the Luhn check, so the check alone lets through one order or invoice
number in ten. Two more rules keep those out:
- the number must sit in a network's issuer range at one of that network's lengths: Visa 4 (13, 16,
  19), Mastercard 51-55 and 2221-2720 (16), American Express 34/37 (15), UnionPay 62 and 81 (16-19), JCB
  3528-3589 (16-19), Discover 6011/644-649/65 (16-19), Diners Club 300-305/36/38/39 (14-19), Maestro
  50/56-58/63/67 (12-19), and the older Chinese debit ranges 9558/9559 (19);
- a number right after an order, invoice, transaction or product label (`订单号`, `Invoice #`, `流水号`,
  `SKU`) is that (`context.is_business`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from luban.guard.detectors.base import Match
from luban.guard.detectors.context import is_business
from luban.guard.detectors.windows import DIGITS6

PATTERN = re.compile(r"(?<![\d-])[2-9]\d{3}(?:[ -]?\d{2,4}){2,4}[ -]?\d{1,4}(?![\d-])")
# (first digits low, high, lengths): a number matches when its prefix of that width is in [low, high]
NETWORKS: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (4, 4, (13, 16, 19)),
    (51, 55, (16,)),
    (2221, 2720, (16,)),
    (34, 34, (15,)),
    (37, 37, (15,)),
    (62, 62, (16, 17, 18, 19)),
    (81, 81, (16, 17, 18, 19)),
    (3528, 3589, (16, 17, 18, 19)),
    (6011, 6011, (16, 17, 18, 19)),
    (644, 649, (16, 17, 18, 19)),
    (65, 65, (16, 17, 18, 19)),
    (300, 305, (14, 15, 16, 17, 18, 19)),
    (36, 36, (14, 15, 16, 17, 18, 19)),
    (38, 39, (14, 15, 16, 17, 18, 19)),
    (50, 50, tuple(range(12, 20))),
    (56, 58, tuple(range(12, 20))),
    (63, 63, tuple(range(12, 20))),
    (67, 67, tuple(range(12, 20))),
    (9558, 9559, (19,)),
)


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


def network_ok(digits: str) -> bool:
    for low, high, lengths in NETWORKS:
        if len(digits) in lengths and low <= int(digits[:len(str(low))]) <= high:
            return True
    return False


class BankCard:
    name = "bank_card"
    priority = 60
    seed = DIGITS6

    def find(self, text: str, start: int = 0, end: int | None = None) -> Iterator[Match]:
        for m in PATTERN.finditer(text, start, len(text) if end is None else end):
            digits = re.sub(r"[ -]", "", m.group(0))
            if luhn_ok(digits) and network_ok(digits) and not is_business(text, m.start()):
                yield Match(self.name, m.start(), m.end(), m.group(0))
