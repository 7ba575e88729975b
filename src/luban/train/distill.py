"""Recipe: logit distillation from a teacher into a smaller student, over TRL's GKDTrainer.

The student learns the teacher's whole next-token distribution on the assistant tokens of a chat dataset,
not only the one answer token (Hinton et al., 2015). The loss is the generalised Jensen-Shannon divergence
of GKD (Agarwal et al., 2024): `beta: 0` is forward KL(teacher || student), the classic distillation loss
and our default; `beta: 1` reverse KL; 0.5 the JSD. `lmbda` is the share of steps trained on the student's
own sampled answers (on-policy GKD) instead of the dataset's; 0 (default) is plain off-policy distillation,
cheap and deterministic. Teacher and student must share the tokenizer (same vocabulary), checked up front.
The result is a model artifact (full student or a LoRA adapter on it) with lineage to student base ("base"),
teacher ("teacher") and data ("data").
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import Field

from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import InputPathOrName, StageConfig, dump_config
from luban.core.errors import UsageError
from luban.core.workspace import Workspace
from luban.models.loading import load_tokenizer
from luban.train import preflight
from luban.train.adapters import LoraSection, Method, load_base, lora_config
from luban.train.args import TrainArgs, trl_args
from luban.train.datasets import clean_messages, load_split, roles_in, tokenize_chat
from luban.train.report import write_report
from luban.train.run import drop_checkpoints, fit, prepare_run, run_folder
from luban.train.saving import save_model, save_run_files
from luban.train.tracking import TrackingCallback

STAGE = "train.distill"


class DistillConfig(StageConfig):
    """Distillation. Example: `luban train distill examples/train/distill.yaml --model small --data chat
    --input teacher=big`."""

    beta: float = Field(0.0, ge=0, le=1, description="0 forward KL, 1 reverse KL, between: generalised JSD")
    lmbda: float = Field(0.0, ge=0, le=1, description="share of on-policy (student-sampled) batches")
    temperature: float = Field(1.0, gt=0, description="softens both distributions")
    max_new_tokens: int = Field(64, ge=1, description="answer length when sampling on-policy")
    method: Method = "full"
    lora: LoraSection = Field(default_factory=LoraSection)
    train: TrainArgs = Field(default_factory=lambda: TrainArgs(lr=1e-4, packing=False))
    chat_template: InputPathOrName | None = None
    split: str = "train"


def distill(cfg: DistillConfig, ws: Workspace, inputs: dict[str, Artifact], name: str | None = None, *,
            resume: bool = False) -> Artifact | None:
    """Distil `inputs["teacher"]` into `inputs["model"]` on `inputs["data"]` (chat); returns a model artifact."""
    student, teacher, data = inputs["model"], inputs["teacher"], inputs["data"]
    preflight.check_model(student.path)
    preflight.check_model(teacher.path)
    tokenizer = load_tokenizer(student.path)
    check_same_vocabulary(tokenizer, load_tokenizer(teacher.path))
    preflight.resolve_template(tokenizer, student.path, cfg.chat_template)
    template = preflight.training_template(tokenizer)
    raw = load_split(data, "chat", "distill", cfg.split)
    preflight.check_template(tokenizer, template, roles_in(raw), preflight.stop_token_ids(tokenizer, student.path))
    lengths = tokenize_chat(raw, tokenizer, template)["length"]
    context = min(preflight.model_context(student.path), preflight.model_context(teacher.path))
    preflight.check_lengths(lengths, cfg.train.max_seq_length, context, cfg.train.truncate)
    conversations = raw.map(lambda r: {"messages": clean_messages(r["messages"])},
                            remove_columns=raw.column_names)

    config = dump_config(cfg)
    run_dir = run_folder(ws, STAGE, name, config, inputs)
    checkpoint = prepare_run(run_dir, resume)
    model = load_base(student.path, cfg.method, cfg.lora, cfg.train.precision)
    teacher_model = load_base(teacher.path, "full", cfg.lora, cfg.train.precision).eval()
    trainer = _trainer(cfg, model, teacher_model, tokenizer, conversations, run_dir)
    stats = fit(trainer, TrackingCallback(run_dir, "Distillation", cfg.train.max_minutes), checkpoint)
    if stats is None:  # a worker rank of a multi-process launch: rank 0 writes the artifact
        return None
    stats.update(method=cfg.method, samples=len(raw), beta=cfg.beta, lmbda=cfg.lmbda,
                 student_parameters=sum(p.numel() for p in trainer.model.parameters()),
                 teacher_parameters=sum(p.numel() for p in teacher_model.parameters()))
    write_report(run_dir, f"Distillation of {teacher.name or teacher.short_id} into "
                          f"{student.name or student.short_id}", stats)

    parents = [artifact_parent(student, "base"), artifact_parent(teacher, "teacher"), artifact_parent(data, "data")]
    with ws.create("model", name, STAGE, config, parents=parents) as p:
        save_model(trainer, tokenizer, student.path, p.path)
        save_run_files(run_dir, p.path)
        p.stats.update(stats, adapter=cfg.method != "full")
    assert p.result is not None
    drop_checkpoints(run_dir)
    return p.result


def check_same_vocabulary(student_tok: Any, teacher_tok: Any) -> None:
    """Logit distillation compares distributions token by token: the vocabularies must be the same."""
    if student_tok.get_vocab() != teacher_tok.get_vocab():
        raise UsageError(f"student and teacher tokenizers differ ({len(student_tok)} vs {len(teacher_tok)} tokens); "
                         "logit distillation needs one shared vocabulary",
                         "pick a student from the teacher's family (e.g. Qwen2.5-0.5B for Qwen2.5-7B)")


def _trainer(cfg: DistillConfig, model: Any, teacher: Any, tokenizer: Any, data: Any, run_dir: Any) -> Any:
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # GKD lives in trl.experimental in TRL 1.x
    from trl.experimental.gkd import GKDConfig, GKDTrainer

    args = trl_args(GKDConfig, cfg.train, run_dir, max_length=cfg.train.max_seq_length, beta=cfg.beta,
                    lmbda=cfg.lmbda, temperature=cfg.temperature, max_new_tokens=cfg.max_new_tokens,
                    packing=False)
    peft = lora_config(cfg.lora) if cfg.method != "full" else None
    return GKDTrainer(model=model, teacher_model=teacher, args=args, train_dataset=data,
                      processing_class=tokenizer, peft_config=peft)
