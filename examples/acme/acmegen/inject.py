"""Apply the deliberate dirt to the clean base corpus and record every change.

Targets are drawn with the seeded generator from disjoint pools, so one file carries one
kind of dirt (plus the PII it was born with) and the record stays easy to check.
"""

from __future__ import annotations

import random
from typing import Any

from . import dirt
from .build import Doc

N_EXACT, N_NEAR, N_MOJIBAKE_FILE, N_MOJIBAKE_LINE, N_GBK, N_LOWQ, N_UNSAFE = 20, 20, 6, 10, 4, 30, 16


def _take(pool: list[Doc], n: int, rng: random.Random, lang: str | None = None) -> list[Doc]:
    """Remove and return ``n`` random docs (of ``lang`` when given) from ``pool``, in path order."""
    eligible = sorted((d for d in pool if lang is None or d.lang == lang), key=lambda d: d.path)
    picked = rng.sample(eligible, n)
    for d in picked:
        pool.remove(d)
    return sorted(picked, key=lambda d: d.path)


def inject(corpus: list[Doc], rng: random.Random) -> tuple[list[Doc], dict[str, Any]]:
    """Return the dirty corpus and the record of what was injected where."""
    rec: dict[str, Any] = {
        "exact_duplicates": [],
        "near_duplicates": [],
        "mojibake": [],
        "low_quality": [],
        "unsafe": [],
    }
    prose = [
        d
        for d in corpus
        if not d.has_pii and d.path.endswith((".md", ".txt")) and not d.path.startswith("spam")
    ]
    html = [d for d in corpus if d.path.endswith(".html") and not d.path.startswith("spam")]
    added: list[Doc] = []

    for k, d in enumerate(_take(prose, N_EXACT - 5, rng) + _take(html, 5, rng)):
        ext = d.path.rsplit(".", 1)[1]
        copy = Doc(f"mirror/old_site_export_{k + 1:03d}.{ext}", d.text, d.lang)
        added.append(copy)
        rec["exact_duplicates"].append({"file": f"raw/{copy.path}", "copy_of": f"raw/{d.path}"})

    for k, d in enumerate(_take(prose, N_NEAR, rng)):
        text, edits = dirt.near_duplicate(d.text, d.lang, rng)
        ext = d.path.rsplit(".", 1)[1]
        copy = Doc(f"drafts/{d.lang}/draft_{k + 1:03d}.{ext}", text, d.lang)
        added.append(copy)
        rec["near_duplicates"].append({"file": f"raw/{copy.path}", "source": f"raw/{d.path}", "edits": edits})

    kinds = ("utf8-as-latin1", "utf8-as-cp1252")
    for k, d in enumerate(_take(prose, N_MOJIBAKE_FILE, rng, "zh")):
        kind = kinds[k % 2]
        rec["mojibake"].append(
            {
                "file": f"raw/{d.path}",
                "kind": kind,
                "scope": "file",
                "clean_first_line": d.text.split("\n", 1)[0],
            }
        )
        d.text = dirt.mojibake(d.text, kind)
    for k, d in enumerate(_take(prose, N_MOJIBAKE_LINE, rng, "zh")):
        kind = kinds[k % 2]
        d.text, clean = dirt.garble_line(d.text, kind, rng)
        rec["mojibake"].append({"file": f"raw/{d.path}", "kind": kind, "scope": "line", "clean_line": clean})
    for d in _take(prose, N_GBK, rng, "zh"):
        d.encoding = "gbk"
        rec["mojibake"].append(
            {
                "file": f"raw/{d.path}",
                "kind": "gbk-bytes",
                "scope": "file",
                "clean_first_line": d.text.split("\n", 1)[0],
            }
        )

    for d in _take(prose, N_LOWQ, rng):
        line = rng.choice(dirt.LOW_QUALITY[d.lang])
        d.text = dirt.insert_line(d.text, line, rng)
        rec["low_quality"].append({"file": f"raw/{d.path}", "line": line})
    rec["low_quality_files"] = [f"raw/{d.path}" for d in corpus if d.path.startswith("spam/")]

    talk = sorted((d for d in corpus if d.path.startswith(("community/", "support/"))), key=lambda d: d.path)
    for k, d in enumerate(rng.sample(talk, N_UNSAFE)):
        category, line = dirt.UNSAFE[d.lang][k % len(dirt.UNSAFE[d.lang])]
        if d.rows:
            row = rng.choice(d.rows)
            if "messages" in row:
                row["messages"].append({"role": "user", "content": line})  # type: ignore[union-attr]
            else:
                row["text"] = f"{row['text']}\n{'Customer' if d.lang == 'en' else '客户'}: {line}"
        else:
            d.text = dirt.insert_line(d.text, line, rng)
        rec["unsafe"].append({"file": f"raw/{d.path}", "category": category, "line": line})
    rec["unsafe"].sort(key=lambda r: (r["file"], r["line"]))

    rec["html_boilerplate"] = {
        "markers": ["<nav", 'id="cookie-banner"', "<footer>", "<script"],
        "files": sorted(f"raw/{d.path}" for d in corpus + added if d.path.endswith(".html")),
    }
    return corpus + added, rec
