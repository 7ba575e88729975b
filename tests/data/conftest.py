"""Data-layer fixtures: small generated bilingual documents, varied enough to pass the quality rules."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

EN_WORDS = ["the", "robot", "vacuum", "cleans", "every", "room", "and", "returns", "to", "the", "dock", "when", "the", "battery", "is", "low", ".", "customers", "can", "schedule", "cleaning", "with", "the", "app", ",", "set", "quiet", "hours", ",", "and", "check", "the", "map", "of", "their", "home", ".", "support", "staff", "answer", "questions", "about", "warranty", ",", "returns", ",", "delivery", "and", "installation", "within", "one", "working", "day", ".", "that", "service", "is", "free", "for", "members", "who", "have", "an", "account", "with", "us", "and", "registered", "the", "product"]
ZH_CHARS = "我们的产品是一款智能扫地机器人可以在家中自动清洁每个房间电量低时会返回充电座用户通过手机应用设置时间并查看地图客服人员在工作日内回答关于保修退货和安装的问题"


def english_doc(rng: random.Random, words: int = 120) -> str:
    return " ".join(rng.choice(EN_WORDS) for _ in range(words)).replace(" .", ".").replace(" ,", ",") + "."


def chinese_doc(rng: random.Random, chars: int = 150) -> str:
    out = []
    for i in range(chars):
        out.append(rng.choice(ZH_CHARS))
        if i % 17 == 16:
            out.append("，" if i % 2 else "。")
    return "".join(out) + "。"


def docs(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [english_doc(rng) if i % 2 else chinese_doc(rng) for i in range(n)]


@pytest.fixture
def make_docs() -> Callable[..., list[str]]:
    """`make_docs(n, seed=0)`: alternating Chinese and English documents of ~120 words."""
    return docs
