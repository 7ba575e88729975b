"""Merge: a LoRA adapter folded into its base gives the same logits and a standard, servable HF directory."""

from __future__ import annotations

import pytest
import torch

from luban.compress.merge import MergeConfig, merge_stage
from luban.core.errors import UsageError
from luban.models.loading import ImportConfig, import_stage, load_causal_lm, load_tokenizer
from luban.train.sft import SFTConfig, sft


@pytest.fixture
def adapter(ws, tiny_model_dir):
    import pyarrow as pa

    from luban.core.shards import write_splits

    base = import_stage(ImportConfig(path=str(tiny_model_dir)), ws, name="base")
    rows = [{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]}
            for i in range(8)]
    with ws.create("dataset", "d", "test.fixture") as p:
        write_splits(p.path, {"train": pa.Table.from_pylist(rows)})
    cfg = SFTConfig(lora={"r": 4}, train={"max_steps": 2, "batch_size": 4, "max_seq_length": 64, "lr": 5e-2})
    return sft(cfg, ws, {"model": base, "data": p.result}, name="lora")


def test_merge_matches_unmerged_logits_and_exports_a_full_hf_dir(ws, adapter):
    merged = merge_stage(MergeConfig(), ws, {"model": adapter}, name="merged")
    files = {p.name for p in merged.path.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "chat_template.jinja",
            "generation_config.json"} <= files and "adapter_config.json" not in files
    assert merged.manifest.stats["max_abs_logit_diff"] <= 1e-4
    assert merged.parent("adapter").id == adapter.id and merged.parent("base") is not None
    tok = load_tokenizer(merged.path)
    ids = tok(["hello there"], return_tensors="pt")
    with torch.no_grad():
        a = load_causal_lm(adapter.path)(**ids).logits
        b = load_causal_lm(merged.path)(**ids).logits
    assert float((a - b).abs().max()) <= 1e-4
    assert float((a - load_causal_lm(ws.get("base").path)(**ids).logits).abs().max()) > 1e-4  # adapter did change it


def test_merge_refuses_a_full_model(ws, tiny_model_dir):
    base = import_stage(ImportConfig(path=str(tiny_model_dir)), ws, name="base")
    with pytest.raises(UsageError, match="is not an adapter"):
        merge_stage(MergeConfig(), ws, {"model": base})
