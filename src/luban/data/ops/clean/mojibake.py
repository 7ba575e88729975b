"""Mojibake repair with ftfy (`æ–‡å­—` -> `文字`, `Ã©` -> `é`, HTML entities in plain text)."""

from __future__ import annotations

from luban.data.ops.base import Mapper


class FixMojibake(Mapper):
    """ftfy.fix_text without its Unicode normalization (the `nfkc` operator owns that step)."""

    name = "fix_mojibake"

    def __init__(self, unescape_html: bool = True) -> None:
        super().__init__()
        import ftfy

        self._fix = ftfy.fix_text
        self._config = ftfy.TextFixerConfig(normalization=None, unescape_html="auto" if unescape_html else False,
                                            uncurl_quotes=False, fix_line_breaks=False, fix_character_width=False,
                                            explain=False)

    def map(self, text: str) -> str:
        if text.isascii() and "&" not in text:  # mojibake needs non-ASCII bytes; entities need '&'
            return text
        return self._fix(text, self._config)
