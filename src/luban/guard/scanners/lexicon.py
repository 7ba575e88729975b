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
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal

from luban.core.errors import ConfigError, NotFoundError
from luban.guard.normalize import Text, compact, normalize
from luban.guard.scanners.base import Scanner, ScannerConfig
from luban.guard.scanners.intent import intent_of, sentence_at
from luban.guard.scanners.veto import CATEGORIES as VETO_CATEGORIES
from luban.guard.scanners.veto import context_of, vetoed
from luban.guard.verdict import Finding

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
    """Find lexicon terms at or above `min_risk` in text, through the obfuscations that
    `luban.guard.normalize` undoes (full-width, zero-width, homoglyphs, spacing inside words, leetspeak).

    `pinyin=True` also finds the CJK terms of risk `high` written in pinyin (`zhadan`, `zha dan`) and, for
    terms of four characters or more, in initials (`zzzd`); `decode=True` scans base64 segments again.
    """

    def __init__(self, lexicons: list[str] | None = None, min_risk: str = "low", skip_negated: bool = False,
                 pinyin: bool = False, decode: bool = False) -> None:
        if min_risk not in RISKS:
            raise ValueError(f"min_risk must be low, medium or high, got '{min_risk}'")
        paths = tuple(str(lexicon_path(name)) for name in (lexicons or ["zh", "en"]))
        stamps = tuple(Path(p).stat().st_mtime_ns for p in paths)
        self._auto, self.size = _automaton(paths, stamps, min_risk, pinyin)
        self.skip_negated = skip_negated
        self.decode = decode

    def scan(self, text: str | Text) -> list[Hit]:
        if not self.size:
            return []
        t = text if isinstance(text, Text) else Text(text)
        hits = self._scan(t)
        if self.decode:
            for decoded, rs, re_ in t.decoded:
                seen = {h.term for h in hits}
                hits.extend(Hit(h.term, h.category, h.risk, rs, re_) for h in self._scan(Text(decoded))
                            if h.term not in seen)
        return hits

    def _scan(self, t: Text) -> list[Hit]:
        c = t.compact
        if not c.text:
            return []
        hits: list[Hit] = []
        seen: set[tuple[str, int]] = set()
        for end, (term, category, risk, n, ascii_key, parts) in self._auto.iter(c.text):
            start = end - n + 1
            if not c.accept(start, end + 1, parts, ascii_key):
                continue
            if self.skip_negated and negated(t.norm.text, c.norm_pos(start), ascii_key):
                continue
            rs, re_ = t.raw_span(start, end + 1)
            if (term, rs) in seen:
                continue
            seen.add((term, rs))
            hits.append(Hit(term, category, risk, rs, re_))
        hits.sort(key=lambda h: (h.start, -h.end))
        return hits


def compact_keys(term: str) -> list[tuple[str, tuple[int, ...]]]:
    """A term's keys in the compact view, each with the lengths of its words (`make a bomb` -> (4, 1, 4)).

    The key goes through the very transformation the text does (leetspeak included, so `3d print a gun`
    and `5g` read the same on both sides); a term whose words join into one leetspeak run when written
    without separators (`ak-47` written `ak47`) gets that spelling as a second key.
    """
    c = compact(normalize(term).text)
    parts = tuple((c.starts[k + 1] if k + 1 < len(c.starts) else len(c.text)) - c.starts[k] for k in range(len(c.starts)))
    keys = [(c.text, parts)] if c.text else []
    joined = compact("".join(re.split(r"[\W_]+", normalize(term).text))).text
    if joined and joined != c.text:
        keys.append((joined, (len(joined),)))
    return keys


