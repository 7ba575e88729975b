"""SFT recipe: LoRA and full fine-tuning of the tiny model produce complete, traceable model artifacts."""

from __future__ import annotations

import json

import pytest

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
    run = ws.root / "runs" / "train-sft-tuned"  # the artifact exists: checkpoints go, metrics stay
    assert (run / "metrics.jsonl").is_file() and not list(run.glob("checkpoint-*"))


def test_a_run_that_fails_keeps_its_checkpoints_for_resume(ws, base, chat_data, monkeypatch):
    import luban.train.sft as recipe

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(recipe, "save_model", disk_full)
    with pytest.raises(OSError, match="No space"):
        sft(_cfg(lora={"r": 4}), ws, {"model": base, "data": chat_data}, name="failed")
    run = ws.root / "runs" / "train-sft-failed"
    assert not ws.exists("failed")
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-3"]
    monkeypatch.undo()
    art = sft(_cfg(lora={"r": 4}), ws, {"model": base, "data": chat_data}, name="failed", resume=True)
    assert art.manifest.stats["resumed_from_step"] == 3 and not list(run.glob("checkpoint-*"))
    # training had ended at its last step: the resume writes the model, it does not train a step past max_steps
    assert art.manifest.stats["steps"] == 3
    steps = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert max(steps) == 3, steps


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


# ---------------------------------------------------------------- batching: padding-free (default) and packing
def _tokenized(base, chat_data, n=None):
    from luban.models.loading import load_tokenizer
    from luban.train import preflight
    from luban.train.datasets import load_split, tokenize_chat

    tok = load_tokenizer(base.path)
    ds = tokenize_chat(load_split(chat_data, "chat", "sft"), tok, preflight.training_template(tok))
    return tok, ds


def _token_losses(logits, labels):
    import torch

    return torch.nn.functional.cross_entropy(logits[:-1], labels[1:], ignore_index=-100, reduction="sum")


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_a_padding_free_batch_gives_each_sample_the_logits_and_loss_it_has_alone(base, chat_data, attn):
    """Two samples in one row, positions restarting at 0: the mask transformers builds from the positions is
    block-diagonal, so neither sample sees the other (no cross-contamination without flash-attention)."""
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    tok, ds = _tokenized(base, chat_data)
    model = AutoModelForCausalLM.from_pretrained(base.path, dtype=torch.float32, attn_implementation=attn).eval()
    assert model.config._attn_implementation == attn
    a, b = ds[0], ds[1]  # different lengths: one with a system turn, one without
    assert a["length"] != b["length"]
    batch = DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id, padding_free=True)([a, b])
    assert batch["input_ids"].shape == (1, a["length"] + b["length"]) and "attention_mask" not in batch
    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False).logits[0]
        alone = [model(input_ids=torch.tensor([s["input_ids"]]), use_cache=False).logits[0] for s in (a, b)]
    torch.testing.assert_close(packed[:a["length"]], alone[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(packed[a["length"]:], alone[1], atol=1e-5, rtol=0)
    for s, part, own in ((a, packed[:a["length"]], alone[0]), (b, packed[a["length"]:], alone[1])):
        labels = torch.tensor(s["labels"])
        assert abs(float(_token_losses(part, labels)) - float(_token_losses(own, labels))) < 1e-5
    # and the model's own loss over the row is the mean over both samples' answer tokens, as in a padded batch
    padded = DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id)([a, b])
    with torch.no_grad():
        loss_free = model(**{k: batch[k] for k in ("input_ids", "position_ids", "labels")}, use_cache=False).loss
        loss_pad = model(**padded, use_cache=False).loss
    assert abs(float(loss_free) - float(loss_pad)) < 1e-5


def test_padding_free_sft_batches_hold_assistant_only_labels_and_are_the_default_only_with_flash_attention(
        ws, base, chat_data, tmp_path):
    """With `padding_free: true`: `batch_size` samples per step in one row without a pad token, and only the
    assistant answers (each with its end-of-turn token) trained. Left unset, it is on only for a flash-attention
    kernel (sdpa on CPU pays for a whole-row mask)."""
    from types import SimpleNamespace

    from train_fixtures import QA

    from luban.train.adapters import load_base
    from luban.train.sft import _trainer, resolve_padding_free

    tok, ds = _tokenized(base, chat_data)
    assert _cfg().train.padding_free is None and not _cfg().train.packing
    model = load_base(base.path, "full", _cfg().lora)
    assert not resolve_padding_free(None, model)  # sdpa on CPU
    assert resolve_padding_free(None, SimpleNamespace(config=SimpleNamespace(_attn_implementation="flash_attention_2")))
    assert resolve_padding_free(True, model) and not resolve_padding_free(False, model)
    cfg = SFTConfig(train={"max_steps": 3, "batch_size": 4, "max_seq_length": 128, "logging_steps": 1,
                           "save_steps": 2, "padding_free": True})
    trainer = _trainer(cfg, model, tok, ds, tmp_path)
    assert trainer.args.padding_free and not trainer.args.packing and len(trainer.train_dataset) == len(ds)
    rows = [trainer.train_dataset[i] for i in range(6)]
    batch = trainer.data_collator(rows)
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    assert batch["input_ids"].shape == (1, sum(ds["length"][:6]))  # no padding at all
    assert tok.decode(ids[labels != -100]) == "".join(f"{QA[i % 3][1]}<|im_end|>" for i in range(6))


def test_padding_free_sft_takes_the_steps_and_reaches_the_loss_of_padded_sft(ws, base, chat_data):
    """Same samples per step as padded batches: same step count and (dropout off) the same losses. Packing
    (an option) fills blocks instead, so one epoch is fewer steps."""
    def run(name, **train):
        cfg = SFTConfig(lora={"r": 4, "alpha": 8, "dropout": 0.0},
                        train={"epochs": 1, "batch_size": 4, "max_seq_length": 128, "logging_steps": 1,
                               "save_steps": 100, **train})
        art = sft(cfg, ws, {"model": base, "data": chat_data}, name=name)
        rows = [json.loads(x) for x in (art.path / "run" / "metrics.jsonl").read_text().splitlines()]
        return art.manifest.stats, [r["loss"] for r in rows if "loss" in r]

    free, free_losses = run("free", padding_free=True)
    padded, padded_losses = run("padded")  # the default on CPU
    packed, _ = run("packed", packing=True)
    assert free["steps"] == padded["steps"] == 6  # 24 samples / 4
    assert free_losses == pytest.approx(padded_losses, rel=1e-4)
    assert free["tokens"] < padded["tokens"]  # the pad tokens are gone from what the model computes
    assert packed["steps"] < free["steps"]
