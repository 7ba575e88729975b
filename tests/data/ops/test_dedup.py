"""Deduplication: exact on normalized text, near-duplicates with MinHash-LSH in English and Chinese."""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np

from luban.data.ops.dedup.exact import ExactDedup
from luban.data.ops.dedup.lsh import components, optimal_bands
from luban.data.ops.dedup.minhash import MinHashDedup
from luban.data.ops.dedup.shingles import shingle_hashes
from luban.data.ops.dedup.signatures import minhash_numpy, minhash_rensa


def recs(texts: list[str]) -> list[dict]:
    return [{"text": t, "source": "f", "source_line": i + 1} for i, t in enumerate(texts)]


def run(op, texts: list[str]) -> tuple[list[dict], list[dict]]:  # type: ignore[no-untyped-def]
    batch, _ = op.process(recs(texts))
    return op.select(batch)


def test_exact_dedup_ignores_case_width_and_punctuation() -> None:
    kept, rejected = run(ExactDedup(), ["Hello, World!", "hello world", "ＨＥＬＬＯ　ＷＯＲＬＤ。", "other"])
    assert [k["text"] for k in kept] == ["Hello, World!", "other"]
    assert [r["duplicate_of"] for r in rejected] == ["f:1", "f:1"]


def test_near_duplicates_english_and_chinese(make_docs: Callable[..., list[str]]) -> None:
    base = make_docs(40, seed=3)
    rng = random.Random(1)
    texts = list(base)
    en = base[1].split()
    en[rng.randrange(len(en))] = "changed"
    texts.append(" ".join(en))  # one word changed: near duplicate of doc 1
    texts.append(base[0][:-3] + "不同。")  # Chinese, last characters changed: near duplicate of doc 0
    kept, rejected = run(MinHashDedup(), texts)
    assert len(kept) == 40
    assert sorted((r["source_line"], r["duplicate_of"]) for r in rejected) == [(41, "f:2"), (42, "f:1")]


def test_signature_backends_estimate_jaccard(make_docs: Callable[..., list[str]]) -> None:
    a = make_docs(1, seed=5)[0]
    words = a.split()
    b = " ".join(words[: len(words) // 2])  # a prefix: true Jaccard of shingles ~0.5
    flat, off = shingle_hashes([a, b, ""])
    assert list(np.diff(off))[-1] == 0
    for fn in (minhash_numpy, minhash_rensa):
        sig = fn(flat, off, 128, 1)
        est = float((sig[0] == sig[1]).mean())
        sa = set(flat[off[0]:off[1]].tolist())
        sb = set(flat[off[1]:off[2]].tolist())
        assert abs(est - len(sa & sb) / len(sa | sb)) < 0.15


def test_bands_and_components() -> None:
    b, r = optimal_bands(0.8, 128)
    assert b * r <= 128 and 0.6 < (1 / b) ** (1 / r) < 0.9
    label = components(6, np.array([4, 1, 5]), np.array([5, 2, 3]))
    assert label.tolist() == [0, 1, 1, 3, 3, 3]


def test_keyed_dedup_decides_on_keys_alone_naming_an_earlier_kept_record(make_docs: Callable[..., list[str]]) -> None:
    texts = make_docs(30, seed=4)
    texts += [texts[3], texts[3].upper(), texts[10] + " extra", texts[0]]
    for op in (ExactDedup(), MinHashDedup()):
        batch, _ = op.process(recs(texts))
        keys = np.frombuffer(b"".join(r.pop(op.key) for r in batch), dtype=np.uint8).reshape(len(batch), -1)
        label = op.select_keys(keys)  # fixed-size bytes per record, no texts
        idx = np.arange(len(texts))
        assert (label <= idx).all() and (label[label] == label).all()
        assert label[30] == label[31] == 3 and label[33] == 0
        assert op.stats.seen == len(texts) and op.stats.kept == int((label == idx).sum())
