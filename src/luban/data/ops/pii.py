"""PII desensitization over records, using the guard layer's detectors (the same code guards the
gateway). Actions: `mask` (each character -> '*', length kept), `tag` (span -> `[CN_MOBILE]`),
`drop` (the record goes to `rejected` with the PII types found). Counts per type land in the stats.
`policy: NAME` takes the detector types from that guard policy's `pii` scanner (the same YAML that guards
the gateway), so one list of types governs both."""

from __future__ import annotations

from luban.data import records as R
from luban.data.ops.base import Batch, Filter
from luban.guard.detectors import load, redact, scan
from luban.guard.policy import get_policy
from luban.guard.scanners.pii import PII as PIIScanner

ACTIONS = ("mask", "tag", "drop")


class PII(Filter):
    """types: detector names (default: all of luban.guard.detectors.DETECTORS)."""

    name = "pii"

    def __init__(self, action: str = "mask", types: list[str] | None = None, policy: str | None = None) -> None:
        super().__init__()
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, got '{action}'")
        self.action = action
        if policy:
            pol = get_policy(policy)
            scanners = [s for s in pol.input + pol.output if isinstance(s, PIIScanner)]
            if not scanners:
                raise ValueError(f"guard policy '{policy}' has no pii scanner to take the types from")
            self.detectors = scanners[0].detectors
        else:
            self.detectors = load(types)

    def process(self, batch: Batch) -> tuple[Batch, Batch]:
        verdicts: list[bool | tuple[bool, str]] = []
        for rec in batch:
            matches = scan(rec[R.TEXT], self.detectors)
            if not matches:
                verdicts.append(True)
                continue
            kinds = sorted({m.type for m in matches})
            for m in matches:
                self.stats.tags[m.type] += 1
            if self.action == "drop":
                verdicts.append((False, "pii: " + ", ".join(kinds)))
                continue
            rec[R.TEXT] = redact(rec[R.TEXT], matches, self.action)
            rec["pii"] = ",".join(kinds)
            self.stats.modified += 1
            verdicts.append(True)
        return self.apply_verdicts(batch, verdicts)
