"""Length bounds in characters and (CJK-aware) words."""

from __future__ import annotations

from luban.data import records as R
from luban.data.ops.base import Filter, Verdict
from luban.data.ops.quality.words import words


class Length(Filter):
    """Drop records outside [min_chars, max_chars] or [min_words, max_words]; 0 / None disables a bound."""

    name = "length"

    def __init__(self, min_chars: int = 1, max_chars: int | None = None, min_words: int = 0,
                 max_words: int | None = None) -> None:
        super().__init__()
        self.min_chars, self.max_chars = min_chars, max_chars
        self.min_words, self.max_words = min_words, max_words

    def filter(self, rec: R.Record) -> Verdict:
        text = rec[R.TEXT]
        n = len(text.strip())
        if n < self.min_chars:
            return False, f"shorter than {self.min_chars} chars"
        if self.max_chars is not None and n > self.max_chars:
            return False, f"longer than {self.max_chars} chars"
        if self.min_words or self.max_words is not None:
            w = len(words(text))
            if w < self.min_words:
                return False, f"fewer than {self.min_words} words"
            if self.max_words is not None and w > self.max_words:
                return False, f"more than {self.max_words} words"
        return True
