"""Near-duplicate removal with MinHash-LSH, keeping one document per cluster.

Defaults: Han characters count as words, so Chinese gets character shingles; word 5-grams for documents
(Gopher, datatrove) and word bigrams for texts under 512 words or characters (`ngram: auto`; why in
`shingles.py`); 128 permutations; Jaccard threshold 0.7 (Data-Juicer's default; datatrove's and FineWeb's
14 bands x 8 rows put the LSH threshold at 0.72); LSH bands tuned for 0.5 so that pairs near the threshold
are not lost in banding (`lsh.near_duplicate_clusters`), every candidate pair verified against the
estimated Jaccard; clusters by connected components; the earliest document of a cluster is kept. With
these defaults a copy of a 15-word or 20-character text with one word or character in 25 replaced is
found (bench/data_dedup_short.py, docs/benchmarks.md).

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
# Texts of fewer words (Han characters) than this are shingled by word bigrams under `ngram: auto`: 512
# covers FAQ rows, titles, chat turns and Chinese paragraphs up to the 400 characters of the short-text
# benchmark, while web pages and documents keep the literature's 5-grams.
SHORT_TEXT = 512


class MinHashDedup(GlobalOperator):
    name = "minhash_dedup"
    key = KEY

    def __init__(self, threshold: float = 0.7, num_perm: int = 128, ngram: int | str = "auto", seed: int = 1,
                 backend: str = "numpy", short_text: int = SHORT_TEXT) -> None:
        """ngram: shingle size in words (Han characters), or "auto": bigrams for texts of fewer than
        `short_text` words, 5-grams for longer ones. An explicit ngram applies to every length."""
        super().__init__()
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got '{backend}'")
        if ngram != "auto" and (isinstance(ngram, bool) or not isinstance(ngram, int) or not 1 <= ngram <= 10):
            raise ValueError(f"ngram must be 'auto' or a whole number of words from 1 to 10, got {ngram!r}")
        if isinstance(short_text, bool) or not isinstance(short_text, int) or short_text < 0:
            raise ValueError(f"short_text must be a whole number of words >= 0, got {short_text!r}")
        self.threshold, self.num_perm, self.seed = threshold, num_perm, seed
        self.ngram, self.short_below = (5, short_text) if ngram == "auto" else (int(ngram), 0)
        self.backend = backend

    def signatures(self, texts: list[str]) -> np.ndarray:
        flat, offsets = shingle_hashes(texts, self.ngram, self.short_below)
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
