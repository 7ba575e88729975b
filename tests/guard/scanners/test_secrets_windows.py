"""The secrets scanner searches only near each pattern's cues: the same findings as a whole-text search."""

from __future__ import annotations

import random

import pytest

from luban.guard.normalize import Text
from luban.guard.scanners import secrets
from luban.guard.scanners.secrets import Secrets, SecretsConfig, cue_windows

SECRETS = ["AKIAIOSFODNN7EXAMPLE", "ghp_" + "a1B2c3D4e5" * 4, "sk-proj-Abc123Def456Ghi789Jkl0",
           "sk-ant-api03-" + "x9Y8z7W6v5" * 3, "postgres://bob:s3cr3tPw@db:5432/x", 'password = "Xk9#mP2$vL8q"',
           "API_KEY: Zr8_k2LmQ9vT4wXy", "Authorization: Bearer " + "eyJhbGciOi.JIUzI1NiJ9.abcDEF1234" * 2,
           "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "xoxb-1234567890-abcdefghij", "hf_" + "abcdefghij" * 3 + "abcd",
           "LTAI5tAbCdEfGh12345", "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----"]
WORDS = ["the", "key", "token", "secret", "pwd", "sk-", "://", "Bearer", " ", "  ", "\n", "=", ":", '"', "İ", "é", "x" * 30]


def scan(text: str) -> list[tuple[int, int, str]]:
    return [(f.start, f.end, f.reason) for f in Secrets(SecretsConfig()).scan(Text(text))]


def test_windows_merge_and_reach_the_next_whitespace() -> None:
    text = "a" * 400 + "sk-" + "b" * 400 + " tail"
    [(s, e)] = cue_windows(text, text, ("sk-",))
    assert s == 400 - secrets.MARGIN and e == text.index(" tail")
    assert cue_windows("no cue here", "no cue here", ("sk-",)) == []


def test_random_texts_find_what_a_whole_text_search_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    texts = []
    for _ in range(300):
        parts = [rng.choice(SECRETS) if rng.random() < 0.3 else rng.choice(WORDS) for _ in range(rng.randint(1, 40))]
        texts.append(("Lorem ipsum dolor sit amet. " * rng.randint(0, 30)).join(rng.sample(parts, len(parts))))
    windowed = [scan(t) for t in texts]
    monkeypatch.setattr(secrets, "WHOLE_TEXT", frozenset(secrets.PATTERNS))
    assert windowed == [scan(t) for t in texts]
    assert sum(map(len, windowed)) > 100  # the texts do hold secrets
