"""Deduplication: exact on normalized text, near-duplicates with MinHash-LSH in English and Chinese."""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import pytest

from luban.data.ops.dedup.exact import ExactDedup
from luban.data.ops.dedup.lsh import components, near_duplicate_clusters, optimal_bands
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


FAQ_EN = [
    "How do I reset my password if I no longer have access to the email address on my account?",
    "Can I change the delivery address of an order after it has been shipped from the warehouse?",
    "Why was my card declined at checkout even though the bank says the payment went through?",
    "What happens to my saved cleaning schedule when the robot is moved to a different floor?",
    "Is there a way to export all invoices for the last financial year as a single PDF file?",
    "How long does a refund take to appear on my statement after the returned item has arrived?",
]
FAQ_ZH = [
    "如果我忘记了登录密码并且无法收到验证短信应该怎么办",
    "订单发货以后还可以修改收货地址或者更换收货人吗",
    "为什么付款时提示银行卡被拒绝但是银行显示已经扣款",
    "扫地机器人搬到另一层楼以后原来的清扫计划还会保留吗",
    "能否把去年一整年的发票一次性导出为一个文件下载",
    "退回的商品到达仓库以后退款多久能回到我的账户里",
]


def one_in_25(text: str, zh: bool, rng: random.Random) -> str:
    """Replace max(1, round(m / 25)) words (Chinese: characters) at random positions."""
    toks = list(text) if zh else text.split()
    for i in rng.sample(range(len(toks)), max(1, round(len(toks) / 25))):
        toks[i] = "换" if zh else "replaced"
    return ("" if zh else " ").join(toks)


def test_short_texts_with_one_word_or_character_in_25_changed_are_found_at_defaults() -> None:
    rng = random.Random(7)
    assert min(len(t.split()) for t in FAQ_EN) >= 15 and min(len(t) for t in FAQ_ZH) >= 20
    base = FAQ_EN + FAQ_ZH
    copies = [one_in_25(t, i >= len(FAQ_EN), rng) for i, t in enumerate(base)]
    kept, rejected = run(MinHashDedup(), base + copies)
    assert [k["text"] for k in kept] == base  # every copy found, no distinct question lost
    assert sorted((r["source_line"], r["duplicate_of"]) for r in rejected) == [
        (len(base) + i + 1, f"f:{i + 1}") for i in range(len(base))]


def test_five_gram_shingles_miss_those_copies_which_is_why_short_texts_take_bigrams() -> None:
    rng = random.Random(7)
    copies = [one_in_25(t, False, rng) for t in FAQ_EN]
    kept, _ = run(MinHashDedup(ngram=5), FAQ_EN + copies)
    assert len(kept) > len(FAQ_EN) + len(FAQ_EN) // 2  # most copies survive fixed 5-grams


def test_short_texts_over_one_small_vocabulary_stay_distinct() -> None:
    words = ["the", "robot", "cleans", "each", "room", "and", "returns", "to", "its", "dock", "when", "the", "battery", "runs", "low"]
    rng = random.Random(3)
    texts = [" ".join(rng.sample(words, len(words))) for _ in range(30)]  # same words, other orders
    kept, rejected = run(MinHashDedup(), texts)
    assert len(kept) == 30 and not rejected


def test_auto_ngram_takes_bigrams_below_the_short_text_length_and_5_grams_above() -> None:
    short = " ".join(f"w{i}" for i in range(20))
    long = " ".join(f"w{i}" for i in range(600))
    _, off = shingle_hashes([short, long, "", "one"], n=5, short_below=512)
    assert np.diff(off).tolist() == [19, 596, 0, 1]
    _, off = shingle_hashes([short, long], n=5)  # explicit: one size for every length
    assert np.diff(off).tolist() == [16, 596]
    assert MinHashDedup(ngram=3).short_below == 0 and MinHashDedup().short_below == 512


@pytest.mark.parametrize("kwargs, message", [
    ({"ngram": 0}, "ngram must be 'auto' or a whole number"),
    ({"ngram": "five"}, "ngram must be 'auto' or a whole number"),
    ({"short_text": -1}, "short_text must be a whole number"),
    ({"threshold": 1.5}, "threshold must be in"),
])
def test_bad_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MinHashDedup(**kwargs)


def test_lsh_bands_are_tuned_below_the_threshold_so_pairs_near_it_are_candidates() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2**32 - 2, size=(200, 128), dtype=np.uint32)
    b = a.copy()
    for row in b:  # each copy agrees with its original on ~72% of the permutations
        row[rng.choice(128, size=36, replace=False)] = rng.integers(0, 2**32 - 2, size=36, dtype=np.uint32)
    label = near_duplicate_clusters(np.concatenate([a, b]), threshold=0.7)
    assert (label[200:] == np.arange(200)).mean() >= 0.95
