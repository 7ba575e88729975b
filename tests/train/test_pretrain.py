"""Pretrain recipe: packed continued pretraining gives a full model artifact that lowers the loss."""

from __future__ import annotations

import json

import pytest
from train_fixtures import make_dataset

from luban.core.errors import UsageError
from luban.train.pretrain import PretrainConfig, pretrain


def test_pretrain_packs_text_and_saves_a_full_model(ws, base, text_data):
    cfg = PretrainConfig(train={"max_steps": 6, "batch_size": 4, "max_seq_length": 64, "logging_steps": 1,
                                "lr": 3e-3, "warmup_ratio": 0.0})
    art = pretrain(cfg, ws, {"model": base, "data": text_data}, name="pre")
    assert {"model.safetensors", "config.json", "tokenizer.json", "chat_template.jinja",
            "generation_config.json"} <= {p.name for p in art.path.iterdir()}
    rows = [r for r in map(json.loads, (art.path / "run" / "metrics.jsonl").read_text().splitlines()) if "loss" in r]
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert art.manifest.stats["tokens"] == 6 * 4 * 64  # packed: every block is full, no padding
    assert art.parent("base").id == base.id and art.parent("data").id == text_data.id


def test_pretrain_needs_a_text_column(ws, base):
    ds = make_dataset(ws, "chatty", [{"messages": [{"role": "user", "content": "hi"}]}])
    with pytest.raises(UsageError, match="needs 'text'"):
        pretrain(PretrainConfig(), ws, {"model": base, "data": ds})
