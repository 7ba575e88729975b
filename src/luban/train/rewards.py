"""Rule-based reward functions for RL recipes (GRPO), registered by name so YAML can say `kind: regex`.

Each is a small factory `spec -> fn(prompts, completions, **columns) -> list[float]`, the signature TRL's
GRPOTrainer calls with the prompts, the sampled completions and every other dataset column (so `exact_match`
reads the reference answer from its column). Completions arrive as text or as a one-message conversation.
Adding a reward is one function and one line in REWARDS; a config may also name a "module:factory" of its own
package as `kind`. `reward_model` is registered for its name only: GRPO scores it with its reward model input.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from pydantic import Field, field_validator, model_validator

from luban.core.config import StageConfig
from luban.core.errors import UsageError
from luban.core.registry import Registry

RewardFn = Callable[..., list[float]]


class RewardSpec(StageConfig):
    """One reward term. `weight` scales it in the sum GRPO optimises."""

    kind: str = Field(description="length, regex, keyword, exact_match, reward_model, or a 'module:factory'")
    weight: float = 1.0
    target: int = Field(0, ge=0, description="length: wanted length in characters")
    pattern: str | None = Field(None, description="regex: Python regular expression the answer should match")
    words: list[str] = Field(default_factory=list, description="keyword: words the answer should contain")
    column: str = Field("reference", description="exact_match: dataset column with the reference answer")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        return REWARDS.checked(v)

    @model_validator(mode="after")
    def _complete(self) -> RewardSpec:
        if self.kind == "regex":
            if not self.pattern:
                raise ValueError("a regex reward needs `pattern`")
            re.compile(self.pattern)
        if self.kind == "keyword" and not self.words:
            raise ValueError("a keyword reward needs `words`")
        return self


def completion_text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    return "".join(str(m.get("content") or "") for m in completion)


def normalise(text: str) -> str:
    """NFKC, lower case, collapsed spaces, trailing punctuation dropped (SQuAD-style exact match)."""
    text = unicodedata.normalize("NFKC", text).lower().strip()
    return re.sub(r"\s+", " ", text).rstrip(".!?。！？ ")


def length_reward(spec: RewardSpec) -> RewardFn:
    """Minus the distance from `target` characters, relative to the target (or to 100 for target 0)."""
    scale = max(spec.target, 100)

    def length(prompts: list[Any], completions: list[Any], **_: Any) -> list[float]:
        return [-abs(len(completion_text(c)) - spec.target) / scale for c in completions]

    return length


def regex_reward(spec: RewardSpec) -> RewardFn:
    """1 when the answer matches `pattern` (re.search, DOTALL), else 0: format rewards like <think>...</think>."""
    rx = re.compile(spec.pattern or "", re.DOTALL)

    def regex(prompts: list[Any], completions: list[Any], **_: Any) -> list[float]:
        return [1.0 if rx.search(completion_text(c)) else 0.0 for c in completions]

    return regex


def keyword_reward(spec: RewardSpec) -> RewardFn:
    """Share of `words` the answer contains (case-insensitive)."""
    words = [w.lower() for w in spec.words]

    def keyword(prompts: list[Any], completions: list[Any], **_: Any) -> list[float]:
        texts = [completion_text(c).lower() for c in completions]
        return [sum(w in t for w in words) / len(words) for t in texts]

    return keyword


def exact_match_reward(spec: RewardSpec) -> RewardFn:
    """1 when the normalised answer equals the reference, 0.5 when it contains it, else 0."""

    def exact_match(prompts: list[Any], completions: list[Any], **columns: Any) -> list[float]:
        if spec.column not in columns:
            raise UsageError(f"exact_match reward reads column '{spec.column}', which the dataset lacks",
                             f"set column: to one of {', '.join(k for k in columns if k != 'trainer_state')}")
        out = []
        for c, ref in zip(completions, columns[spec.column], strict=True):
            got, want = normalise(completion_text(c)), normalise(str(ref))
            out.append(1.0 if got == want else 0.5 if want and want in got else 0.0)
        return out

    return exact_match


def reward_model_reward(spec: RewardSpec) -> RewardFn:
    """Not a rule: GRPO scores `reward_model` terms with its reward model input (see `luban.train.grpo`)."""
    raise UsageError("a reward_model reward is scored by a reward model, not a rule function",
                     "use it in train.grpo with --input reward_model=NAME")


REWARD_MODEL = "reward_model"
REWARDS: Registry[Callable[[RewardSpec], RewardFn]] = Registry("reward", {
    "length": length_reward,
    "regex": regex_reward,
    "keyword": keyword_reward,
    "exact_match": exact_match_reward,
    REWARD_MODEL: reward_model_reward,
})


def build_reward(spec: RewardSpec) -> RewardFn:
    """The reward function of a rule reward (every kind but `reward_model`)."""
    return REWARDS.get(spec.kind)(spec)