def _is_cjk(term: str) -> bool:
    return bool(term) and all("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in term)


@lru_cache(maxsize=16)
def _automaton(paths: tuple[str, ...], stamps: tuple[int, ...], min_risk: str, pinyin: bool) -> tuple[Any, int]:
    """One automaton per lexicon set (rebuilt when a file's mtime changes: `stamps` is in the key)."""
    import ahocorasick

    auto: Any = ahocorasick.Automaton()
    floor = RISKS[min_risk]
    size = 0
    to_pinyin: list[tuple[str, str, str]] = []
    for path in paths:
        for term, category, risk in read_lexicon(Path(path)):
            if RISKS[risk] < floor or not term:
                continue
            keys = compact_keys(term)
            for key, parts in keys:
                auto.add_word(key, (term, category, risk, len(key), key.isascii(), parts))
            size += bool(keys)
            if pinyin and risk == "high" and _is_cjk(term) and len(term) >= 2:
                to_pinyin.append((term, category, risk))
    if to_pinyin:
        from pypinyin import lazy_pinyin

        for term, category, risk in to_pinyin:
            syllables = [s for s in lazy_pinyin(term) if s.isascii() and s.isalpha()]
            if len(syllables) != len(term):
                continue
            key = "".join(syllables)
            if len(key) >= 5 and not auto.exists(key):
                auto.add_word(key, (term, category, risk, len(key), True, tuple(len(s) for s in syllables)))
            initials = "".join(s[0] for s in syllables)
            if len(term) >= 4 and not auto.exists(initials):
                auto.add_word(initials, (term, category, risk, len(initials), True, (1,) * len(initials)))
    if size:
        auto.make_automaton()
    return auto, size


def negated(low: str, start: int, ascii_term: bool) -> bool:
    """A negation or warning just before position `start` of lower-cased `low`: within the three words
    before an English term, within the four characters before a Chinese one (same sentence only)."""
    head = re.split(r"[.!?;。！？；\n]", low[max(0, start - 40):start])[-1]
    if ascii_term:
        return any(w in NEGATIONS_EN for w in _EN_WORD.findall(head)[-3:])
    return any(n in head[-4:] for n in NEGATIONS_ZH)


class LexiconConfig(ScannerConfig):
    lexicons: list[str] = ["zh", "en", "tc260_zh", "tc260_en"]  # shipped names or TSV paths (relative to the policy)
    min_risk: Literal["low", "medium", "high"] = "low"  # terms below this are ignored
    block_at: Literal["low", "medium", "high"] = "high"  # at or above: the scanner's action; below: flag (or intent)
    skip_negated: bool = False
    pinyin: bool = True
    decode: bool = True
    intent: bool = True  # a topic word (below block_at) in a sentence asking for harm is escalated
    veto: bool = True  # a blocking term of A.1.2/A.1.3/A.1.7 in a news, history, fiction or spotting frame: flag


class Lexicon(Scanner):
    """Policy scanner over `LexiconScanner`: one finding per term, action by the term's risk, the intent
    cues (`scanners.intent`) and the context vetoes (`scanners.veto`)."""

    name = "lexicon"
    Config: ClassVar[type[ScannerConfig]] = LexiconConfig

    def __init__(self, config: ScannerConfig, base_dir: Path | None = None) -> None:
        super().__init__(config, base_dir)
        assert isinstance(config, LexiconConfig)
        names = [_relative(n, base_dir) for n in config.lexicons]
        self.scanner = LexiconScanner(names, min_risk=config.min_risk, skip_negated=config.skip_negated,
                                      pinyin=config.pinyin, decode=config.decode)
        self.block_at = RISKS[config.block_at]
        self.intent = config.intent
        self.veto = config.veto

    def scan(self, text: Text) -> list[Finding]:
        out = []
        for h in self.scanner.scan(text):
            reason = f"lexicon term '{h.term}' ({h.risk})"
            action: str | None = None
            if RISKS[h.risk] < self.block_at:
                cue = intent_of(sentence_at(text.raw, h.start, h.end)) if self.intent else None
                if cue is None:
                    action = "flag"
                else:
                    reason += f" with intent '{cue}'"
            if action is None and self.veto and h.category in VETO_CATEGORIES:
                frame = vetoed(context_of(text.raw, h.start, h.end))
                if frame is not None:
                    action = "flag"
                    reason += f" in context '{frame}'"
            out.append(Finding(h.category, h.start, h.end, reason=reason, action=action))
        return out


def _relative(name: str, base_dir: Path | None) -> str:
    if base_dir is None or (LEXICON_DIR / f"{name}.tsv").is_file() or Path(name).is_absolute():
        return name
    return str(base_dir / name)
