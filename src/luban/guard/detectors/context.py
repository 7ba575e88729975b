"""Context rules for detectors whose format alone is ambiguous: the label just before a candidate.

Business text is full of numbers shaped like personal data: an order number of 11 digits starting with
13, a model number `M12345678` shaped like a passport, a 16-digit invoice number that passes the Luhn
check (one random number in ten does). What tells them apart is the label a writer puts in front:
`订单号`, `Invoice No.`, `型号`, `Part`, `version`. Design choices:
- only the current clause counts: the window (default 24 characters) before the candidate is cut after
  the last sentence or clause break (`。；;！？!?` and newlines), so a label in an earlier sentence does not
  reach a number in this one;
- a business label vetoes only when it sits right before the candidate, joined by nothing but label glue
  (`No.`, `#`, `号`, `码`, `:`, `为`, spaces): "Order No. 13812345678" is an order, while in "for product
  support call 13812345678" the word `product` labels nothing;
- a required label (a passport number needs `护照` / `passport` / `通行证`) may stand anywhere earlier in the
  clause, and the nearest label wins: in `护照和订单号 S20240101` the number belongs to `订单号`;
- labels are words, matched case-insensitively, English ones on word boundaries (`part` is not in `party`).
"""

from __future__ import annotations

import re

_BREAK = re.compile(r"[。；;！？!?\n]")
# Labels of identifiers that are not personal data: orders, invoices, products, parts, versions, tickets.
BUSINESS = (
    "订单", "单号", "发票", "票号", "型号", "零件", "料号", "物料", "编号", "编码", "序列号", "批号", "批次", "版本",
    "工单", "合同", "运单", "快递", "物流", "货号", "产品", "商品", "款号", "规格", "流水号", "交易号", "凭证",
    "专利", "标准", "车架", "工号", "学号", "会员",
    "order", "invoice", "receipt", "tracking", "shipment", "sku", "part", "model", "serial", "version", "build",
    "release", "ticket", "case", "batch", "lot", "item", "product", "ref", "reference", "isbn", "issn", "patent",
    "po", "p/n", "s/n", "transaction", "txn", "confirmation", "booking", "catalog", "catalogue", "doi", "rfc",
    "cve", "ver", "v", "rev", "revision", "step", "section", "chapter", "table", "figure", "page", "issue", "pr",
    "bug", "job", "task", "run", "commit", "container", "device", "asset", "license key", "licence key",
)
# What may stand between a label and its value: "Order No.: ", "订单号码：", "Invoice #", "型号为".
_GLUE = r"(?:\s|no\.?|nr\.?|number|num|#|id|code|号码|号|码|编号|为|是|is|:|：|=|-|\.)*"


def _pattern(words: tuple[str, ...]) -> str:
    ascii_words = sorted((w for w in words if w.isascii()), key=len, reverse=True)
    other = sorted((w for w in words if not w.isascii()), key=len, reverse=True)
    parts = [rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])" for w in ascii_words] + [re.escape(w) for w in other]
    return "|".join(parts)


def labels(**kinds: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern whose named groups are the label kinds: `labels(passport=("护照", "passport"))`."""
    return re.compile("|".join(f"(?P<{kind}>{_pattern(words)})" for kind, words in kinds.items()), re.IGNORECASE)


BUSINESS_ONLY = labels(business=BUSINESS)
_BUSINESS_RIGHT_BEFORE = re.compile(f"(?:{_pattern(BUSINESS)}){_GLUE}$", re.IGNORECASE)


def clause_before(text: str, start: int, window: int = 24) -> str:
    """The text of the current clause in the `window` characters before `start`."""
    before = text[max(0, start - window):start]
    cuts = [m.end() for m in _BREAK.finditer(before)]
    return before[cuts[-1]:] if cuts else before


def nearest_label(text: str, start: int, pattern: re.Pattern[str] = BUSINESS_ONLY, window: int = 24) -> str | None:
    """The kind (named group) of the label nearest before `start` in its clause, or None."""
    found = list(pattern.finditer(clause_before(text, start, window)))
    return found[-1].lastgroup if found else None


def after(text: str, end: int, pattern: re.Pattern[str], window: int = 12) -> str | None:
    """The kind of the first label in the `window` characters after `end`, within the clause."""
    following = _BREAK.split(text[end:end + window], maxsplit=1)[0]
    m = pattern.search(following)
    return m.lastgroup if m else None


def is_business(text: str, start: int) -> bool:
    """True when the candidate at `start` comes right after an order, invoice, product, part, version...
    label ("订单号：", "Invoice #", "Part ", "version ")."""
    return _BUSINESS_RIGHT_BEFORE.search(clause_before(text, start, 32)) is not None
