"""Safety lexicon filter over records, with the guard layer's lexicon scanner (Aho-Corasick).

Actions: `drop` (record to `rejected`, reason names the categories), `flag` (keep it, add a
`safety` field with the categories), `mask` (replace the terms with '*'). Hits per category land
in the stats; `min_risk` ignores terms below that level; `skip_negated` ignores a term right after a
negation or warning ("we never sell personal data", "谨防杀猪盘"), see `luban.guard.scanners.lexicon`.
"""

from __future__ import annotations

from luban.data import records as R
from luban.data.ops.base import Batch, Filter
from luban.guard.scanners.lexicon import LexiconScanner

ACTIONS = ("drop", "flag", "mask")


class Safety(Filter):
    name = "safety"

    def __init__(self, action: str = "drop", min_risk: str = "medium", lexicons: list[str] | None = None,
                 skip_negated: bool = False) -> None:
        super().__init__()
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, got '{action}'")
        self.action = action
        self.scanner = LexiconScanner(lexicons, min_risk=min_risk, skip_negated=skip_negated)

    def process(self, batch: Batch) -> tuple[Batch, Batch]:
        verdicts: list[bool | tuple[bool, str]] = []
        for rec in batch:
            hits = self.scanner.scan(rec[R.TEXT])
            if not hits:
                verdicts.append(True)
                continue
            cats = sorted({h.category for h in hits})
            for h in hits:
                self.stats.tags[h.category] += 1
            if self.action == "drop":
                verdicts.append((False, "unsafe: " + ", ".join(cats)))
                continue
            if self.action == "mask":
                text = rec[R.TEXT]
                for h in sorted(hits, key=lambda h: h.start, reverse=True):
                    text = text[:h.start] + "*" * (h.end - h.start) + text[h.end:]
                rec[R.TEXT] = text
            rec["safety"] = ",".join(cats)
            self.stats.modified += 1
            verdicts.append(True)
        return self.apply_verdicts(batch, verdicts)
