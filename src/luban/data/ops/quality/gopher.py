"""Gopher quality rules (Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights from
Training Gopher", appendix A.1.1 "MassiveWeb"), with the paper's thresholds as defaults:

- 50 to 100,000 words;
- mean word length 3 to 10 characters;
- symbol-to-word ratio below 0.1 for "#" and for ellipses;
- at most 90% of lines starting with a bullet, at most 30% ending with an ellipsis;
- at least 80% of words containing an alphabetic character;
- at least 2 of the stop words "the, be, to, of, and, that, have, with".

Chinese: words are counted per Han character (see `words.py`); the mean-word-length rule is
skipped for Chinese text (a per-character word is 1 long by construction), and the stop-word rule
uses the most frequent Chinese function characters instead.
"""

from __future__ import annotations

from luban.data import records as R
from luban.data.ops.base import Filter, Verdict
from luban.data.ops.quality.words import is_cjk, words

STOP_WORDS_EN = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})
STOP_WORDS_ZH = frozenset({"的", "了", "是", "在", "和", "有", "我", "不", "这", "也", "就", "都", "们", "你"})
BULLETS = ("•", "●", "○", "■", "□", "▪", "▫", "*", "-", "–", "‣", "·")
ELLIPSES = ("...", "…")


class GopherQuality(Filter):
    name = "gopher_quality"

    def __init__(self, min_words: int = 50, max_words: int = 100_000, min_avg_word_length: float = 3,
                 max_avg_word_length: float = 10, max_symbol_word_ratio: float = 0.1,
                 max_bullet_lines_ratio: float = 0.9, max_ellipsis_lines_ratio: float = 0.3,
                 max_non_alpha_words_ratio: float = 0.8, min_stop_words: int = 2,
                 segmenter: str = "char") -> None:
        super().__init__()
        self.min_words, self.max_words = min_words, max_words
        self.min_avg, self.max_avg = min_avg_word_length, max_avg_word_length
        self.max_symbol = max_symbol_word_ratio
        self.max_bullet, self.max_ellipsis = max_bullet_lines_ratio, max_ellipsis_lines_ratio
        self.min_alpha = max_non_alpha_words_ratio
        self.min_stop = min_stop_words
        self.segmenter = segmenter

    def filter(self, rec: R.Record) -> Verdict:
        text = rec[R.TEXT]
        ws = words(text, self.segmenter)
        n = len(ws)
        if n < self.min_words:
            return False, "gopher_short_doc"
        if n > self.max_words:
            return False, "gopher_long_doc"
        cjk = is_cjk(text)
        if not cjk:
            avg = sum(map(len, ws)) / n
            if avg < self.min_avg:
                return False, "gopher_below_avg_word_length"
            if avg > self.max_avg:
                return False, "gopher_above_avg_word_length"
        if text.count("#") / n > self.max_symbol:
            return False, "gopher_hash_ratio"
        if (text.count("...") + text.count("…")) / n > self.max_symbol:
            return False, "gopher_ellipsis_ratio"
        lines = [ln for ln in text.split("\n") if ln.strip()]
        if lines:
            if sum(ln.lstrip().startswith(BULLETS) for ln in lines) / len(lines) > self.max_bullet:
                return False, "gopher_bullet_lines"
            if sum(ln.rstrip().endswith(ELLIPSES) for ln in lines) / len(lines) > self.max_ellipsis:
                return False, "gopher_ellipsis_lines"
        if sum(any(c.isalpha() for c in w) for w in ws) / n < self.min_alpha:
            return False, "gopher_non_alpha_words"
        if self.min_stop:
            stops = STOP_WORDS_ZH if cjk else STOP_WORDS_EN
            if sum(1 for w in ws if w.lower() in stops) < self.min_stop:
                return False, "gopher_few_stop_words"
        return True
