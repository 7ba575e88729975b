"""Exact-substring dedup: later copies of spans >= min_length characters go, the first copy stays."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from luban.core.errors import ConfigError
from luban.core.shards import records
from luban.core.workspace import Workspace
from luban.data.curate import CurateConfig, curate
from luban.data.ops.dedup import windows
from luban.data.ops.dedup.substring import SubstringDedup
from luban.data.ops.registry import OpSpec, build

FOOTER = "Copyright 2024 Acme Robotics. All rights reserved. Do not copy without permission."  # 82 chars
ZH_FOOTER = "版权所有，未经艾可机器人公司书面许可，任何单位和个人不得转载、摘编或以其他方式使用本网站内容。"  # 47


def recs(texts: list[str]) -> list[dict]:
    return [{"text": t, "source": "f", "source_line": i + 1} for i, t in enumerate(texts)]


def run(texts: list[str], **kw: int) -> tuple[list[dict], list[dict], SubstringDedup]:
    op = SubstringDedup(**kw)
    batch, _ = op.process(recs(texts))
    kept, rejected = op.select(batch)
    return kept, rejected, op


def reference(texts: list[str], k: int, min_remaining: int) -> tuple[list[str], list[int]]:
    """The definition, character by character: (kept texts, indices of rejected texts)."""
    first: dict[str, tuple[int, int]] = {}
    kept, rejected = [], []
    for d, t in enumerate(texts):
        gone = [False] * len(t)
        for p in range(len(t) - k + 1):
            s = t[p:p + k]
            src = first.setdefault(s, (d, p))
            if src[0] != d or p - src[1] >= k:
                gone[p:p + k] = [True] * k
        new = "".join(c for c, g in zip(t, gone) if not g)
        if any(gone) and len("".join(new.split())) < min_remaining:
            rejected.append(d)
        else:
            kept.append(new)
    return kept, rejected


def test_boilerplate_across_documents_is_removed_and_the_first_copy_kept() -> None:
    texts = [f"The X100 vacuum maps every room. {FOOTER}",
             f"The L2 lock opens with a fingerprint. {FOOTER}",
             f"Our H1 hub links both devices. {FOOTER} Questions go to support."]
    kept, rejected, op = run(texts, min_length=50)
    # exactly the repeated characters go: ". Copyright ... permission." repeats "room. Copyright ..."
    assert [k["text"] for k in kept] == [texts[0], "The L2 lock opens with a fingerprint",
                                         "Our H1 hub links both devices Questions go to support."]
    assert rejected == []
    stats = op.stats.to_dict()
    assert stats["modified"] == 2 and stats["dropped"] == 0
    assert stats["tags"] == {"chars removed": 2 * (len(FOOTER) + 2), "spans removed": 2}


def test_chinese_boilerplate_counts_characters() -> None:
    texts = ["扫地机器人每天自动清洁客厅和卧室。" + ZH_FOOTER,
             "智能门锁支持指纹和密码两种开锁方式。" + ZH_FOOTER,
             "客服在工作日九点到六点之间回答问题。" + ZH_FOOTER[:28]]  # "。" + 28 < 30 characters: stays
    kept, rejected, _ = run(texts, min_length=30, min_remaining=5)
    # "。版权所有…" (48 characters) repeats the end of the first document
    assert [k["text"] for k in kept] == [texts[0], "智能门锁支持指纹和密码两种开锁方式", texts[2]]
    assert rejected == []


def test_repeats_within_one_document_keep_the_first() -> None:
    line = "Press the power button for three seconds to restart the robot."  # 63 chars
    text = f"Step 1. {line} Step 2. Wait for the light. Step 3. {line} Done."
    kept, _, op = run([text], min_length=40)
    # ". {line} " repeats "1. {line} Step"
    assert kept[0]["text"] == f"Step 1. {line} Step 2. Wait for the light. Step 3Done."
    assert op.stats.tags["chars removed"] == len(line) + 3


def test_periodic_text_keeps_one_full_copy() -> None:
    kept, _, _ = run(["ab" * 100, "哈" * 50], min_length=10, min_remaining=5)
    assert [k["text"] for k in kept] == ["ab" * 5, "哈" * 10]


def test_repeats_shorter_than_min_length_are_kept() -> None:
    span = "x7q2-" * 8  # 40 characters
    texts = [f"first {span}", f"second {span}", f"other {span[:39]}!"]
    kept, _, _ = run(texts, min_length=41, min_remaining=3)  # " " + span: 41 characters repeated
    assert [k["text"] for k in kept] == [texts[0], "second", texts[2]]  # " " + 39 characters stay
    kept, _, _ = run(texts, min_length=42, min_remaining=3)  # one character more than any repeat
    assert [k["text"] for k in kept] == texts


def test_document_emptied_by_removal_is_rejected_with_reason() -> None:
    texts = [f"Intro. {FOOTER}", FOOTER, f"{FOOTER} ok"]
    kept, rejected, op = run(texts, min_length=50, min_remaining=5)
    assert [k["text"] for k in kept] == [texts[0]]
    assert [(r["source_line"], r["text"], r["operator"], r["duplicate_of"]) for r in rejected] == [
        (2, FOOTER, "substring_dedup", "f:1"), (3, f"{FOOTER} ok", "substring_dedup", "f:1")]
    reason = "repeats earlier text (< 5 characters left)"
    assert {r["reason"] for r in rejected} == {reason}
    assert op.stats.to_dict()["reasons"] == {reason: 2}
    assert op.stats.modified == 0 and op.stats.kept == 1


def test_overlapping_and_adjacent_spans_merge_into_one() -> None:
    a = "The robot returns to its dock when the battery runs low."
    m = " Then it "  # shared by both sources, shorter than min_length
    b = "resumes cleaning exactly where it stopped before charging."
    c = " Customers schedule cleaning from the mobile app each day."
    texts = [a + m + "waits.", m + b, c, f"New intro. {a}{m}{b}{c} New outro."]
    kept, _, op = run(texts, min_length=30, min_remaining=5)
    assert kept[3]["text"] == "New intro.  New outro."
    # a+m from doc 1 and m+b from doc 2 overlap in m; c from doc 3 is adjacent: one span
    assert op.stats.tags["spans removed"] == 1
    assert op.stats.tags["chars removed"] == len(a + m + b + c)


def test_matches_the_definition_on_random_text() -> None:
    rng = random.Random(4)
    texts = ["".join(rng.choice("ab机") for _ in range(rng.randrange(0, 80))) for _ in range(300)]
    kept, rejected, _ = run(texts, min_length=8, min_remaining=10)
    want_kept, want_rejected = reference(texts, 8, 10)
    assert [k["text"] for k in kept] == want_kept
    assert [r["source_line"] - 1 for r in rejected] == want_rejected
    assert len(want_rejected) > 0 and sum(map(len, want_kept)) < sum(map(len, texts)) / 2  # a real test


def test_hash_collisions_never_remove_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(windows, "_splitmix64", lambda codes: np.zeros(len(codes), dtype=np.uint64))
    texts = [f"alpha {FOOTER}", f"bravo {FOOTER[::-1]}", "charlie " + FOOTER.upper()]
    kept, _, _ = run(texts, min_length=20)  # every window now has the same hash
    assert [k["text"] for k in kept] == texts


def test_sorting_in_parts_gives_the_same_result(monkeypatch: pytest.MonkeyPatch,
                                                 make_docs: Callable[..., list[str]]) -> None:
    texts = [d + " " + FOOTER if i % 3 else d for i, d in enumerate(make_docs(60, seed=2))]
    texts += [t[40:200] for t in texts[:20]]
    whole, whole_rej, _ = run(texts, min_length=50)
    monkeypatch.setattr(windows, "PART", 64)
    parts, parts_rej, _ = run(texts, min_length=50)
    assert parts == whole and parts_rej == whole_rej
    assert len(whole) < len(texts)


def test_records_not_prepared_by_workers_are_hashed_in_select() -> None:
    op = SubstringDedup(min_length=50, min_remaining=3)
    kept, _ = op.select(recs([f"a {FOOTER}", f"the b {FOOTER}"]))
    assert [k["text"] for k in kept] == [f"a {FOOTER}", "the b"]
    assert all(not key.startswith("_") for k in kept for key in k)


@pytest.mark.parametrize("args", [{"min_length": 0}, {"min_length": "50"}, {"min_length": 2.5},
                                  {"min_remaining": -1}, {"min_len": 50}])
def test_bad_arguments_are_config_errors(args: dict) -> None:
    with pytest.raises(ConfigError):
        build(OpSpec("substring_dedup", args))


def corpus(path: Path, make_docs: Callable[..., list[str]]) -> None:
    docs = make_docs(90, seed=11)
    docs = [d + (" " + FOOTER if i % 2 else ZH_FOOTER) for i, d in enumerate(docs)]
    docs += [FOOTER, ZH_FOOTER + "。", docs[5][: len(docs[5]) // 2] + " 新的结尾。"]  # all three emptied
    path.write_text("\n".join(json.dumps({"text": d}, ensure_ascii=False) for d in docs) + "\n", encoding="utf-8")


def recipe(executor: str = "local", workers: int = 2) -> CurateConfig:
    return CurateConfig(inputs=["corpus.jsonl"], executor=executor, workers=workers, batch_size=8,
                        process=[{"whitespace": {}}, {"substring_dedup": {"min_length": 30}}, {"length": {"min_chars": 10}}])


def test_curate_gives_the_same_dataset_with_one_or_two_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_docs: Callable[..., list[str]]) -> None:
    monkeypatch.chdir(tmp_path)
    corpus(tmp_path / "corpus.jsonl", make_docs)
    one = curate(recipe(workers=1), Workspace(tmp_path / "w1"))
    two = curate(recipe(workers=2), Workspace(tmp_path / "w2"))
    assert records(two) == records(one)
    assert records(two, "rejected") == records(one, "rejected")
    assert two.manifest.stats["operators"] == one.manifest.stats["operators"]
    op = next(o for o in one.manifest.stats["operators"] if o["name"] == "substring_dedup")
    assert op["in"] == 93 and op["modified"] == 88 and op["dropped"] == 3  # 3 left with almost nothing
    assert op["tags"]["chars removed"] > 88 * len(ZH_FOOTER)
    train = [r["text"] for r in records(one)]
    assert sum(FOOTER in t for t in train) == 1 and sum(ZH_FOOTER in t for t in train) == 1
    assert {r["operator"] for r in records(one, "rejected")} == {"substring_dedup"}


@pytest.mark.slow
@pytest.mark.needs("ray", "pip install 'luban[ray]'")
def test_ray_executor_gives_the_same_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             make_docs: Callable[..., list[str]]) -> None:
    import ray

    monkeypatch.chdir(tmp_path)
    corpus(tmp_path / "corpus.jsonl", make_docs)
    local = curate(recipe(), Workspace(tmp_path / "w-local"))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        on_ray = curate(recipe("ray"), Workspace(tmp_path / "w-ray"))
    finally:
        ray.shutdown()
    assert records(on_ray) == records(local)
    assert records(on_ray, "rejected") == records(local, "rejected")
    assert on_ray.manifest.stats["operators"] == local.manifest.stats["operators"]
