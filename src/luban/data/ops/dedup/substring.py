"""Exact-substring deduplication: remove every span that repeats earlier text, keep the first copy.

ExactSubstr of Lee et al., "Deduplicating Training Data Makes Language Models Better" (ACL 2022,
arXiv:2107.06499): a span of at least 50 tokens that occurs elsewhere in the corpus is a duplicate.
Design choices here:
- the unit is the character (Unicode code point): Chinese has no spaces and curation has no
  tokenizer. Lee et al.'s 50 GPT-2 tokens are ~200 characters of English but ~50-75 of Chinese, so the
  default `min_length=100` characters is a middle for mixed zh/en corpora (about 20 English words, a
  long Chinese sentence); raise it for English-only data, lower it for Chinese-only data;
- the first occurrence stays: a span is removed when the same `min_length`+ characters occur
  earlier in input order (an earlier document, or earlier in the same document ending before the
  span starts, so periodic text keeps one period). Overlapping and adjacent spans are merged;
- exact: every repeated span of length >= k is a union of repeated k-windows; windows are matched
  by 64-bit hash (`windows.py`) and each run of matches is compared with its source text, so a hash
  collision can only keep text, never remove text that does not repeat;
- as with a suffix array, the removal is the union of all later copies: where the first copy of one
  span overlaps a later copy of another, the overlap goes with the later copy;
- nothing vanishes silently: a changed document counts as `modified`, with `chars removed` and
  `spans removed` in the operator's tags; one left with fewer than `min_remaining` non-space
  characters goes to `rejected` whole (original text) with `duplicate_of` naming where its longest
  removed span first occurred.

Cost: the workers hash every window in `process` (both cores); each record then carries 8 bytes per
character to the driver, where `select` holds those hashes (8 B/char), 2 B/char of slice labels,
16 B per repeated character and a bounded sort area (`windows.PART`), then compares each repeated
run with its source once.
"""

from __future__ import annotations

import numpy as np

from luban.data import records as R
from luban.data.ops.base import Batch, GlobalOperator, where
from luban.data.ops.dedup.windows import repeats, window_counts, window_hashes

KEY = "_substr"
Span = tuple[int, int, int]  # start, end (characters), index of the record where it first occurred


def removed_spans(texts: list[str], offsets: np.ndarray, w: np.ndarray, e: np.ndarray, k: int) -> dict[int, list[Span]]:
    """Verified spans to remove per text, merged and in order, from the repeated windows (w, e)."""
    if not len(w):
        return {}
    dw = np.searchsorted(offsets, w, side="right") - 1
    de = np.searchsorted(offsets, e, side="right") - 1
    new_run = np.ones(len(w), dtype=bool)  # a run: consecutive windows copying consecutive windows
    new_run[1:] = (w[1:] != w[:-1] + 1) | (e[1:] != e[:-1] + 1) | (dw[1:] != dw[:-1]) | (de[1:] != de[:-1])
    s = np.flatnonzero(new_run)
    sizes = np.diff(np.append(s, len(w)))
    runs = zip(dw[s].tolist(), (w[s] - offsets[dw[s]]).tolist(), de[s].tolist(), (e[s] - offsets[de[s]]).tolist(),
               sizes.tolist())
    out: dict[int, list[Span]] = {}

    def add(doc: int, start: int, end: int, src: int) -> None:
        spans = out.setdefault(doc, [])
        if spans and start <= spans[-1][1]:
            last = spans[-1]
            spans[-1] = (last[0], max(last[1], end), last[2])
        else:
            spans.append((start, end, src))

    for doc, p, src, q, n in runs:
        span = n + k - 1
        if texts[doc][p:p + span] == texts[src][q:q + span]:
            add(doc, p, p + span, src)
            continue
        for i in range(n):  # a 64-bit hash collision somewhere in this run: check window by window
            if texts[doc][p + i:p + i + k] == texts[src][q + i:q + i + k]:
                add(doc, p + i, p + i + k, src)
    return out


class SubstringDedup(GlobalOperator):
    """Remove spans of `min_length`+ characters that repeat earlier text (the first copy stays)."""

    name = "substring_dedup"

    def __init__(self, min_length: int = 100, min_remaining: int = 20) -> None:
        super().__init__()
        if isinstance(min_length, bool) or not isinstance(min_length, int) or min_length < 1:
            raise ValueError(f"min_length must be a whole number of characters >= 1, got {min_length!r}")
        if isinstance(min_remaining, bool) or not isinstance(min_remaining, int) or min_remaining < 0:
            raise ValueError(f"min_remaining must be a whole number of characters >= 0, got {min_remaining!r}")
        self.min_length, self.min_remaining = min_length, min_remaining

    def process(self, batch: Batch) -> tuple[Batch, Batch]:
        h, off = window_hashes([rec[R.TEXT] for rec in batch], self.min_length)
        for i, rec in enumerate(batch):
            rec[KEY] = h[off[i]:off[i + 1]].tobytes()
        return batch, []

    def select(self, records: Batch) -> tuple[Batch, Batch]:
        self.stats.seen += len(records)
        missing = [rec for rec in records if KEY not in rec]
        if missing:
            self.process(missing)
        texts = [rec[R.TEXT] for rec in records]
        counts = window_counts(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)), self.min_length)
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        hashes = np.empty(offsets[-1], dtype=np.uint64)
        for rec, start, end in zip(records, offsets[:-1].tolist(), offsets[1:].tolist()):
            hashes[start:end] = np.frombuffer(rec.pop(KEY), dtype=np.uint64)  # freed as it is copied
        w, e = repeats(hashes, offsets, self.min_length)
        del hashes
        spans = removed_spans(texts, offsets, w, e, self.min_length)
        kept: Batch = []
        rejected: Batch = []
        reason = f"repeats earlier text (< {self.min_remaining} characters left)"
        for i, rec in enumerate(records):
            doc_spans = spans.get(i)
            if not doc_spans:
                kept.append(rec)
                continue
            text = texts[i]
            parts, prev = [], 0
            for start, end, _ in doc_spans:
                parts.append(text[prev:start])
                prev = end
            parts.append(text[prev:])
            new = "".join(parts)
            if len("".join(new.split())) < self.min_remaining:
                out = R.reject(rec, self.label, reason)
                longest = max(doc_spans, key=lambda s: s[1] - s[0])
                out["duplicate_of"] = where(records[longest[2]])
                rejected.append(out)
                self.stats.reasons[reason] += 1
                continue
            rec[R.TEXT] = new
            kept.append(rec)
            self.stats.modified += 1
            self.stats.tags["chars removed"] += len(text) - len(new)
            self.stats.tags["spans removed"] += len(doc_spans)
        self.stats.kept += len(kept)
        return kept, rejected
