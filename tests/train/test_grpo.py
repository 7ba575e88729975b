"""GRPO: the policy's reward goes up; lineage names the base, the prompts and the reward model."""

from __future__ import annotations

import math

import pytest
from train_fixtures import chat_rows, make_dataset

from luban.core.artifact import Artifact
from luban.core.config import build_config
from luban.core.errors import UsageError
from luban.core.workspace import Workspace
from luban.train.grpo import GRPOConfig, grpo

FAST = {"lr": 2e-2, "max_steps": 10, "batch_size": 8, "logging_steps": 1, "save_steps": 100,
        "warmup_ratio": 0.0, "scheduler": "constant", "seed": 0}


def test_grpo_with_a_rule_reward_raises_the_reward(ws: Workspace, base: Artifact) -> None:
    data = make_dataset(ws, "questions", chat_rows(8, system=False))
    # Shorter is better: a random tiny model rambles to max_completion_length, and learning to stop early is
    # within reach of ten steps.
    cfg = build_config(GRPOConfig, {"rewards": [{"kind": "length", "target": 0}], "max_completion_length": 24,
                                    "train": FAST, "lora": {"r": 8}})
    art = grpo(cfg, ws, {"model": base, "data": data}, name="rl")
    assert art.kind == "model" and (art.path / "adapter_config.json").is_file()
    assert {p.role: p.id for p in art.manifest.parents} == {"base": base.id, "data": data.id}
    s = art.manifest.stats
    assert s["steps"] == 10 and math.isfinite(s["train_loss"])
    assert s["final_reward"] > s["first_reward"]


def test_batch_must_hold_whole_groups_and_reward_model_needs_its_input(ws: Workspace, base: Artifact) -> None:
    data = make_dataset(ws, "questions", chat_rows(4))
    cfg = build_config(GRPOConfig, {"rewards": [{"kind": "length"}], "num_generations": 3, "train": FAST})
    with pytest.raises(UsageError, match="not a multiple of num_generations"):
        grpo(cfg, ws, {"model": base, "data": data})
    cfg = build_config(GRPOConfig, {"rewards": [{"kind": "reward_model"}], "train": FAST})
    with pytest.raises(UsageError, match="--input reward_model=NAME"):
        grpo(cfg, ws, {"model": base, "data": data})
