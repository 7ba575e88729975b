"""The reward recipe: a sequence-classification artifact that ranks chosen over rejected after training."""

from __future__ import annotations

import json
import math

import pytest
from preference_fixtures import make_pairs

from luban.core.artifact import Artifact
from luban.core.config import build_config
from luban.core.workspace import Workspace
from luban.models.loading import load_tokenizer
from luban.train.preference import load_pairs
from luban.train.reward import RewardConfig, pair_accuracy, reward

FAST = {"lr": 3e-3, "max_steps": 15, "batch_size": 4, "logging_steps": 5, "save_steps": 100, "warmup_ratio": 0.0,
        "scheduler": "constant", "max_seq_length": 128}


@pytest.mark.parametrize("method", ["full", pytest.param("lora", marks=pytest.mark.slow)])
def test_reward_model_learns_to_rank_the_pairs(ws: Workspace, base: Artifact, method: str) -> None:
    from transformers import AutoModelForSequenceClassification

    pairs = make_pairs(ws)
    cfg = build_config(RewardConfig, {"method": method, "train": FAST})
    art = reward(cfg, ws, {"model": base, "data": pairs}, name=f"rm-{method}")
    assert art.kind == "model" and not (art.path / "adapter_config.json").exists()
    assert {p.role: p.id for p in art.manifest.parents} == {"base": base.id, "data": pairs.id}
    hf = json.loads((art.path / "config.json").read_text())
    assert hf["architectures"][0].endswith("ForSequenceClassification")
    s = art.manifest.stats
    assert math.isfinite(s["train_loss"]) and s["pair_accuracy"] == 1.0 and s["mean_margin"] > 0
    # the saved artifact scores like the trained model: reload and re-measure
    model = AutoModelForSequenceClassification.from_pretrained(art.path)
    assert model.config.num_labels == 1
    again = pair_accuracy(model, load_tokenizer(art.path), load_pairs(pairs, "test"))
    assert again["pair_accuracy"] == 1.0
    assert again["mean_margin"] == pytest.approx(s["mean_margin"], rel=1e-3)
