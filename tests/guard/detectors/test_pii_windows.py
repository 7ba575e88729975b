"""PII detectors search only the windows around their seeds: the same matches as a whole-text search."""

from __future__ import annotations

import random

from luban.guard import detectors
from luban.guard.detectors.windows import Windows, fold

SAMPLES = [
    "alice@example.com", "a.b+c@mail.example.co.uk", "icon@2x.png", "git@github.com:owner/repo.git",
    "13812345678", "+86 138 1234 5678", "138-1234-5678", "010-12345678", "(0755)8765 4321", "+1 415 555 0100",
    "+44 (20) 7946-0958", "11010519491231002X", "6222 0212 3456 7895", "4111-1111-1111-1111", "9558800200123456788",
    "192.168.1.20", "10.0.0.1/24", "255.255.255.0", "2001:da8::8a2e:370:7334", "fe80::1", "std::vector",
    "护照 E12345678", "passport G12345678", "京A12345", "粤B·D12345", "南京A1234", "订单号 13812345678",
    "Invoice # 4111111111111111", "version 1.2.3.4", "１３８１２３４５６７８", "٠١٢٣٤٥٦٧٨٩",
]
NOISE = list("0123456789 -.:()+@#/_abcxyzABCXYZ京粤南订单号。，\n") + ["  ", "No. ", "passport ", "电话", "tel "]


def whole_text(text: str) -> list[detectors.Match]:
    """The reference: every detector over the whole text, overlaps resolved as `scan` does."""
    found = [(d.priority, m) for d in detectors.load() for m in d.find(text)]
    found.sort(key=lambda pm: (-pm[0], -(pm[1].end - pm[1].start), pm[1].start))
    taken: list[detectors.Match] = []
    for _, m in found:
        if all(m.end <= t.start or m.start >= t.end for t in taken):
            taken.append(m)
    return sorted(taken, key=lambda m: m.start)


def test_fold_keeps_offsets_and_folds_every_decimal_digit() -> None:
    assert fold("a1b29") == "a0b00"
    assert fold("电话１３８٣") == "电话0000"
    assert len(fold("x" * 10 + "٣")) == 11


def test_windows_merge_and_cover_the_margin() -> None:
    text = "a" * 300 + "13812345678" + "b" * 100 + "13812345679" + "c" * 400
    [(s, e)] = Windows(text).of(detectors.DETECTORS.get("cn_mobile").seed)
    assert s == 300 - 128 and e == 300 + 11 + 100 + 6 + 128  # the seed is the first six digits
    assert Windows("no digits here, only words").of(detectors.DETECTORS.get("cn_mobile").seed) == []
    assert Windows("plain ascii 12345678").of(detectors.DETECTORS.get("licence_plate").seed) == []


def test_email_window_is_the_token_around_the_at_sign() -> None:
    text = "write to  bob.smith+tag@mail.example.org, or not"
    [(s, e)] = Windows(text).of(detectors.DETECTORS.get("email").seed)
    assert text[s:e] == "bob.smith+tag@mail.example.org,"


def test_each_sample_is_found_alone_and_inside_long_text() -> None:
    for sample in SAMPLES:
        for text in (sample, "Lorem ipsum dolor sit amet. " * 20 + sample + " 谢谢。" * 30):
            assert detectors.scan(text) == whole_text(text), text


def test_random_texts_give_the_same_matches_as_a_whole_text_search() -> None:
    rng = random.Random(7)
    for _ in range(400):
        parts = []
        for _ in range(rng.randint(1, 60)):
            parts.append(rng.choice(SAMPLES) if rng.random() < 0.3 else "".join(rng.choices(NOISE, k=rng.randint(1, 12))))
            if rng.random() < 0.2:
                parts.append(" filler words without numbers " * rng.randint(1, 12))
        text = "".join(parts)
        assert detectors.scan(text) == whole_text(text), text
