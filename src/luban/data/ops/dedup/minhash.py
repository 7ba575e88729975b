"""Near-duplicate removal with MinHash-LSH, keeping one document per cluster.

Defaults follow the literature: word 5-grams (Gopher, datatrove) with Han characters as words,
so Chinese gets character 5-grams; 128 permutations; Jaccard threshold 0.8 with bands chosen to
minimise false positives + negatives (datasketch's method); candidate pairs verified against the
estimated Jaccard; clusters by connected components; the earliest document of a cluster is kept.

Signatures are computed per batch in the executor's workers (`process`), so both cores share the
costly part; `select_keys` in the driver bands, verifies and clusters the whole matrix at once, and
sees nothing else (num_perm x 4 bytes per record: 92 MB at 180,000 documents).
"""

from __future__ import annotations

import numpy as np

from luban.data import records as R
from luban.data.ops.base import Batch, GlobalOperator
from luban.data.ops.dedup.lsh import near_duplicate_clusters
from luban.data.ops.dedup.shingles import shingle_hashes
from luban.data.ops.dedup.signatures import BACKENDS

KEY = "_minhash"


class MinHashDedup(GlobalOperator):
    name = "minhash_dedup"
    key = KEY

    def __init__(self, threshold: float = 0.8, num_perm: int = 128, ngram: int = 5, seed: int = 1,
                 backend: str = "numpy") -> None:
        super().__init__()
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got '{backend}'")
        self.threshold, self.num_perm, self.ngram, self.seed = threshold, num_perm, ngram, seed
        self.backend = backend

    def signatures(self, texts: list[str]) -> np.ndarray:
        flat, offsets = shingle_hashes(texts, self.ngram)
        return BACKENDS[self.backend](flat, offsets, self.num_perm, self.seed)

    def process(self, batch: Batch) -> tuple[Batch, Batch]:
        sig = self.signatures([rec[R.TEXT] for rec in batch])
        for rec, row in zip(batch, sig):
            rec[KEY] = row.tobytes()
        return batch, []

    def reason(self) -> str:
        return f"near duplicate (Jaccard >= {self.threshold})"

    def select_keys(self, keys: np.ndarray) -> np.ndarray:
        n = len(keys)
        self.stats.seen += n
        if not n:
            return np.empty(0, dtype=np.int64)
        label = near_duplicate_clusters(keys.view(np.uint32).reshape(n, self.num_perm), self.threshold)
        dropped = label != np.arange(n)
        self.stats.kept += n - int(dropped.sum())
        if dropped.any():
            self.stats.reasons[self.reason()] += int(dropped.sum())
            self.stats.tags["clusters"] += len(np.unique(label[dropped]))
        return label
