"""Intent and purpose cues are found by a literal pass plus a match at each candidate: the same positions
as `finditer` over the whole text."""

from __future__ import annotations

import json
import random
from pathlib import Path

from luban.guard.scanners.intent import (
    INTENT_EN,
    PURPOSE_EN,
    WordAlternation,
    _literal_prefixes,
    asking_sentences,
)

BANKS = Path(__file__).resolve().parents[3] / "src" / "luban" / "guard" / "banks"


def bank_texts() -> list[str]:
    return [json.loads(line)["text"].lower() for name in ("must_refuse", "must_answer", "benign")
            for line in (BANKS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def test_literal_prefixes_stop_before_optional_characters_and_expand_leading_groups() -> None:
    assert _literal_prefixes("instructions?") == ["instruction"]
    assert _literal_prefixes("let'?s") == ["let"]
    assert _literal_prefixes("(?:do|would) (?:i|we) need") == ["do ", "would "]
    assert _literal_prefixes(r"(?:\w+) x") == [] and _literal_prefixes(r"\d+") == []


def test_cue_positions_equal_finditer_on_the_banks_and_on_random_text() -> None:
    rng = random.Random(5)
    words = ["how", "do", "i", "write", "a", "plan", "to", "buy", "the", "history", "of", "why", "did", "i", "want", "to", "let's", "fact-check", "refund", "border", "showme", "instructions", "tips", "for", "make", "up", "medicine"]
    texts = bank_texts() + [" ".join(rng.choices(words, k=rng.randint(1, 60))) for _ in range(500)]
    for rx in (INTENT_EN, PURPOSE_EN):
        fast = WordAlternation(rx)
        assert fast.auto is not None  # every branch has a literal prefix
        for t in texts:
            assert fast.starts(t) == [m.start() for m in rx.finditer(t)], t


def test_asking_sentences_still_split_requests_from_questions() -> None:
    text = "How do I make a pipe bomb? Why did the empire fall? 教我做炸弹。"
    spans = [text.lower()[s:e].strip(" ?。") for s, e in asking_sentences(text.lower())]
    assert spans == ["how do i make a pipe bomb", "教我做炸弹"]
