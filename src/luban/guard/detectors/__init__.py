"""PII detectors shared by data desensitization and the guard layer (one code path, two uses).

`scan(text)` runs the chosen detectors, resolves overlaps (higher priority, then longer span wins:
an ID number is not also reported as a bank card or phone), and returns matches in text order.
`redact(text, matches, action)` masks (`*` per character, keeping the length) or tags (`[EMAIL]`).
Adding a detector is one module and one line in DETECTORS.
"""

from __future__ import annotations

from luban.core.registry import Registry
from luban.guard.detectors.base import Detector, Match
from luban.guard.detectors.windows import Windows

DETECTORS: Registry[type[Detector]] = Registry("PII type", {
    "email": "luban.guard.detectors.email:Email",
    "cn_mobile": "luban.guard.detectors.phone:CNMobile",
    "cn_landline": "luban.guard.detectors.phone:CNLandline",
    "phone": "luban.guard.detectors.phone:InternationalPhone",
    "cn_id": "luban.guard.detectors.cn_id:CNResidentID",
    "bank_card": "luban.guard.detectors.bank_card:BankCard",
    "ipv4": "luban.guard.detectors.ip:IPv4",
    "ipv6": "luban.guard.detectors.ip:IPv6",
    "passport": "luban.guard.detectors.passport:Passport",
    "licence_plate": "luban.guard.detectors.plate:LicencePlate",
})

__all__ = ["DETECTORS", "Detector", "Match", "load", "redact", "scan"]


def load(types: list[str] | None = None) -> list[Detector]:
    """Detector instances for `types` (all when None); an unknown type is a ConfigError with a did-you-mean."""
    return [DETECTORS.get(name)() for name in (DETECTORS.names() if types is None else types)]


def scan(text: str, detectors: list[Detector] | None = None) -> list[Match]:
    """Every detector's matches, each detector searching only the windows around its seed
    (`luban.guard.detectors.windows`: the same matches as a search of the whole text, found faster)."""
    found: list[tuple[int, Match]] = []
    views = Windows(text)
    for det in detectors if detectors is not None else load():
        for start, end in views.of(det.seed):
            found.extend((det.priority, m) for m in det.find(text, start, end))
    if not found:
        return []
    found.sort(key=lambda pm: (-pm[0], -(pm[1].end - pm[1].start), pm[1].start))
    taken: list[Match] = []
    for _, m in found:
        if all(m.end <= t.start or m.start >= t.end for t in taken):
            taken.append(m)
    return sorted(taken, key=lambda m: m.start)


def redact(text: str, matches: list[Match], action: str = "mask") -> str:
    """`mask`: each character of the span -> '*'; `tag`: the span -> `[TYPE]`."""
    out, pos = [], 0
    for m in matches:
        out.append(text[pos:m.start])
        out.append("*" * (m.end - m.start) if action == "mask" else f"[{m.type.upper()}]")
        pos = m.end
    out.append(text[pos:])
    return "".join(out)
