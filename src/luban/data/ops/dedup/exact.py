"""Exact deduplication on a normalized hash: case, width, whitespace and punctuation do not count."""

from __future__ import annotations

import re
import unicodedata

import xxhash

from luban.data import records as R
from luban.data.ops.base import Batch, GlobalOperator

_NOISE = re.compile(r"[\W_]+")
KEY = "_exact"


def normalized_hash(text: str) -> int:
    norm = _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())
    return xxhash.xxh3_128_intdigest(norm.encode("utf-8"))


def where(rec: R.Record) -> str:
    return f"{rec.get(R.SOURCE)}:{rec.get(R.LINE)}"


class ExactDedup(GlobalOperator):
    """Keep the first record of every normalized text; later copies go to `rejected` with `duplicate_of`."""

    name = "exact_dedup"

    def process(self, batch: Batch) -> tuple[Batch, Batch]:
        for rec in batch:
            rec[KEY] = normalized_hash(rec[R.TEXT])
        return batch, []

    def select(self, records: Batch) -> tuple[Batch, Batch]:
        first: dict[int, R.Record] = {}
        kept: Batch = []
        rejected: Batch = []
        for rec in records:
            key = rec.pop(KEY, None)
            if key is None:
                key = normalized_hash(rec[R.TEXT])
            original = first.setdefault(key, rec)
            if original is rec:
                kept.append(rec)
            else:
                out = R.reject(rec, self.label, "exact duplicate")
                out["duplicate_of"] = where(original)
                rejected.append(out)
        self.stats.seen += len(records)
        self.stats.kept += len(kept)
        if rejected:
            self.stats.reasons["exact duplicate"] += len(rejected)
        return kept, rejected
