"""Recipe: a reward model (Bradley-Terry on chosen / rejected pairs) over TRL's RewardTrainer.

The base causal LM gets a one-output classification head (`AutoModelForSequenceClassification`, num_labels=1)
and learns r(prompt, chosen) > r(prompt, rejected) (Ouyang et al., 2022). With `method: lora` the adapter
(plus the new head, which must be trained in full) is merged back at save time, so the artifact is always a
standalone sequence-classification model that `grpo` (or anyone) loads with one `from_pretrained`.
The recipe scores every training pair after training and records the pairwise accuracy and mean margin.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import InputPathOrName, StageConfig, dump_config
from luban.core.workspace import Workspace
from luban.models.loading import load_tokenizer
from luban.train import preflight
from luban.train.adapters import LoraSection
from luban.train.args import TrainArgs, resolve_precision, trl_args
from luban.train.dpo import check_pairs
from luban.train.preference import load_pairs
from luban.train.report import write_report
from luban.train.run import drop_checkpoints, fit, prepare_run, run_folder
from luban.train.saving import save_run_files, staged_dir
from luban.train.tracking import TrackingCallback

STAGE = "train.reward"


class RewardConfig(StageConfig):
    """Reward model. Example: `luban train reward examples/train/reward.yaml --model base --data pairs`."""

    method: str = Field("full", pattern="^(full|lora)$", description="full or lora (merged at save)")
    lora: LoraSection = Field(default_factory=LoraSection)
    train: TrainArgs = Field(default_factory=lambda: TrainArgs(lr=1e-5, packing=False))
    center_rewards: float | None = Field(0.01, description="pull mean reward to 0 (Eisenstein et al., 2023)")
    chat_template: InputPathOrName | None = None
    split: str = "train"


def reward(cfg: RewardConfig, ws: Workspace, inputs: dict[str, Artifact], name: str | None = None, *,
           resume: bool = False) -> Artifact | None:
    """Train a reward model from `inputs["model"]` on the pairs of `inputs["data"]`; returns a model artifact."""
    base, data = inputs["model"], inputs["data"]
    preflight.check_model(base.path)
    tokenizer = load_tokenizer(base.path)
    preflight.resolve_template(tokenizer, base.path, cfg.chat_template)
    pairs = load_pairs(data, "reward recipe", cfg.split)
    check_pairs(tokenizer, base.path, pairs, cfg.train)

    config = dump_config(cfg)
    run_dir = run_folder(ws, STAGE, name, config, inputs)
    checkpoint = prepare_run(run_dir, resume)
    model = _load_scorer(base.path, tokenizer, cfg.train.precision, cfg.train.seed)
    trainer = _trainer(cfg, model, tokenizer, pairs, run_dir)
    stats = fit(trainer, TrackingCallback(run_dir, "Reward model", cfg.train.max_minutes), checkpoint)
    if stats is None:  # a worker rank of a multi-process launch: rank 0 writes the artifact
        return None
    scorer = _trained_scorer(cfg, trainer, base.path, tokenizer)
    stats.update(method=cfg.method, pairs=len(pairs), **pair_accuracy(scorer, tokenizer, pairs))
    write_report(run_dir, f"Reward model from {base.name or base.short_id}", stats)

    with ws.create("model", name, STAGE, config,
                   parents=[artifact_parent(base, "base"), artifact_parent(data, "data")]) as p:
        scorer.save_pretrained(p.path, safe_serialization=True)
        tokenizer.save_pretrained(p.path)
        save_run_files(run_dir, p.path)
        p.stats.update(stats, adapter=False, head="sequence-classification")
    assert p.result is not None
    drop_checkpoints(run_dir)
    return p.result


def _trained_scorer(cfg: RewardConfig, trainer: Any, base_dir: Any, tokenizer: Any) -> Any:
    """The trained scorer loaded back from the weights `fit` gathered (whole tensors, whatever the launch
    sharded), with a LoRA adapter merged in."""
    import shutil

    from transformers import AutoModelForSequenceClassification

    staged = staged_dir(trainer)
    if cfg.method == "lora":
        from peft import PeftModel

        base = _load_scorer(base_dir, tokenizer, cfg.train.precision, cfg.train.seed)
        scorer = PeftModel.from_pretrained(base, staged).merge_and_unload()
    else:
        scorer = AutoModelForSequenceClassification.from_pretrained(staged, dtype=base_dtype(cfg.train.precision))
    shutil.rmtree(staged, ignore_errors=True)
    return scorer


def base_dtype(precision: str) -> Any:
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(resolve_precision(precision), torch.float32)


def _load_scorer(base_dir: Any, tokenizer: Any, precision: str, seed: int) -> Any:
    from transformers import AutoModelForSequenceClassification, set_seed

    set_seed(seed)  # the new head is random; seed it so runs repeat
    model = AutoModelForSequenceClassification.from_pretrained(base_dir, num_labels=1, dtype=base_dtype(precision))
    model.config.pad_token_id = tokenizer.pad_token_id  # the head reads the last non-pad token
    return model


def _trainer(cfg: RewardConfig, model: Any, tokenizer: Any, pairs: Any, run_dir: Any) -> Any:
    from trl import RewardConfig as TRLRewardConfig
    from trl import RewardTrainer

    peft = None
    if cfg.method == "lora":
        from peft import LoraConfig

        peft = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                          target_modules=cfg.lora.target_modules, task_type="SEQ_CLS", modules_to_save=["score"])
    args = trl_args(TRLRewardConfig, cfg.train, run_dir, max_length=cfg.train.max_seq_length,
                    center_rewards_coefficient=cfg.center_rewards)
    return RewardTrainer(model=model, args=args, train_dataset=pairs, processing_class=tokenizer, peft_config=peft)


def score(model: Any, tokenizer: Any, conversation: list[dict[str, str]]) -> float:
    """The reward of one rendered conversation."""
    import torch

    ids = tokenizer.apply_chat_template(conversation, tokenize=True, return_dict=True)["input_ids"]
    device = next(model.parameters()).device
    with torch.no_grad():
        return float(model(input_ids=torch.tensor([ids], device=device)).logits[0, 0])


def pair_accuracy(model: Any, tokenizer: Any, pairs: Any, limit: int = 256) -> dict[str, float]:
    """Share of pairs where r(chosen) > r(rejected), and the mean margin."""
    model.eval()
    margins = [score(model, tokenizer, [*r["prompt"], *r["chosen"]]) - score(model, tokenizer,
                                                                             [*r["prompt"], *r["rejected"]])
               for r in pairs.select(range(min(limit, len(pairs))))]
    return {"pair_accuracy": round(sum(m > 0 for m in margins) / len(margins), 4),
            "mean_margin": round(sum(margins) / len(margins), 5)}
