"""Invisible and confusable Unicode: characters that hide text from a human reader or disguise a word.

- invisible: zero-width spaces and joiners, bidi controls, tag characters (U+E0000 block, which can
  carry a whole hidden instruction), variation selectors. A zero-width joiner between two emoji is how
  family and profession emoji are written, so it is left alone. Masking removes them.
- confusable: a word that mixes Latin letters with Cyrillic or Greek lookalikes (`pаypal` with a Cyrillic
  `а`). Masking replaces the lookalikes with their Latin letters.
"""

from __future__ import annotations

import re
import unicodedata
from typing import ClassVar

from luban.guard.normalize import HOMOGLYPHS, INVISIBLE, Text
from luban.guard.scanners.base import Action, Scanner, ScannerConfig
from luban.guard.verdict import Finding

_MIXED_WORD = re.compile(r"[^\W\d_]{2,}")


def _is_emoji(ch: str) -> bool:
    return unicodedata.category(ch) == "So" or 0x1F000 <= ord(ch) <= 0x1FAFF


class UnicodeConfig(ScannerConfig):
    action: Action = "mask"
    invisible: bool = True
    confusable: bool = True


class Unicode(Scanner):
    name = "unicode"
    Config: ClassVar[type[ScannerConfig]] = UnicodeConfig

    def scan(self, text: Text) -> list[Finding]:
        raw = text.raw
        if raw.isascii():
            return []
        assert isinstance(self.config, UnicodeConfig)
        out: list[Finding] = []
        if self.config.invisible:
            for m in INVISIBLE.finditer(raw):
                i = m.start()
                if raw[i] == "\u200d" and 0 < i < len(raw) - 1 and _is_emoji(raw[i - 1]) and _is_emoji(raw[i + 1]):
                    continue
                if raw[i] in "\ufe0e\ufe0f" and i > 0 and _is_emoji(raw[i - 1]):  # emoji presentation selectors
                    continue
                name = unicodedata.name(raw[i], f"U+{ord(raw[i]):04X}")
                out.append(Finding("prompt_injection", i, i + 1, reason=f"invisible {name}", replacement=""))
        if self.config.confusable:
            for m in _MIXED_WORD.finditer(raw):
                word = m.group()
                if word.isascii():
                    continue
                mapped = word.translate(HOMOGLYPHS)
                latin = sum(c.isascii() for c in word)
                if mapped != word and latin and mapped.isascii():
                    out.append(Finding("prompt_injection", m.start(), m.end(),
                                       reason=f"confusable letters in '{word}'", replacement=mapped))
        return out
