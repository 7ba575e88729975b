"""What scanners and policies return.

A scanner reports `Finding`s (what it found, where, how sure); the policy turns them into one `Verdict`
per scanner with the action the policy gives that scanner, then one `Decision` for the text: the
strongest action wins (block > mask > flag > allow), masked text included. The gateway's hook copies
verdicts into its own `CallContext.verdicts`; the fields are the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ACTIONS = ("allow", "flag", "mask", "block")
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")
_LETTER = re.compile(r"[^\W\d_]")
STRENGTH = {a: i for i, a in enumerate(ACTIONS)}


@dataclass(frozen=True)
class Finding:
    """One thing a scanner found in the original text, [start, end)."""

    category: str
    start: int
    end: int
    reason: str = ""
    score: float = 1.0
    action: str | None = None  # set when the scanner decides the action per finding (lexicon risk levels)
    replacement: str | None = None  # what a mask puts here (None: one '*' per character)


@dataclass
class Verdict:
    """One scanner's judgement of a text: allow / mask / block / flag, with why and where."""

    action: str
    scanner: str
    category: str | None = None
    reason: str | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)
    stage: str = "input"  # input | output
    score: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {"action": self.action, "scanner": self.scanner, "category": self.category,
                "reason": self.reason, "spans": [list(s) for s in self.spans], "stage": self.stage,
                "score": self.score}


@dataclass
class Decision:
    """The policy's answer for one text: the strongest action, the text after masks, every verdict."""

    action: str
    text: str
    verdicts: list[Verdict] = field(default_factory=list)
    lang: str = "en"
    refusal: str | None = None  # the message to answer with when action == "block"
    masks: list[Finding] = field(default_factory=list)  # the spans `text` had replaced

    @property
    def blocked(self) -> bool:
        return self.action == "block"

    @property
    def category(self) -> str | None:
        """The category of the verdict that decided (the first with the strongest action)."""
        for v in self.verdicts:
            if v.action == self.action and v.category:
                return v.category
        return None


def strongest(actions: list[str]) -> str:
    return max(actions, key=STRENGTH.__getitem__, default="allow")


def apply_masks(text: str, findings: list[Finding]) -> str:
    """`text` with each finding's span replaced (overlaps merged; the first finding's replacement wins)."""
    out: list[str] = []
    pos = 0
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if f.end <= pos:
            continue
        start = max(f.start, pos)
        out.append(text[pos:start])
        out.append(f.replacement if f.replacement is not None else "*" * (f.end - start))
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def language(text: str) -> str:
    """"zh" when a fair share of the letters are CJK ideographs, else "en" (the refusal's language)."""
    sample = text[:2000]
    if sample.isascii():
        return "en"
    cjk = len(_CJK.findall(sample))
    if not cjk:
        return "en"
    letters = len(_LETTER.findall(sample))
    return "zh" if cjk >= 0.2 * max(letters, 1) or cjk >= 10 else "en"
