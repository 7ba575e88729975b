"""A PII detector finds spans of one type in text; validation (checksums, dates) happens here too,
so a match is a real finding and not only a regex hit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Protocol

from luban.guard.detectors.windows import Seed


@dataclass(frozen=True)
class Match:
    type: str  # detector name: email, cn_mobile, cn_id, ...
    start: int
    end: int
    text: str


class Detector(Protocol):
    name: ClassVar[str]
    priority: ClassVar[int]  # higher wins when two detectors claim overlapping spans
    seed: ClassVar[Seed]  # a pattern every match contains: only the windows around its hits are searched

    def find(self, text: str, start: int = 0, end: int | None = None) -> Iterator[Match]:
        """Matches that the detector's regex finds in text[start:end] (context rules read all of `text`)."""
        ...
