"""Near-duplicate removal with MinHash-LSH, keeping one document per cluster.

Defaults follow the literature: word 5-grams (Gopher, datatrove) with Han characters as words,
so Chinese gets character 5-grams; 128 permutations; Jaccard threshold 0.8 with bands chosen to
minimise false positives + negatives (datasketch's method); candidate pairs verified against the
estimated Jaccard; clusters by connected components; the earliest document of a cluster is kept.

Signatures are computed per batch in the executor's workers (`process`), so both cores share the
costly part; `select` in the driver bands, verifies and clusters the whole matrix at once.
"""

from __future__ import annotations

import numpy as np

from luban.data import records as R
from luban.data.ops.base import Batch, GlobalOperator
from luban.data.ops.dedup.exact import where
from luban.data.ops.dedup.lsh import near_duplicate_clusters
from luban.data.ops.dedup.shingles import shingle_hashes
from luban.data.ops.dedup.signatures import BACKENDS

KEY = "_minhash"


class MinHashDedup(GlobalOperator):
    name = "minhash_dedup"

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

    def select(self, records: Batch) -> tuple[Batch, Batch]:
        self.stats.seen += len(records)
        if not records:
            return [], []
        missing = [i for i, rec in enumerate(records) if KEY not in rec]
        if missing:
            sig_missing = self.signatures([records[i][R.TEXT] for i in missing])
            for i, row in zip(missing, sig_missing):
                records[i][KEY] = row.tobytes()
        sig = np.frombuffer(b"".join(rec.pop(KEY) for rec in records), dtype=np.uint32)
        sig = sig.reshape(len(records), self.num_perm)
        label = near_duplicate_clusters(sig, self.threshold)
        kept: Batch = []
        rejected: Batch = []
        reason = f"near duplicate (Jaccard >= {self.threshold})"
        for i, rec in enumerate(records):
            if label[i] == i:
                kept.append(rec)
            else:
                out = R.reject(rec, self.label, reason)
                out["duplicate_of"] = where(records[label[i]])
                rejected.append(out)
        self.stats.kept += len(kept)
        if rejected:
            self.stats.reasons[reason] += len(rejected)
            self.stats.tags["clusters"] += len(np.unique(label[label != np.arange(len(label))]))
        return kept, rejected
