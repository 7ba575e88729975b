"""Exact deduplication on a normalized hash: case, width, whitespace and punctuation do not count.

The key is the 16-byte xxh3-128 digest of the normalized text, computed in the workers; the driver
keeps the first record of every digest and sees nothing but the digests (`select_keys`).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import xxhash

from luban.data import records as R
from luban.data.ops.base import Batch, GlobalOperator

_NOISE = re.compile(r"[\W_]+")
KEY = "_exact"


def normalized_hash(text: str) -> bytes:
    norm = _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())
    return xxhash.xxh3_128_digest(norm.encode("utf-8"))


class ExactDedup(GlobalOperator):
    """Keep the first record of every normalized text; later copies go to `rejected` with `duplicate_of`."""

    name = "exact_dedup"
    key = KEY

    def process(self, batch: Batch) -> tuple[Batch, Batch]:
        for rec in batch:
            rec[KEY] = normalized_hash(rec[R.TEXT])
        return batch, []

    def reason(self) -> str:
        return "exact duplicate"

    def select_keys(self, keys: np.ndarray) -> np.ndarray:
        n = len(keys)
        first: dict[bytes, int] = {}
        buf, width = keys.tobytes(), keys.shape[1] if keys.ndim == 2 else 0
        label = np.fromiter((first.setdefault(buf[i * width:(i + 1) * width], i) for i in range(n)),
                            dtype=np.int64, count=n)
        self.stats.seen += n
        self.stats.kept += len(first)
        if n > len(first):
            self.stats.reasons[self.reason()] += n - len(first)
        return label
