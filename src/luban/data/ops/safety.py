"""Safety lexicon filter over records, with the guard layer's lexicon scanner (Aho-Corasick).

Actions: `drop` (record to `rejected`, reason names the categories), `flag` (keep it, add a
`safety` field with the categories), `mask` (replace the terms with '*'). Hits per category land
in the stats; `min_risk` ignores terms below that level; `skip_negated` ignores a term right after a
negation or warning ("we never sell personal data", "谨防杀猪盘"), see `luban.guard.scanners.lexicon`.

`policy: NAME` uses a guard policy instead (the same YAML that guards the gateway; `stage: output` by
default, since training text is what the model will learn to say): what the policy blocks is dropped,
flagged or starred by `action`, and what it masks (personal information, secrets) is masked in any case.
"""

from __future__ import annotations

from luban.data import records as R
from luban.data.ops.base import Batch, Filter
from luban.guard.policy import Policy, get_policy
from luban.guard.scanners.lexicon import LexiconScanner
from luban.guard.verdict import Finding, apply_masks

ACTIONS = ("drop", "flag", "mask")


class Safety(Filter):
    name = "safety"

    def __init__(self, action: str = "drop", min_risk: str = "medium", lexicons: list[str] | None = None,
                 skip_negated: bool = False, policy: str | None = None, stage: str = "output") -> None:
        super().__init__()
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, got '{action}'")
        if stage not in ("input", "output"):
            raise ValueError(f"stage must be input or output, got '{stage}'")
        self.action = action
        self.policy: Policy | None = get_policy(policy) if policy else None
        self.stage = stage
        self.scanner = LexiconScanner(lexicons, min_risk=min_risk, skip_negated=skip_negated) if not policy else None

    def process(self, batch: Batch) -> tuple[Batch, Batch]:
        if self.policy is not None:
            return self._process_policy(batch, self.policy)
        assert self.scanner is not None
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

    def _process_policy(self, batch: Batch, policy: Policy) -> tuple[Batch, Batch]:
        verdicts: list[bool | tuple[bool, str]] = []
        for rec in batch:
            d = policy.scan(rec[R.TEXT], stage=self.stage)
            if d.action in ("allow", "flag"):
                verdicts.append(True)
                continue
            if d.action == "mask":
                rec[R.TEXT] = d.text
                self.stats.modified += 1
                verdicts.append(True)
                continue
            blocked = [v for v in d.verdicts if v.action == "block"]
            cats = sorted({v.category or v.scanner for v in blocked})
            for c in cats:
                self.stats.tags[c] += 1
            if self.action == "drop":
                verdicts.append((False, "unsafe: " + ", ".join(cats)))
                continue
            if self.action == "mask":
                rec[R.TEXT] = apply_masks(rec[R.TEXT], [Finding("", s, e) for v in blocked for s, e in v.spans])
            rec["safety"] = ",".join(cats)
            self.stats.modified += 1
            verdicts.append(True)
        return self.apply_verdicts(batch, verdicts)
