"""Gopher repetition rules (Rae et al. 2021, appendix A.1.1, table A1), the paper's thresholds:

- duplicate lines: > 30% of lines, or > 20% of characters in duplicated lines -> drop;
- duplicate paragraphs: > 30% of paragraphs, or > 20% of their characters -> drop;
- most frequent n-gram covers more than 20% (2-grams), 18% (3-grams), 16% (4-grams) of characters;
- duplicated n-grams cover more than 15% (5), 14% (6), 13% (7), 12% (8), 11% (9), 10% (10-grams).

The n-gram rules only run on documents of at least `min_words` words (50, Gopher's own minimum
document length): on a one-line FAQ answer the product name alone is "the top 2-gram".
Words are CJK-aware (`words.py`), so Chinese n-grams are character n-grams. Coverage of duplicated
n-grams can only shrink as n grows, so once the 5-gram coverage is under the 10-gram threshold
the larger n are skipped: most clean documents cost one pass.
"""

from __future__ import annotations

from collections import Counter

from luban.data import records as R
from luban.data.ops.base import Filter, Verdict
from luban.data.ops.quality.words import words

TOP_NGRAMS = ((2, 0.20), (3, 0.18), (4, 0.16))
DUP_NGRAMS = ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))


def duplicate_fractions(parts: list[str]) -> tuple[float, float]:
    """(fraction of parts that repeat an earlier one, fraction of characters in them)."""
    seen: set[str] = set()
    dup = dup_chars = 0
    for p in parts:
        if p in seen:
            dup += 1
            dup_chars += len(p)
        else:
            seen.add(p)
    total = sum(map(len, parts))
    return dup / len(parts), (dup_chars / total if total else 0.0)


def top_ngram_fraction(ws: list[str], n: int, total_chars: int) -> float:
    grams = Counter(zip(*(ws[i:] for i in range(n))))
    if not grams:
        return 0.0
    gram, count = grams.most_common(1)[0]
    return sum(map(len, gram)) * count / total_chars


def dup_ngram_fraction(ws: list[str], n: int, total_chars: int) -> float:
    """Characters of words inside a repeated occurrence of any n-gram, over all word characters."""
    seen: set[tuple[str, ...]] = set()
    covered = bytearray(len(ws))
    for i, gram in enumerate(zip(*(ws[j:] for j in range(n)))):
        if gram in seen:
            covered[i:i + n] = b"\x01" * n
        else:
            seen.add(gram)
    return sum(len(w) for w, c in zip(ws, covered) if c) / total_chars


class GopherRepetition(Filter):
    name = "gopher_repetition"

    def __init__(self, dup_line_frac: float = 0.3, dup_para_frac: float = 0.3, dup_line_char_frac: float = 0.2,
                 dup_para_char_frac: float = 0.2, top_n_grams: list[list[float]] | None = None,
                 dup_n_grams: list[list[float]] | None = None, min_words: int = 50,
                 segmenter: str = "char") -> None:
        super().__init__()
        self.min_words = min_words
        self.line, self.para = dup_line_frac, dup_para_frac
        self.line_chars, self.para_chars = dup_line_char_frac, dup_para_char_frac
        self.top = [(int(n), t) for n, t in top_n_grams] if top_n_grams else list(TOP_NGRAMS)
        self.dup = [(int(n), t) for n, t in dup_n_grams] if dup_n_grams else list(DUP_NGRAMS)
        self.segmenter = segmenter

    def filter(self, rec: R.Record) -> Verdict:
        text = rec[R.TEXT]
        paras = [p for p in text.strip().split("\n\n") if p.strip()]
        if len(paras) > 1:
            frac, chars = duplicate_fractions(paras)
            if frac > self.para:
                return False, "dup_para_frac"
            if chars > self.para_chars:
                return False, "dup_para_char_frac"
        lines = [ln for ln in text.split("\n") if ln.strip()]
        if len(lines) > 1:
            frac, chars = duplicate_fractions(lines)
            if frac > self.line:
                return False, "dup_line_frac"
            if chars > self.line_chars:
                return False, "dup_line_char_frac"
        ws = words(text, self.segmenter)
        total = sum(map(len, ws))
        if not total or len(ws) < self.min_words:
            return True
        for n, limit in self.top:
            if len(ws) > n and top_ngram_fraction(ws, n, total) > limit:
                return False, f"top_{n}_gram"
        floor = min(t for _, t in self.dup)
        for n, limit in self.dup:
            if len(ws) <= n:
                break
            frac = dup_ngram_fraction(ws, n, total)
            if frac > limit:
                return False, f"duplicated_{n}_n_grams"
            if frac <= floor:
                break
        return True
