"""Lexicon scanner: Aho-Corasick (pyahocorasick) over term lists with risk categories.

One automaton finds every term of every lexicon in a single pass, whatever the lexicon size.
Lexicon files are TSV, `term<TAB>category<TAB>risk` (risk: low | medium | high), `#` comments.
ASCII terms match case-insensitively on word boundaries ("ass" does not fire inside "class");
Chinese terms match as substrings, since Chinese has no spaces between words.
The starter lexicons ship in `luban/guard/lexicons/` (`zh.tsv`, `en.tsv`); pass file paths to add
a company's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from luban.core.errors import ConfigError, NotFoundError

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicons"
RISKS = {"low": 1, "medium": 2, "high": 3}


@dataclass(frozen=True)
class Hit:
    term: str
    category: str
    risk: str
    start: int
    end: int


def lexicon_path(name: str) -> Path:
    """A shipped lexicon by name (`zh`, `en`) or a path to a TSV file."""
    shipped = LEXICON_DIR / f"{name}.tsv"
    if shipped.is_file():
        return shipped
    p = Path(name)
    if p.is_file():
        return p
    have = ", ".join(sorted(x.stem for x in LEXICON_DIR.glob("*.tsv")))
    raise NotFoundError(f"lexicon '{name}' is neither shipped ({have}) nor a file", "give a TSV path")


def read_lexicon(path: Path) -> list[tuple[str, str, str]]:
    entries = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[2].strip() not in RISKS:
            raise ConfigError(f"{path}:{i}: expected 'term<TAB>category<TAB>low|medium|high'", "fix the line")
        entries.append((parts[0].strip(), parts[1].strip(), parts[2].strip()))
    return entries


class LexiconScanner:
    """Find lexicon terms at or above `min_risk` in text."""

    def __init__(self, lexicons: list[str] | None = None, min_risk: str = "low") -> None:
        import ahocorasick

        if min_risk not in RISKS:
            raise ValueError(f"min_risk must be low, medium or high, got '{min_risk}'")
        self._auto: Any = ahocorasick.Automaton()
        floor = RISKS[min_risk]
        self.size = 0
        for name in lexicons or ["zh", "en"]:
            for term, category, risk in read_lexicon(lexicon_path(name)):
                if RISKS[risk] >= floor and term:
                    key = term.lower()
                    self._auto.add_word(key, (term, category, risk, len(key), key.isascii()))
                    self.size += 1
        if self.size:
            self._auto.make_automaton()

    def scan(self, text: str) -> list[Hit]:
        if not self.size:
            return []
        low = text.lower()
        if len(low) != len(text):  # rare case-folding that changes length: offsets still refer to `low`
            text = low
        hits = []
        for end, (term, category, risk, n, ascii_term) in self._auto.iter(low):
            start = end - n + 1
            if ascii_term and ((start > 0 and low[start - 1].isalnum()) or
                               (end + 1 < len(low) and low[end + 1].isalnum())):
                continue
            hits.append(Hit(term, category, risk, start, end + 1))
        return hits
