"""The Ray executor on a real local Ray instance gives the same dataset as the local executor."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from luban.core.shards import records
from luban.core.workspace import Workspace
from luban.data.curate import CurateConfig, curate

pytestmark = [pytest.mark.slow, pytest.mark.needs("ray", "pip install 'luban[ray]'")]

SENTENCES = ("the robot vacuum cleans every room and returns to the dock when the battery is low customers can "
             "schedule cleaning with the app set quiet hours and check the map of their home support staff answer "
             "questions about warranty returns delivery and installation within one working day")
WORDS = SENTENCES.split()
HAN = "我们的产品是一款智能扫地机器人可以在家中自动清洁每个房间电量低时会返回充电座用户通过手机应用设置时间并查看地图"


def corpus(path: Path, n: int = 120) -> Path:
    """Bilingual docs with exact and near duplicates and a few too-short ones, as JSON lines."""
    rng = random.Random(7)
    docs = []
    for i in range(n):
        if i % 2:
            docs.append(" ".join(rng.choice(WORDS) for _ in range(90)) + ".")
        else:
            docs.append("".join(rng.choice(HAN) + ("。" if j % 19 == 18 else "") for j in range(160)))
    docs += docs[:10]  # exact duplicates
    docs += [d[:-12] + "一点点修改。" if i % 2 == 0 else d[:-8] + " changed." for i, d in enumerate(docs[10:30])]
    docs += ["too short"] * 3
    path.write_text("\n".join(json.dumps({"text": d}, ensure_ascii=False) for d in docs) + "\n", encoding="utf-8")
    return path


def recipe(executor: str) -> CurateConfig:
    return CurateConfig(inputs=["corpus.jsonl"], executor=executor, workers=2, batch_size=16, process=[
        {"nfkc": {}}, {"whitespace": {}}, {"length": {"min_chars": 20}},
        {"exact_dedup": {}}, {"minhash_dedup": {"threshold": 0.8}}, {"pii": {"action": "mask"}}])


def test_ray_and_local_executors_give_the_same_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    monkeypatch.chdir(tmp_path)
    corpus(tmp_path / "corpus.jsonl")
    local = curate(recipe("local"), Workspace(tmp_path / "w-local"))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        on_ray = curate(recipe("ray"), Workspace(tmp_path / "w-ray"))
    finally:
        ray.shutdown()
    assert records(on_ray) == records(local)
    assert records(on_ray, "rejected") == records(local, "rejected")
    reasons = {r["operator"] for r in records(local, "rejected")}
    assert {"length", "exact_dedup", "minhash_dedup"} <= reasons  # the recipe really dropped things
    assert on_ray.manifest.stats["operators"] == local.manifest.stats["operators"]
