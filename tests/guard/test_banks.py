"""The shipped lexicons and refusal banks: sizes and coverage that TC260-003 asks (8.1, 8.3)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from luban.guard.categories import RISKS, appendix_code
from luban.guard.scanners.lexicon import LEXICON_DIR, read_lexicon

BANKS = Path(__file__).resolve().parents[2] / "src" / "luban" / "guard" / "banks"
A1_A2 = [c for c in RISKS if c.startswith(("A.1.", "A.2."))]


def bank(name: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in (BANKS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if line]


def test_refusal_banks_cover_the_17_risks_in_both_languages() -> None:
    refuse, answer = bank("must_refuse"), bank("must_answer")
    assert len(refuse) >= 500 and len(answer) >= 500  # 8.3
    per_code = Counter(r["code"] for r in refuse)
    assert sorted(per_code) == sorted(A1_A2) and min(per_code.values()) >= 20
    assert {r["lang"] for r in refuse} == {r["lang"] for r in answer} == {"zh", "en"}
    assert all(appendix_code(r["category"]) == r["code"] for r in refuse + answer)
    assert len({r["id"] for r in refuse}) == len(refuse)
    assert not {r["text"] for r in refuse} & {r["text"] for r in answer}


def test_keyword_library_size_and_tags() -> None:
    terms = [row for path in LEXICON_DIR.glob("*.tsv") for row in read_lexicon(path)]
    assert len({t.lower() for t, _, _ in terms}) >= 10_000  # 8.1
    codes = Counter(appendix_code(c) for _, c, _ in terms)
    assert None not in codes  # every shipped category maps to Appendix A
    assert all(codes[c] >= 100 for c in A1_A2 if c.startswith("A.2."))
