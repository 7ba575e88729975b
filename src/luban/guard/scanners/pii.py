"""PII scanner over the guard's detectors (the same ones the data layer's `pii` operator uses).

Full-width digits (`１３８…`) are read through NFKC, so they are found and masked in place.
Sensitive personal information in the sense of PIPL art. 28 (ID numbers, bank cards, passports, per the
GB/T 35273 examples) is named as such in the finding's reason.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import ClassVar, Literal

from luban.guard import detectors
from luban.guard.normalize import Text
from luban.guard.scanners.base import Action, Scanner, ScannerConfig
from luban.guard.verdict import Finding

SENSITIVE = frozenset({"cn_id", "bank_card", "passport"})


class PIIConfig(ScannerConfig):
    action: Action = "mask"
    types: list[str] | None = None  # detector names; all when None
    style: Literal["tag", "stars"] = "tag"  # `[CN_MOBILE]` or one '*' per character


class PII(Scanner):
    name = "pii"
    Config: ClassVar[type[ScannerConfig]] = PIIConfig

    def __init__(self, config: ScannerConfig, base_dir: Path | None = None) -> None:
        super().__init__(config, base_dir)
        assert isinstance(config, PIIConfig)
        self.style = config.style
        try:
            self.detectors = detectors.load(config.types)
        except ValueError as err:
            from luban.core.errors import ConfigError

            raise ConfigError(f"pii.types: {err}", "use the names of luban.guard.detectors") from None

    def matches(self, text: Text) -> list[detectors.Match]:
        raw = text.raw
        if not raw.isascii():
            nf = unicodedata.normalize("NFKC", raw)
            if len(nf) == len(raw):
                raw = nf
        return detectors.scan(raw, self.detectors)

    def scan(self, text: Text) -> list[Finding]:
        return [Finding("personal_information", m.start, m.end,
                        reason=f"{m.type}{' (sensitive)' if m.type in SENSITIVE else ''}",
                        replacement=f"[{m.type.upper()}]" if self.style == "tag" else None)
                for m in self.matches(text)]
