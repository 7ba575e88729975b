"""Unicode normalization (NFKC) and whitespace / control-character cleanup."""

from __future__ import annotations

import re
import unicodedata

from luban.data.ops.base import Mapper

# Full-width punctuation that NFKC would turn into ASCII (，-> ,). Chinese text keeps it by default:
# the full-width forms are the correct typography there, and tokenizers learn them as such.
_FULLWIDTH_PUNCT = "，。！？：；（）［］｛｝“”‘’、《》【】"
_PROTECT = {ord(c): 0xF0000 + i for i, c in enumerate(_FULLWIDTH_PUNCT)}
_RESTORE = {v: k for k, v in _PROTECT.items()}


class NFKC(Mapper):
    """Unicode NFKC: full-width letters and digits to ASCII, ligatures and compatibility forms unfolded."""

    name = "nfkc"

    def __init__(self, keep_fullwidth_punctuation: bool = True) -> None:
        super().__init__()
        self.keep = keep_fullwidth_punctuation

    def map(self, text: str) -> str:
        if text.isascii():
            return text
        if self.keep:
            return unicodedata.normalize("NFKC", text.translate(_PROTECT)).translate(_RESTORE)
        return unicodedata.normalize("NFKC", text)


# C0/C1 controls except tab and newline; zero-width characters and the BOM; odd spaces.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_CRLF = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_TRAILING = re.compile(r" +\n")
_BLANKS = re.compile(r"\n{3,}")


class Whitespace(Mapper):
    """Drop control and zero-width characters, unify line ends, collapse runs of spaces and blank lines."""

    name = "whitespace"

    def __init__(self, max_blank_lines: int = 1) -> None:
        super().__init__()
        self.blank = "\n" * (max_blank_lines + 1)

    def map(self, text: str) -> str:
        text = _CRLF.sub("\n", text)
        text = _CONTROL.sub("", text)
        text = _SPACES.sub(" ", text)
        text = _TRAILING.sub("\n", text)
        text = _BLANKS.sub(self.blank, text)
        return "\n".join(line.strip() for line in text.strip().split("\n")) if "\n" in text else text.strip()
