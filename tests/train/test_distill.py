"""Distillation: the smaller student's KL to the teacher falls; lineage names student, teacher and data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from train_fixtures import QA, chat_rows, make_dataset

from luban.core.artifact import Artifact
from luban.core.config import build_config
from luban.core.errors import UsageError
from luban.core.workspace import Workspace
from luban.models.loading import ImportConfig, import_stage
from luban.train.distill import DistillConfig, distill

FAST = {"lr": 3e-3, "max_steps": 15, "batch_size": 4, "logging_steps": 5, "save_steps": 100, "warmup_ratio": 0.0,
        "scheduler": "constant", "max_seq_length": 128}


def make_student(teacher_dir: Path, out: Path) -> Path:
    """A one-layer model of the teacher's family and tokenizer, randomly initialised."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    d = AutoConfig.from_pretrained(teacher_dir).to_dict()
    d.update(num_hidden_layers=1, layer_types=d["layer_types"][:1] if d.get("layer_types") else None)
    cfg = AutoConfig.for_model(**d)
    torch.manual_seed(1)
    AutoModelForCausalLM.from_config(cfg).save_pretrained(out)
    for f in teacher_dir.iterdir():
        if f.name.startswith(("tokenizer", "generation_config", "special_tokens", "chat_template")):
            shutil.copy2(f, out / f.name)
    return out


def kl_to_teacher(teacher_dir: Path, student_dir: Path) -> float:
    """Mean per-token KL(teacher || student) over the training conversations."""
    import torch

    from luban.models.loading import load_causal_lm, load_tokenizer

    teacher, student = load_causal_lm(teacher_dir, device="cpu"), load_causal_lm(student_dir, device="cpu")
    tok = load_tokenizer(teacher_dir)
    total = 0.0
    for q, a in QA:
        ids = tok.apply_chat_template([{"role": "user", "content": q}, {"role": "assistant", "content": a}],
                                      tokenize=True, return_dict=True)["input_ids"]
        x = torch.tensor([ids])
        with torch.no_grad():
            t, s = teacher(input_ids=x).logits.log_softmax(-1), student(input_ids=x).logits.log_softmax(-1)
        total += float((t.exp() * (t - s)).sum(-1).mean())
    return total / len(QA)


def test_student_moves_toward_the_teacher(ws: Workspace, base: Artifact, tmp_path: Path) -> None:
    student = import_stage(ImportConfig(path=str(make_student(base.path, tmp_path / "student"))), ws, "student")
    data = make_dataset(ws, "chat", chat_rows(12))
    before = kl_to_teacher(base.path, student.path)
    art = distill(build_config(DistillConfig, {"train": FAST}), ws,
                  {"model": student, "teacher": base, "data": data}, name="distilled")
    assert art.kind == "model" and (art.path / "model.safetensors").is_file()
    assert {p.role: p.id for p in art.manifest.parents} == {"base": student.id, "teacher": base.id, "data": data.id}
    s = art.manifest.stats
    assert s["student_parameters"] < s["teacher_parameters"]
    after = kl_to_teacher(base.path, art.path)
    assert after < 0.7 * before, (before, after)


def test_teacher_with_another_vocabulary_is_refused(ws: Workspace, base: Artifact, tiny_llama_dir: Path) -> None:
    teacher = import_stage(ImportConfig(path=str(tiny_llama_dir)), ws, "llama-teacher")
    data = make_dataset(ws, "chat", chat_rows(4))
    with pytest.raises(UsageError, match="tokenizers differ"):
        distill(build_config(DistillConfig, {"train": FAST}), ws, {"model": base, "teacher": teacher, "data": data})
