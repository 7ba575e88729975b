"""DPO and its ORPO / SimPO variants: the tuned model prefers the chosen answers more than the base did."""

from __future__ import annotations

import math

import pytest
from preference_fixtures import make_pairs, preference_margin
from train_fixtures import chat_rows, make_dataset

from luban.core.artifact import Artifact
from luban.core.config import build_config
from luban.core.errors import ConfigError, UsageError
from luban.core.workspace import Workspace
from luban.train.dpo import DPOConfig, dpo

FAST = {"lr": 5e-3, "max_steps": 12, "batch_size": 4, "logging_steps": 2, "save_steps": 100, "warmup_ratio": 0.0,
        "scheduler": "constant", "max_seq_length": 128}


def test_dpo_raises_the_preference_margin_and_records_lineage(ws: Workspace, base: Artifact) -> None:
    pairs = make_pairs(ws)
    before = preference_margin(base.path)
    cfg = build_config(DPOConfig, {"train": FAST, "lora": {"r": 8}})
    art = dpo(cfg, ws, {"model": base, "data": pairs}, name="aligned")
    assert art.kind == "model" and (art.path / "adapter_config.json").is_file()
    roles = {p.role: p.id for p in art.manifest.parents}
    assert roles == {"base": base.id, "data": pairs.id}
    s = art.manifest.stats
    assert s["steps"] == 12 and math.isfinite(s["train_loss"]) and s["adapter"] is True
    assert (art.path / "run" / "metrics.jsonl").is_file()
    assert preference_margin(art.path) > before + 1.0
    assert s["reward_accuracy"] >= 0.75


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["orpo", "simpo"])
def test_reference_free_variants_train_and_raise_the_margin(ws: Workspace, base: Artifact, variant: str) -> None:
    pairs = make_pairs(ws)
    before = preference_margin(base.path)
    cfg = build_config(DPOConfig, {"variant": variant, "train": FAST, "lora": {"r": 8}})
    art = dpo(cfg, ws, {"model": base, "data": pairs}, name=f"aligned-{variant}")
    assert art.manifest.stats["variant"] == variant and math.isfinite(art.manifest.stats["train_loss"])
    assert preference_margin(art.path) > before


def test_chat_data_is_refused_with_the_columns_it_has(ws: Workspace, base: Artifact) -> None:
    chat = make_dataset(ws, "chat", chat_rows(4))
    with pytest.raises(UsageError, match=r"needs 'prompt'.*luban data format"):
        dpo(build_config(DPOConfig, {"train": FAST}), ws, {"model": base, "data": chat})


def test_unknown_loss_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown DPO loss 'sigmod'"):
        build_config(DPOConfig, {"loss_type": "sigmod"})
