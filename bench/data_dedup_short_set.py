"""The labelled short-text set of bench/data_dedup_short.py: real short texts in English and Chinese with
planted near-duplicate copies (one word, or one Chinese character, in 25 replaced), deterministic per seed.

Where the texts come from (nothing here was written for the benchmark):
- gettext catalogs of the machine's own programs (`/usr/share/locale/zh_CN/LC_MESSAGES/*.mo`: apt, bash,
  coreutils, glib, PostgreSQL, ...): the English messages (msgid) and their Chinese translations (msgstr),
  written by those projects' authors and translators; the `iso_*` catalogs (lists of names) are left out;
- docstrings of the Python standard library (English);
- the descriptions of the Python distributions installed beside this script (English).

Design choices:
- units (a message, a docstring paragraph, a description paragraph) are taken in source order; consecutive
  units of one source are joined until the text reaches a length drawn from its bucket (English words:
  15-24, 25-49, 50-100; Chinese non-space characters: 20-39, 40-79, 80-159, 160-400) and cut to that length,
  so longer texts read like a program's help page; no unit goes into two texts;
- distinct texts must be distinct: programs repeat themselves ("cannot open %s" / "cannot read %s"), so
  a text with a natural near-duplicate in the pool (difflib ratio >= 0.5 against a candidate from a
  datasketch LSH at Jaccard 0.15 over character 3-grams, an index unrelated to the systems under test) is left out;
- a copy replaces max(1, round(m / 25)) tokens at distinct random positions, m the text's words (English:
  whitespace-separated) or characters (Chinese, only Han characters replaced, by Han characters drawn from
  the pool's own character frequencies); a replaced word is a different word from the pool's vocabulary;
- half the distinct texts of every bucket get a copy; the set is shuffled so copies are not next to their base.
"""

from __future__ import annotations

import difflib
import gettext
import glob
import importlib.metadata
import inspect
import json
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path

EN_BUCKETS = [(15, 24), (25, 49), (50, 100)]
ZH_BUCKETS = [(20, 39), (40, 79), (80, 159), (160, 400)]
HAN = re.compile(r"[\u4e00-\u9fff]")
WORD = re.compile(r"^[A-Za-z][a-z]{2,}$")
STDLIB = ["argparse", "asyncio", "collections", "concurrent.futures", "contextlib", "csv", "dataclasses", "datetime",
          "decimal", "difflib", "email", "enum", "fractions", "functools", "gettext", "glob", "gzip", "hashlib",
          "heapq", "hmac", "http.client", "http.server", "imaplib", "inspect", "io", "ipaddress", "itertools", "json",
          "logging", "mailbox", "multiprocessing", "os", "pathlib", "pickle", "pprint", "queue", "random", "re",
          "sched", "secrets", "selectors", "shelve", "shutil", "smtplib", "socket", "sqlite3", "ssl", "statistics",
          "string", "subprocess", "tarfile", "tempfile", "textwrap", "threading", "tokenize", "traceback",
          "typing", "unittest", "urllib.parse", "urllib.request", "uuid", "warnings", "weakref", "xml.dom.minidom",
          "zipfile", "zoneinfo"]


def _catalogs(locale_dir: str = "/usr/share/locale") -> Iterator[tuple[str, list[tuple[str, str]]]]:
    for path in sorted(glob.glob(f"{locale_dir}/zh_CN/LC_MESSAGES/*.mo")):
        if os.path.basename(path).startswith("iso_"):
            continue
        try:
            with open(path, "rb") as f:
                cat = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        pairs = [(k, v) for k, v in cat.items() if isinstance(k, str) and k and isinstance(v, str) and v]
        yield os.path.basename(path), sorted(pairs)


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _docstrings() -> Iterator[tuple[str, list[str]]]:
    import importlib

    for name in STDLIB:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        units: list[str] = []
        for obj in [mod, *[v for k, v in sorted(vars(mod).items()) if not k.startswith("_")]]:
            if inspect.getmodule(obj) is not mod and obj is not mod:
                continue
            units += _paragraphs(inspect.getdoc(obj) or "")
        yield f"doc:{name}", units


def _descriptions() -> Iterator[tuple[str, list[str]]]:
    for dist in sorted(importlib.metadata.distributions(), key=lambda d: d.metadata["Name"] or ""):
        body = dist.metadata.get_payload() or dist.metadata.get("Description") or ""  # type: ignore[attr-defined]
        units = [p for p in _paragraphs(body) if _prose(p)]
        yield f"pkg:{dist.metadata['Name']}", units


def _prose(p: str) -> bool:
    """Not markup, tables, code or badges: mostly letters and spaces."""
    if p.startswith(("#", "|", "```", "..", ">>>", "[!", "<", "=", "-", "*", "+")) or "http" in p:
        return False
    return sum(c.isalpha() or c == " " for c in p) >= 0.85 * len(p)


