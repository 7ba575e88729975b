"""Shingles for near-duplicate detection: word n-grams, with every Han character a word.

One tokenizer for both scripts: English gives word n-grams, Chinese character n-grams (Data-Juicer's
character-level shingling), and mixed text gets both. Words are hashed once each (xxh3, so hashes are
the same in every process and every run) and n-grams are combined in numpy over the whole batch, not
per document.

The n-gram size may depend on the text's length (`short_below`). Long documents take 5-grams (Gopher,
datatrove, Data-Juicer). Short texts cannot: one replaced word changes n of a text's m - n + 1
shingles, so the expected Jaccard similarity after replacing a fraction p of the words is about
(1 - n p) / (1 + n p): 0.67 for 5-grams at p = 1/25, whatever the length, and 0.375 for a 15-word text with
one word changed. Shingles should be short enough that a given shingle is rare in a document of that
size (Leskovec, Rajaraman, Ullman, "Mining of Massive Datasets", 3rd ed., sec. 3.2.2: short documents,
short shingles). Short texts take word (Chinese: character) bigrams: about 0.85 at p = 1/25, and still
ordered, where single words would make any two texts over one small vocabulary (a help desk's, a
product catalogue's) look alike.
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


def shingle_hashes(texts: list[str], n: int = 5, short_below: int = 0, short_n: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(flat uint64 shingle hashes, int64 offsets of len(texts)+1). Texts of fewer than `short_below`
    words give `short_n`-grams, longer ones `n`-grams. A text shorter than its n gives one shingle of all
    its words; an empty text gives none."""
    for size in (n, short_n):
        if not 1 <= size <= len(_MIX):
            raise ValueError(f"n-gram size must be 1..{len(_MIX)}, got {size}")
    toks = [tokens(t) for t in texts]
    lens = np.fromiter(map(len, toks), dtype=np.int64, count=len(toks))
    sizes = np.where(lens < short_below, short_n, n)  # n-gram size of each text
    flat = list(itertools.chain.from_iterable(toks))
    h = np.fromiter(map(xxhash.xxh3_64_intdigest, map(str.encode, flat)), dtype=np.uint64, count=len(flat))
    ends = np.cumsum(lens)
    starts = ends - lens
    doc_end = np.repeat(ends, lens)  # for each word, the end of its document
    word_n = np.repeat(sizes, lens)  # for each word, the n-gram size of its document
    pos = np.arange(len(h), dtype=np.int64)
    with np.errstate(over="ignore"):
        g = h * _MIX[0]
        for k in range(1, int(sizes.max(initial=1))):
            idx = pos + k
            valid = (idx < doc_end) & (k < word_n)
            g[valid] += h[idx[valid]] * _MIX[k]
    # keep positions whose full window fits, plus the first word of documents shorter than their n
    doc_len = np.repeat(lens, lens)
    keep = (pos + word_n <= doc_end) | ((doc_len < word_n) & (pos == np.repeat(starts, lens)))
    counts = np.where(lens >= sizes, lens - sizes + 1, np.minimum(lens, 1))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return g[keep], offsets
