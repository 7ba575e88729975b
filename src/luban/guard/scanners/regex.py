"""Regex scanner: a policy's own patterns (ticket numbers, internal host names, code words).

Each pattern has its category and, optionally, its own action and mask replacement; patterns are
compiled once when the policy loads, so a bad one is a one-line error naming it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from luban.core.errors import ConfigError
from luban.guard.normalize import Text
from luban.guard.scanners.base import Action, Scanner, ScannerConfig
from luban.guard.verdict import Finding


class Pattern(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pattern: str
    category: str = "prohibited"
    action: Action | None = None
    replacement: str | None = None
    ignore_case: bool = True


class RegexConfig(ScannerConfig):
    patterns: list[Pattern]


class Regex(Scanner):
    name = "regex"
    Config: ClassVar[type[ScannerConfig]] = RegexConfig

    def __init__(self, config: ScannerConfig, base_dir: Path | None = None) -> None:
        super().__init__(config, base_dir)
        assert isinstance(config, RegexConfig)
        self.compiled = []
        for i, p in enumerate(config.patterns):
            try:
                rx = re.compile(p.pattern, re.IGNORECASE if p.ignore_case else 0)
            except re.error as err:
                raise ConfigError(f"regex.patterns[{i}]: {p.pattern!r} is not a valid regex ({err})",
                                  "fix the pattern") from None
            self.compiled.append((rx, p))

    def scan(self, text: Text) -> list[Finding]:
        return [Finding(p.category, m.start(), m.end(), reason=f"pattern {p.pattern!r}", action=p.action,
                        replacement=p.replacement)
                for rx, p in self.compiled for m in rx.finditer(text.raw) if m.end() > m.start()]
