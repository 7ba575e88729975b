"""Shingles for near-duplicate detection: word n-grams, with every Han character a word.

One tokenizer for both scripts: English gives word 5-grams (the usual setting of Gopher, datatrove
and Data-Juicer), Chinese gives character 5-grams (Data-Juicer's character-level shingling), and
mixed text gets both. Words are hashed once each (xxh3, so hashes are the same in every process
and every run) and n-grams are combined in numpy over the whole batch, not per document.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import xxhash

from luban.data.ops.quality.words import HAN

_TOKEN = re.compile(rf"[{HAN}]|[^\W{HAN}]+")
# Odd 64-bit multipliers, one per position in the n-gram, so "a b" and "b a" hash differently.
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x27D4EB2F165667C5, 0x94D049BB133111EB,
                 0xBF58476D1CE4E5B9, 0x2545F4914F6CDD1D], dtype=np.uint64)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def shingle_hashes(texts: list[str], n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(flat uint64 shingle hashes, int64 offsets of len(texts)+1). A text shorter than `n` words
    gives one shingle of all its words; an empty text gives none."""
    if not 1 <= n <= len(_MIX):
        raise ValueError(f"n-gram size must be 1..{len(_MIX)}, got {n}")
    toks = [tokens(t) for t in texts]
    lens = np.fromiter(map(len, toks), dtype=np.int64, count=len(toks))
    flat = list(itertools.chain.from_iterable(toks))
    h = np.fromiter(map(xxhash.xxh3_64_intdigest, map(str.encode, flat)), dtype=np.uint64, count=len(flat))
    ends = np.cumsum(lens)
    starts = ends - lens
    doc_end = np.repeat(ends, lens)  # for each word, the end of its document
    pos = np.arange(len(h), dtype=np.int64)
    g = np.zeros(len(h), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            idx = pos + k
            valid = idx < doc_end
            g[valid] += h[idx[valid]] * _MIX[k]
    # keep positions whose full window fits, plus the first word of documents shorter than n
    doc_len = np.repeat(lens, lens)
    keep = (pos + n <= doc_end) | ((doc_len < n) & (pos == np.repeat(starts, lens)))
    counts = np.where(lens >= n, lens - n + 1, np.minimum(lens, 1))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return g[keep], offsets
