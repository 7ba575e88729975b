"""Undo the usual obfuscations before scanning, keeping a map back to the original text.

A scanned text gets three views, each built only when a scanner asks for it:
- `norm`: NFKC (full-width letters and digits become ASCII), invisible characters removed (zero-width
  spaces and joiners, bidi controls, Unicode tag characters, variation selectors), homoglyphs mapped to
  Latin (Cyrillic `а`, Greek `ο`), lower case. Plain ASCII text takes a fast path with no per-character work.
- `compact`: `norm` with leetspeak undone inside mixed letter/digit runs (`b0mb`, `h@ck`) and split into
  word runs (letters, digits, CJK), so that `b o m b`, `k-i-l-l`, `炸 弹` and `炸*弹` read as one word.
  Each run keeps its position; a matcher decides which joins are obfuscation (see `Compact.accept`).
- `decoded`: base64 segments that decode to readable UTF-8, to be scanned again as text.

Every view maps its offsets back to the original (`raw_span`), so a verdict's spans, and masking, refer
to what the user sent.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate

# Invisible or formatting characters that carry no text: zero-width space/joiners, soft hyphen, bidi
# controls, word joiner, BOM, variation selectors, Hangul fillers and the Unicode tag block (E0000-E007F),
# which can smuggle whole instructions past a human reader.
INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
# Letters from other scripts that look like Latin ones (a subset of Unicode's confusables.txt that
# covers what obfuscated prompts use: Cyrillic and Greek lookalikes).
_HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ɡ": "g", "һ": "h",
    "ӏ": "l", "ԛ": "q", "ԝ": "w", "ɑ": "a", "ο": "o", "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k",
    "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ѵ": "v", "ᴀ": "a", "ʙ": "b", "ᴄ": "c",
    "ᴅ": "d", "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n",
    "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
}
HOMOGLYPHS = str.maketrans({**_HOMOGLYPHS, **{k.upper(): v for k, v in _HOMOGLYPHS.items() if k.upper() != k}})
# Leetspeak, applied only inside runs that mix letters with these characters ("b0mb", "$ex", "h@ck").
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i",
                      "|": "l"})
_LEET_RUN = re.compile(r"(?=[a-z0-9@$!|]*[a-z])(?=[a-z0-9@$!|]*[0-9@$!|])(?<![a-z0-9@$!|])[a-z0-9@$!|]+")
# The same runs found fast: every leet character becomes one marker (a C translate), `str.find` jumps
# from marker to marker, and only the runs around them are examined (most text has a handful).
_LEET_CHARS = "0123456789@$!|"
_LEET_MARK = str.maketrans({c: "\x00" for c in _LEET_CHARS})
_RUN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz" + _LEET_CHARS)
_RUN = re.compile(r"[a-z0-9@$!|]+")
_SPLIT = re.compile(r"([^\W_]+)")
_SPLIT_ASCII = re.compile(r"([A-Za-z0-9]+)")  # the same runs in ASCII text, a plain class (faster)
# What may sit inside an obfuscated word: spaces and symbols, at most 3 of them, no line break.
_JOINABLE_GAP = re.compile(r"[ \t\u3000.*\-_·•~^+|/\\#'\"`,:;!?=]{1,3}")
_SENTENCE_PUNCT = frozenset(",:;!?。，；：！？")
_B64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")


@dataclass(frozen=True)
class Norm:
    text: str
    index: list[int] | None  # norm position -> raw position; None when they are the same

    def raw(self, i: int) -> int:
        if self.index is None:
            return i
        return self.index[i] if i < len(self.index) else (self.index[-1] + 1 if self.index else 0)


def normalize(text: str) -> Norm:
    """The `norm` view of `text` (see the module's docstring)."""
    if text.isascii():
        low = text.lower()
        return Norm(low, None)
    if not INVISIBLE.search(text):
        nf = unicodedata.normalize("NFKC", text)
        if len(nf) == len(text):
            low = nf.translate(HOMOGLYPHS).lower()
            if len(low) == len(text):
                return Norm(low, None)
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if INVISIBLE.match(ch):
            continue
        s = unicodedata.normalize("NFKC", ch) if not ch.isascii() else ch
        s = s.translate(HOMOGLYPHS).lower()
        out.append(s)
        index.extend([i] * len(s))
    return Norm("".join(out), index)


@dataclass(frozen=True)
class Compact:
    """Word runs of the norm view glued together; `starts[k]` is run k's position in `text`."""

    text: str
    starts: list[int]  # compact position of each run
    norm_starts: list[int]  # norm position of each run
    gaps: list[str]  # the separator before run k (gaps[0] == "")
    norm: str

    def norm_pos(self, i: int) -> int:
        k = bisect_right(self.starts, i) - 1
        return self.norm_starts[k] + (i - self.starts[k])

    def accept(self, start: int, end: int, parts: tuple[int, ...], ascii_key: bool) -> bool:
        """Whether a key found at compact [start, end) is a real hit, not a join of unrelated words.

        ASCII keys need word boundaries at both ends (`ass` is not in `class`). A hit over several runs is
        kept when the runs are split where the key's own parts are (`make a bomb`, pinyin `zha dan`), when
        the runs are single characters (`b o m b`), or when the gaps hold no space (`k-i-l-l`, `b.o.m.b`).
        CJK keys may span any joinable gap (`炸 弹`, `炸*弹`) but not sentence punctuation.
        """
        ns, ne = self.norm_pos(start), self.norm_pos(end - 1) + 1
        if ascii_key and ((ns > 0 and _ascii_alnum(self.norm[ns - 1])) or
                          (ne < len(self.norm) and _ascii_alnum(self.norm[ne]))):
            return False
        k0 = bisect_right(self.starts, start) - 1
        k1 = bisect_right(self.starts, end - 1) - 1
        if k0 == k1:
            return True
        gaps = self.gaps[k0 + 1:k1 + 1]
        if any(not _JOINABLE_GAP.fullmatch(g) for g in gaps):
            return False
        if not ascii_key:
            return not any(c in _SENTENCE_PUNCT for g in gaps for c in g)
        cuts = {self.starts[k] - start for k in range(k0 + 1, k1 + 1)}
        part_cuts, acc = set(), 0
        for p in parts[:-1]:
            acc += p
            part_cuts.add(acc)
        if cuts <= part_cuts:
            return True
        lengths = [self._run_len(k) for k in range(k0 + 1, k1)]
        if lengths and max(lengths) <= 1:
            return True
        return all(" " not in g and "\t" not in g for g in gaps)

    def _run_len(self, k: int) -> int:
        nxt = self.starts[k + 1] if k + 1 < len(self.starts) else len(self.text)
        return nxt - self.starts[k]


def _ascii_alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def compact(norm: str) -> Compact:
    leeted = undo_leet(norm)
    pieces = (_SPLIT_ASCII if leeted.isascii() else _SPLIT).split(leeted)  # gap, word, ..., gap: loops run in C
    words = pieces[1::2]
    piece_starts = list(accumulate(map(len, pieces), initial=0))
    starts = list(accumulate(map(len, words), initial=0))[:-1]
    gaps = [""] + pieces[2:-1:2]
    return Compact("".join(words), starts, piece_starts[1::2][:len(words)], gaps, leeted)


def undo_leet(norm: str) -> str:
    """Leetspeak undone inside the runs of letters and leet characters that hold both (`b0mb` -> `bomb`,
    `x100` -> `xioo`, `100` unchanged): what `_LEET_RUN.sub` does, without a regex tried at every position."""
    marks = norm.translate(_LEET_MARK)
    i = marks.find("\x00")
    if i < 0:
        return norm
    out: list[str] = []
    done = 0  # norm[:done] is settled
    while i >= 0:
        start = i
        while start > done and norm[start - 1] in _RUN_CHARS:
            start -= 1
        m = _RUN.match(norm, i)
        end = m.end() if m else i + 1
        run = norm[start:end]
        if m and any("a" <= c <= "z" for c in run):
            out.append(norm[done:start])
            out.append(run.translate(LEET))
            done = end
        i = marks.find("\x00", end)
    out.append(norm[done:])
    return "".join(out)


def decoded_segments(raw: str, limit: int = 32) -> list[tuple[str, int, int]]:
    """Base64 runs of `raw` that decode to readable UTF-8: (decoded text, raw start, raw end)."""
    out = []
    for m in _B64.finditer(raw):
        token = m.group()
        try:
            data = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
            text = data.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if text and sum(c.isprintable() or c.isspace() for c in text) >= 0.95 * len(text):
            out.append((text, m.start(), m.end()))
            if len(out) >= limit:
                break
    return out


class Text:
    """A text to scan with its views, each computed once, on first use."""

    def __init__(self, raw: str) -> None:
        self.raw = raw

    @cached_property
    def norm(self) -> Norm:
        return normalize(self.raw)

    @cached_property
    def compact(self) -> Compact:
        return compact(self.norm.text)

    @cached_property
    def decoded(self) -> list[tuple[str, int, int]]:
        return decoded_segments(self.raw) if len(self.raw) >= 16 else []

    def raw_span(self, compact_start: int, compact_end: int) -> tuple[int, int]:
        """The original text's span of compact positions [start, end)."""
        c = self.compact
        ns, ne = c.norm_pos(compact_start), c.norm_pos(compact_end - 1)
        return self.norm.raw(ns), self.norm.raw(ne) + 1
