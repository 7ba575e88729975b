"""Operator plug-ins: mappers change records, filters keep or drop them, global operators see all.

Design choices (after datatrove):
- an operator is a tiny class with one method: `map(text) -> text` (Mapper), `filter(rec) -> bool |
  (False, reason)` (Filter), or `select(records)` (GlobalOperator, e.g. dedup); the base classes do
  the counting per operator and reason and hand dropped records, with their reason, to `rejected`;
- operators work on a batch (`list[Record]`); one may override `process` to vectorise a batch;
- a GlobalOperator's `process` runs in the executor's workers (e.g. computing signatures) and it
  decides once in the driver over every record that reached it: on their keys alone (`select_keys`),
  or on the records themselves (`select`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from luban.data import records as R

Batch = list[R.Record]
Verdict = bool | tuple[bool, str]


@dataclass
class OpStats:
    """Counts of one operator: records in and out, records changed, drops per reason, tags per type."""

    seen: int = 0
    kept: int = 0
    modified: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    tags: Counter[str] = field(default_factory=Counter)  # e.g. PII found per type, lexicon hits per category

    def merge(self, other: OpStats) -> None:
        self.seen += other.seen
        self.kept += other.kept
        self.modified += other.modified
        self.reasons.update(other.reasons)
        self.tags.update(other.tags)

    def to_dict(self) -> dict[str, Any]:
        return {"in": self.seen, "out": self.kept, "dropped": self.seen - self.kept, "modified": self.modified,
                "reasons": dict(self.reasons.most_common()), "tags": dict(self.tags.most_common())}


@runtime_checkable
class Operator(Protocol):
    name: ClassVar[str]
    label: str
    stats: OpStats

    def process(self, batch: Batch) -> tuple[Batch, Batch]:
        """Return (kept, rejected); rejected records carry `reason` and `operator`."""
        ...


class Mapper:
    """Changes the text of each record. Override `map` (text only) or `map_record` (whole record)."""

    name: ClassVar[str] = ""

    def __init__(self) -> None:
        self.stats = OpStats()
        self.label = self.name  # the recipe sets `name#2` for a repeated operator

    def map(self, text: str) -> str:
        return text

    def map_record(self, rec: R.Record) -> R.Record:
        text = rec[R.TEXT]
        new = self.map(text)
        if new != text:
            rec[R.TEXT] = new
            self.stats.modified += 1
        return rec

    def process(self, batch: Batch) -> tuple[Batch, Batch]:
        out = [self.map_record(rec) for rec in batch]
        self.stats.seen += len(batch)
        self.stats.kept += len(out)
        return out, []


class Filter:
    """Keeps or drops each record. Override `filter(rec) -> True | False | (False, reason)`."""

    name: ClassVar[str] = ""

    def __init__(self) -> None:
        self.stats = OpStats()
        self.label = self.name  # the recipe sets `name#2` for a repeated operator

    def filter(self, rec: R.Record) -> Verdict:
        return True

    def process(self, batch: Batch) -> tuple[Batch, Batch]:
        return self.apply_verdicts(batch, [self.filter(rec) for rec in batch])

    def apply_verdicts(self, batch: Batch, verdicts: list[Verdict]) -> tuple[Batch, Batch]:
        kept: Batch = []
        rejected: Batch = []
        for rec, verdict in zip(batch, verdicts):
            ok, reason = (verdict, self.name) if isinstance(verdict, bool) else verdict
            if ok:
                kept.append(rec)
            else:
                rejected.append(R.reject(rec, self.label, reason))
                self.stats.reasons[reason] += 1
        self.stats.seen += len(batch)
        self.stats.kept += len(kept)
        return kept, rejected


class GlobalOperator:
    """Needs every record at once (dedup). `process` prepares per batch in the workers (keys go into
    private `_` fields); the driver decides. Two ways to decide, override one:

    - keyed (`key` names the private field; exact and MinHash dedup): `process` stores fixed-size bytes
      under `key` and `select_keys` sees only those, one row per record, never the records. The curate
      driver spills the records to disk meanwhile, so its memory is the keys, not the corpus;
    - whole records (`key = ""`; substring dedup, which rewrites texts): `select(records)`.
    """

    name: ClassVar[str] = ""
    key: ClassVar[str] = ""  # the private field `process` fills; "" = `select` needs whole records

    def __init__(self) -> None:
        self.stats = OpStats()
        self.label = self.name  # the recipe sets `name#2` for a repeated operator

    def process(self, batch: Batch) -> tuple[Batch, Batch]:
        return batch, []

    def reason(self) -> str:
        """The `reason` of a record that `select_keys` drops."""
        return self.name

    def select_keys(self, keys: np.ndarray) -> np.ndarray:
        """keys: (records, key bytes) uint8, in input order -> int64 label per record: its own index
        to keep it, else the index of the kept record it duplicates. Counts into `self.stats`."""
        raise NotImplementedError(f"{self.name} decides on whole records (select)")

    def select(self, records: Batch) -> tuple[Batch, Batch]:
        """(kept, rejected) of all `records`; a keyed operator decides with `select_keys`."""
        if not self.key:
            self.stats.seen += len(records)
            self.stats.kept += len(records)
            return records, []
        missing = [rec for rec in records if self.key not in rec]
        if missing:
            self.process(missing)
        keys = np.frombuffer(b"".join(rec.pop(self.key) for rec in records), dtype=np.uint8)
        label = self.select_keys(keys.reshape(len(records), -1))
        kept: Batch = []
        rejected: Batch = []
        for i, rec in enumerate(records):
            if label[i] == i:
                kept.append(rec)
            else:
                rejected.append(duplicate(rec, self.label, self.reason(), where(records[label[i]])))
        return kept, rejected


def where(rec: R.Record) -> str:
    """`source:line` of a record, as `duplicate_of` names the copy that was kept."""
    return f"{rec.get(R.SOURCE)}:{rec.get(R.LINE)}"


def duplicate(rec: R.Record, operator: str, reason: str, of: str) -> R.Record:
    """`rec` rejected by `operator` as a duplicate of the kept record at `of` (`where` of it)."""
    out = R.reject(rec, operator, reason)
    out["duplicate_of"] = of
    return out
