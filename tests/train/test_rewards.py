"""Rule-based rewards: each scores plain and conversational completions as its docstring says."""

from __future__ import annotations

import pytest

from luban.core.config import build_config
from luban.core.errors import ConfigError, UsageError
from luban.train.rewards import RewardSpec, build_reward


def spec(**kw: object) -> RewardSpec:
    return build_config(RewardSpec, dict(kw))


def test_length_prefers_answers_near_the_target() -> None:
    f = build_reward(spec(kind="length", target=10))
    near, far = f([], ["x" * 10, "x" * 200])
    assert near == 0.0 and far < near


def test_regex_checks_a_format_on_chat_completions() -> None:
    f = build_reward(spec(kind="regex", pattern=r"^<think>.+</think>"))
    assert f([], [[{"role": "assistant", "content": "<think>a\nb</think> 4"}],
                  [{"role": "assistant", "content": "4"}]]) == [1.0, 0.0]


def test_keyword_counts_the_share_of_words_present() -> None:
    f = build_reward(spec(kind="keyword", words=["X100", "warranty"]))
    assert f([], ["The x100 has a WARRANTY", "The X100", "nothing"]) == [1.0, 0.5, 0.0]


def test_exact_match_reads_the_reference_column() -> None:
    f = build_reward(spec(kind="exact_match"))
    out = f([], ["Two years.", "It has two years of cover", "no"], reference=["two years", "two years", "x"])
    assert out == [1.0, 0.5, 0.0]
    with pytest.raises(UsageError, match="reads column 'reference'"):
        f([], ["a"], answer=["a"])


def test_incomplete_specs_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="needs `pattern`"):
        spec(kind="regex")
    with pytest.raises(ConfigError, match="needs `words`"):
        spec(kind="keyword")
    with pytest.raises(ConfigError, match="kind"):
        spec(kind="vibes")
