"""Lexicon scanner: Aho-Corasick (pyahocorasick) over term lists with risk categories.

One automaton finds every term of every lexicon in a single pass, whatever the lexicon size.
Lexicon files are TSV, `term<TAB>category<TAB>risk` (risk: low | medium | high), `#` comments.
ASCII terms match case-insensitively on word boundaries ("ass" does not fire inside "class");
Chinese terms match as substrings, since Chinese has no spaces between words.
The starter lexicons ship in `luban/guard/lexicons/` (`zh.tsv`, `en.tsv`); pass file paths to add
a company's own.

`skip_negated=True` ignores a hit right after a negation or a warning ("we never sell personal data",
"我们不会出售个人信息", "谨防杀猪盘"): a policy page or an anti-fraud notice is not unsafe content. It
is off by default because a prefix such as "no joke," also turns a real threat into a skipped hit:
use it for curating documents, not for moderating what users send.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from luban.core.errors import ConfigError, NotFoundError

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicons"
RISKS = {"low": 1, "medium": 2, "high": 3}
# Negations and warnings that, just before a term, turn it into a statement against the thing.
NEGATIONS_ZH = ("不", "未", "没有", "禁止", "严禁", "杜绝", "拒绝", "反对", "防止", "谨防", "警惕", "打击", "举报")
NEGATIONS_EN = frozenset((
    "not", "never", "no", "don't", "won't", "doesn't", "didn't", "cannot", "can't", "against", "avoid", "beware",
    "prohibit", "prohibits", "prohibited", "ban", "bans", "banned", "forbid", "forbids", "forbidden", "report",
))
_EN_WORD = re.compile(r"[a-z']+")


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

    def __init__(self, lexicons: list[str] | None = None, min_risk: str = "low", skip_negated: bool = False) -> None:
        import ahocorasick

        if min_risk not in RISKS:
            raise ValueError(f"min_risk must be low, medium or high, got '{min_risk}'")
        self._auto: Any = ahocorasick.Automaton()
        floor = RISKS[min_risk]
        self.skip_negated = skip_negated
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
            if self.skip_negated and negated(low, start, ascii_term):
                continue
            hits.append(Hit(term, category, risk, start, end + 1))
        return hits


def negated(low: str, start: int, ascii_term: bool) -> bool:
    """A negation or warning just before position `start` of lower-cased `low`: within the three words
    before an English term, within the four characters before a Chinese one (same sentence only)."""
    head = re.split(r"[.!?;。！？；\n]", low[max(0, start - 40):start])[-1]
    if ascii_term:
        return any(w in NEGATIONS_EN for w in _EN_WORD.findall(head)[-3:])
    return any(n in head[-4:] for n in NEGATIONS_ZH)