def sources() -> dict[str, list[tuple[str, list[str]]]]:
    """{"en": [(source, units)], "zh": [...]}: units in source order."""
    en: list[tuple[str, list[str]]] = []
    zh: list[tuple[str, list[str]]] = []
    for name, pairs in _catalogs():
        en.append((f"mo:{name}", [" ".join(k.split()) for k, _ in pairs if _prose(" ".join(k.split()))]))
        zh.append((f"mo:{name}", ["".join(v.split()) for _, v in pairs if len(HAN.findall(v)) >= 0.5 * len(v.strip())]))
    en += list(_docstrings()) + list(_descriptions())
    return {"en": en, "zh": zh}


def size(text: str, lang: str) -> int:
    return len(text.split()) if lang == "en" else len("".join(text.split()))


def _cut(text: str, lang: str, n: int) -> str:
    return " ".join(text.split()[:n]) if lang == "en" else text[:n]


def texts_by_bucket(lang: str, srcs: list[tuple[str, list[str]]], rng: random.Random) -> dict[int, list[str]]:
    buckets = EN_BUCKETS if lang == "en" else ZH_BUCKETS
    out: dict[int, list[str]] = {b: [] for b in range(len(buckets))}
    for _, units in srcs:
        b = rng.randrange(len(buckets))
        target = rng.randint(*buckets[b])
        buf: list[str] = []
        for unit in units:
            buf.append(unit)
            joined = (" " if lang == "en" else "").join(buf)
            if size(joined, lang) >= target:
                out[b].append(_cut(joined, lang, target))
                buf = []
                b = rng.randrange(len(buckets))
                target = rng.randint(*buckets[b])
    return out


def _grams(text: str) -> set[str]:
    t = text.lower()
    return {t[i:i + 3] for i in range(max(1, len(t) - 2))}


def distinct(texts: list[str], limit: int) -> list[str]:
    """Up to `limit` texts, in order, none a natural near-duplicate of an earlier one (difflib ratio >= 0.5)."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.15, num_perm=64)  # low: a text inside a longer one has a low Jaccard
    kept: list[str] = []
    for text in texts:
        if len(kept) == limit:
            break
        mh = MinHash(num_perm=64, seed=7)
        mh.update_batch([g.encode() for g in _grams(text)])
        if any(_similar(text, kept[j]) for j in lsh.query(mh)):
            continue
        lsh.insert(len(kept), mh)
        kept.append(text)
    return kept


def _similar(a: str, b: str) -> bool:
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return m.real_quick_ratio() >= 0.5 and m.quick_ratio() >= 0.5 and m.ratio() >= 0.5


def mutate(text: str, lang: str, rng: random.Random, vocab: list[str]) -> str:
    """One token in 25 replaced (at least one), at distinct positions, by a different token."""
    if lang == "en":
        words = text.split()
        for i in rng.sample(range(len(words)), max(1, round(len(words) / 25))):
            new = rng.choice(vocab)
            while new.lower() == words[i].lower():
                new = rng.choice(vocab)
            words[i] = new
        return " ".join(words)
    chars = list(text)
    han = [i for i, c in enumerate(chars) if HAN.match(c)]
    for i in rng.sample(han, min(len(han), max(1, round(size(text, lang) / 25)))):
        new = rng.choice(vocab)
        while new == chars[i]:
            new = rng.choice(vocab)
        chars[i] = new
    return "".join(chars)


def generate(seed: int = 0, per_bucket: int = 400) -> dict:
    """{"texts": [...], "lang": [...], "bucket": ["en 15-24", ...], "pairs": [[base, copy], ...]}."""
    rng = random.Random(seed)
    srcs = sources()
    texts: list[str] = []
    langs: list[str] = []
    buckets: list[str] = []
    pairs: list[list[int]] = []
    for lang, bounds in (("en", EN_BUCKETS), ("zh", ZH_BUCKETS)):
        pool = texts_by_bucket(lang, srcs[lang], rng)
        every = " ".join(t for ts in pool.values() for t in ts)
        # English: the pool's distinct words; Chinese: its Han characters, so drawn with their frequencies
        vocab = sorted({w for w in every.split() if WORD.match(w)}) if lang == "en" else HAN.findall(every)
        for b, (lo, hi) in enumerate(bounds):
            rng.shuffle(pool[b])
            chosen = distinct(pool[b], per_bucket)
            label = f"{lang} {lo}-{hi}"
            for j, text in enumerate(chosen):
                texts.append(text)
                langs.append(lang)
                buckets.append(label)
                if j % 2 == 0:
                    pairs.append([len(texts) - 1, len(texts)])
                    texts.append(mutate(text, lang, rng, vocab))
                    langs.append(lang)
                    buckets.append(label)
    order = list(range(len(texts)))
    rng.shuffle(order)
    new = {old: i for i, old in enumerate(order)}
    return {"texts": [texts[o] for o in order], "lang": [langs[o] for o in order],
            "bucket": [buckets[o] for o in order], "pairs": sorted([new[a], new[b]] for a, b in pairs)}


def load(path: Path, seed: int = 0, per_bucket: int = 400) -> dict:
    """The set cached at `path` (generated on first use)."""
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    data = generate(seed, per_bucket)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return data
