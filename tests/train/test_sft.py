"""SFT recipe: LoRA and full fine-tuning of the tiny model produce complete, traceable model artifacts."""

from __future__ import annotations

import json

from luban.models.loading import load_causal_lm
from luban.train.sft import SFTConfig, sft


def _cfg(**kw: object) -> SFTConfig:
    return SFTConfig(train={"max_steps": 3, "batch_size": 4, "max_seq_length": 128, "logging_steps": 1,
                            "save_steps": 2}, **kw)


def test_lora_sft_gives_an_adapter_artifact_with_template_lineage_and_tracking(ws, base, chat_data):
    art = sft(_cfg(lora={"r": 4, "alpha": 8}), ws, {"model": base, "data": chat_data}, name="tuned")
    files = {p.name for p in art.path.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "chat_template.jinja",
            "generation_config.json", "run"} <= files
    assert "<|im_end|>" in (art.path / "chat_template.jinja").read_text()
    assert art.parent("base").id == base.id and art.parent("data").id == chat_data.id
    assert art.manifest.stats["steps"] == 3 and art.manifest.stats["adapter"] is True
    rows = [json.loads(x) for x in (art.path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [1, 2, 3]
    assert all(r["tokens_per_s"] > 0 for r in rows if "loss" in r)
    assert (art.path / "run" / "loss.png").stat().st_size > 1000
    assert "loss.png" in (art.path / "run" / "report.html").read_text()
    assert any((art.path / "run" / "tensorboard").iterdir())
    model = load_causal_lm(art.path)  # base + adapter, through the adapter's base_model_name_or_path
    assert model is not None
    assert ws.get("tuned").id == art.id


def test_full_sft_without_packing_gives_full_weights(ws, base, chat_data):
    cfg = _cfg(method="full")
    cfg.train.packing = False
    art = sft(cfg, ws, {"model": base, "data": chat_data})
    assert (art.path / "model.safetensors").is_file() and (art.path / "config.json").is_file()
    assert art.manifest.stats["adapter"] is False


def test_dora_adapter(ws, base, chat_data):
    cfg = _cfg(lora={"r": 2, "use_dora": True})
    cfg.train.max_steps = 1
    art = sft(cfg, ws, {"model": base, "data": chat_data})
    assert json.loads((art.path / "adapter_config.json").read_text())["use_dora"] is True
