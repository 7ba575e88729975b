"""FineWeb rules (Penedo et al. 2024, "The FineWeb Datasets"; datatrove FineWebQualityFilter defaults):

- drop when at most 12% of lines end in punctuation (`line_punct_thr`);
- drop when at least 67% of lines are 30 characters or shorter (`short_line_thr`);
- drop when duplicated lines hold at least 1% of the characters (`char_duplicates_ratio`);
- drop when newlines per word exceed 0.3 (lists of short items, `new_line_ratio`).

Chinese: full-width sentence punctuation counts as line-ending punctuation; words are per
character, as in `words.py`; a Han character carries about two Latin characters' worth of text,
so the short-line length is halved for Chinese documents.
"""

from __future__ import annotations

from luban.data import records as R
from luban.data.ops.base import Filter, Verdict
from luban.data.ops.quality.words import is_cjk, words

STOP_CHARS = (".", "'", '"', "!", "?", "。", "！", "？", "”", "」", "』", "…", "；", ";")


class FineWeb(Filter):
    name = "fineweb"

    def __init__(self, line_punct_thr: float = 0.12, line_punct_exclude_zero: bool = False,
                 short_line_thr: float = 0.67, short_line_length: int = 30, char_duplicates_ratio: float = 0.01,
                 new_line_ratio: float = 0.3) -> None:
        super().__init__()
        self.punct, self.exclude_zero = line_punct_thr, line_punct_exclude_zero
        self.short, self.short_len = short_line_thr, short_line_length
        self.dup_chars, self.newlines = char_duplicates_ratio, new_line_ratio

    def filter(self, rec: R.Record) -> Verdict:
        text = rec[R.TEXT]
        lines = [ln for ln in text.split("\n") if ln.strip()]
        if not lines:
            return False, "fineweb_empty"
        ratio = sum(ln.rstrip().endswith(STOP_CHARS) for ln in lines) / len(lines)
        if ratio <= self.punct and not (ratio == 0 and self.exclude_zero):
            return False, "fineweb_line_punct_ratio"
        short = self.short_len // 2 if is_cjk(text) else self.short_len
        if sum(len(ln) <= short for ln in lines) / len(lines) >= self.short:
            return False, "fineweb_short_line_ratio"
        seen: set[str] = set()
        dup = 0
        for ln in lines:
            if ln in seen:
                dup += len(ln)
            seen.add(ln)
        if dup / max(1, len(text.replace("\n", ""))) >= self.dup_chars:
            return False, "fineweb_char_dup_ratio"
        n_words = len(words(text))
        if n_words and text.count("\n") / n_words > self.newlines:
            return False, "fineweb_list_ratio"
        return True
