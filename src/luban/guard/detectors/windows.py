"""Where a detector has to look: the windows of a text around its cues, found by one cheap search.

Running ten detector regexes over a whole prompt is most of the guard's time on long text (a pattern
that opens with a lookbehind or a character class is tried at every position; one opening with a literal
is found at C speed). Every match of a digit-bearing detector holds a run of digits, so:
- the text is *folded* first: every decimal digit (what `\\d` reads: Unicode category Nd, full-width
  included) becomes `0`, one `str.translate` in C, same length, same offsets;
- each detector names a `Seed`: a pattern that every match of its regex contains (six digits with at most
  three separators between each, for phones, ID numbers, bank cards and passports; `0.0…0.0` for IPv4;
  `:…:` for IPv6; `@` for e-mail), opening with a literal so that the search is fast;
- the detector's regex then runs only in the windows around the seeds (`margin` characters on each side,
  merged where they meet), through `pattern.finditer(text, start, end)`: lookbehinds still see the text
  before a window, and the margin is far longer than any match plus its lookahead, so a window finds what
  the whole text would. Context rules (`context.is_business`, passport labels) still read the whole text.
An e-mail address holds no whitespace, so its window is the whitespace-delimited token around each `@`.
Text without any seed (most text) costs one translate and a few literal searches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MARGIN = 128  # characters each side of a seed; the longest match (an IPv6 address) is 50
_ASCII_FOLD = str.maketrans("123456789", "000000000")
_WS = re.compile(r"\s")


@lru_cache(maxsize=1)
def _unicode_fold() -> dict[int, str]:
    """Every Unicode decimal digit -> '0' (built once, about 0.1 s, only for text that is not ASCII)."""
    return {i: "0" for i in range(0x110000) if chr(i).isdecimal() and i != 0x30}


def fold(text: str) -> str:
    """`text` with every decimal digit replaced by `0` (same length)."""
    return text.translate(_ASCII_FOLD if text.isascii() else _unicode_fold())


@dataclass(frozen=True)
class Seed:
    """A pattern that every match of a detector contains, searched in the folded text."""

    pattern: re.Pattern[str]
    margin: int = MARGIN
    token: bool = False  # the window is the whitespace-delimited token around the seed (no margin)
    ascii_ok: bool = True  # False: the detector can only match non-ASCII text (Chinese plates)


# every digit-bearing detector's regex holds six digits in a row, at most three separators between two of them
DIGITS6 = Seed(re.compile(r"0(?:[-\s.()]{0,3}0){5}"))


class Windows:
    """One text's folded view and its windows per seed, each computed once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._folded: str | None = None
        self._cache: dict[Seed, list[tuple[int, int]]] = {}

    @property
    def folded(self) -> str:
        if self._folded is None:
            self._folded = fold(self.text)
        return self._folded

    def of(self, seed: Seed) -> list[tuple[int, int]]:
        """The merged windows [start, end) of the text around `seed`'s matches, in order."""
        got = self._cache.get(seed)
        if got is None:
            got = self._cache[seed] = self._windows(seed)
        return got

    def _windows(self, seed: Seed) -> list[tuple[int, int]]:
        if not seed.ascii_ok and self.text.isascii():
            return []
        n = len(self.text)
        out: list[tuple[int, int]] = []
        for m in seed.pattern.finditer(self.folded):
            if seed.token:
                s, e = self._token(m.start(), out[-1][1] if out else 0), self._token_end(m.end())
            else:
                s, e = max(0, m.start() - seed.margin), min(n, m.end() + seed.margin)
            if out and s <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], e))
            else:
                out.append((s, e))
        return out

    def _token(self, i: int, floor: int) -> int:
        while i > floor and not self.text[i - 1].isspace():
            i -= 1
        return i

    def _token_end(self, i: int) -> int:
        m = _WS.search(self.text, i)
        return m.start() if m else len(self.text)
