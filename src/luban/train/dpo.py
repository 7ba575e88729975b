"""Recipe: preference optimisation on prompt / chosen / rejected pairs — DPO and the variants TRL offers.

- `variant: dpo` runs TRL's DPOTrainer (Rafailov et al., 2023) against a frozen reference (the base; with
  LoRA, the base is the adapter switched off, so no second copy is held). `loss_type` picks DPOTrainer's loss:
  sigmoid (DPO), ipo, hinge, robust, apo_zero, ... (see DPO_LOSSES);
- `variant: orpo` runs ORPOTrainer (Hong et al., 2024): SFT plus an odds-ratio term, no reference model;
- `variant: simpo` runs CPOTrainer with loss_type simpo and cpo_alpha 0 (Meng et al., 2024): length-normalised
  reward with a target margin `simpo_gamma`, no reference model; `variant: cpo` is CPO itself (Xu et al., 2024).
ORPO and CPO/SimPO live in `trl.experimental` in TRL 1.x. Pairs are rendered with the model's chat template.
setup (pre-flight) -> train -> save (adapter or full weights + tokenizer + template + run/) -> artifact with
lineage to the base (role "base") and the pairs (role "data").
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import Field, field_validator

from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import InputPathOrName, StageConfig, dump_config
from luban.core.workspace import Workspace
from luban.models.loading import load_tokenizer
from luban.train import preflight
from luban.train.adapters import LoraSection, Method, load_base, lora_config
from luban.train.args import TrainArgs, trl_args
from luban.train.preference import load_pairs, roles_of_pairs
from luban.train.report import write_report
from luban.train.run import drop_checkpoints, fit, prepare_run, run_folder
from luban.train.saving import save_model, save_run_files
from luban.train.tracking import TrackingCallback

STAGE = "train.dpo"
DPO_LOSSES = ("sigmoid", "hinge", "ipo", "exo_pair", "nca_pair", "robust", "bco_pair", "sppo_hard", "aot",
              "aot_unpaired", "apo_zero", "apo_down", "discopop", "sft", "sigmoid_norm")


class DPOConfig(StageConfig):
    """Preference optimisation. Example: `luban train dpo examples/train/dpo.yaml variant=simpo`."""

    variant: Literal["dpo", "orpo", "simpo", "cpo"] = "dpo"
    loss_type: str = Field("sigmoid", description="DPO loss (variant dpo only): " + ", ".join(DPO_LOSSES))
    beta: float = Field(0.1, gt=0, description="strength of the preference term (DPO: deviation from reference)")
    simpo_gamma: float = Field(0.5, ge=0, description="SimPO target reward margin")
    method: Method = "lora"
    lora: LoraSection = Field(default_factory=LoraSection)
    train: TrainArgs = Field(default_factory=lambda: TrainArgs(lr=5e-5, packing=False))
    chat_template: InputPathOrName | None = Field(None, description="catalog template name or .jinja path")
    split: str = "train"

    @field_validator("loss_type")
    @classmethod
    def _known_loss(cls, v: str) -> str:
        if v not in DPO_LOSSES:
            raise ValueError(f"unknown DPO loss '{v}'; use one of {', '.join(DPO_LOSSES)}")
        return v


def dpo(cfg: DPOConfig, ws: Workspace, inputs: dict[str, Artifact], name: str | None = None, *,
        resume: bool = False) -> Artifact | None:
    """Align `inputs["model"]` to the pairs of `inputs["data"]`; returns a model artifact."""
    base, data = inputs["model"], inputs["data"]
    preflight.check_model(base.path)
    if cfg.method == "qlora":
        preflight.check_cuda_for("qlora")
    tokenizer = load_tokenizer(base.path)
    preflight.resolve_template(tokenizer, base.path, cfg.chat_template)
    pairs = load_pairs(data, f"{cfg.variant} recipe", cfg.split)
    check_pairs(tokenizer, base.path, pairs, cfg.train)

    config = dump_config(cfg)
    run_dir = run_folder(ws, STAGE, name, config, inputs)
    checkpoint = prepare_run(run_dir, resume)
    model = load_base(base.path, cfg.method, cfg.lora, cfg.train.precision)
    trainer = _trainer(cfg, model, tokenizer, pairs, run_dir)
    stats = fit(trainer, TrackingCallback(run_dir, f"Preference ({cfg.variant})", cfg.train.max_minutes), checkpoint)
    if stats is None:  # a worker rank of a multi-process launch: rank 0 writes the artifact
        return None
    stats.update(variant=cfg.variant, method=cfg.method, pairs=len(pairs), **_last_rewards(trainer))
    write_report(run_dir, f"{cfg.variant.upper()} ({cfg.method}) of {base.name or base.short_id}", stats)

    with ws.create("model", name, STAGE, config,
                   parents=[artifact_parent(base, "base"), artifact_parent(data, "data")]) as p:
        save_model(trainer, tokenizer, base.path, p.path)
        save_run_files(run_dir, p.path)
        p.stats.update(stats, adapter=cfg.method != "full")
    assert p.result is not None
    drop_checkpoints(run_dir)
    return p.result


def check_pairs(tokenizer: Any, base_dir: Any, pairs: Any, train: TrainArgs) -> None:
    """The template renders every role and trains the stop token; prompt + answer fit `max_seq_length`."""
    template = preflight.training_template(tokenizer)
    preflight.check_template(tokenizer, template, roles_of_pairs(pairs),
                             preflight.stop_token_ids(tokenizer, base_dir))
    lengths = [len(tokenizer.apply_chat_template([*r["prompt"], *r[side]], tokenize=True))
               for r in pairs for side in ("chosen", "rejected")]
    preflight.check_lengths(lengths, train.max_seq_length, preflight.model_context(base_dir), train.truncate)


def _trainer(cfg: DPOConfig, model: Any, tokenizer: Any, pairs: Any, run_dir: Any) -> Any:
    peft = lora_config(cfg.lora) if cfg.method != "full" else None
    common = {"model": model, "train_dataset": pairs, "processing_class": tokenizer, "peft_config": peft}
    if cfg.variant == "dpo":
        from trl import DPOConfig as TRLDPOConfig
        from trl import DPOTrainer

        args = trl_args(TRLDPOConfig, cfg.train, run_dir, max_length=cfg.train.max_seq_length, beta=cfg.beta,
                        loss_type=[cfg.loss_type])
        return DPOTrainer(args=args, **common)
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # we chose experimental on purpose; say it once here
    if cfg.variant == "orpo":
        from trl.experimental.orpo import ORPOConfig, ORPOTrainer

        args = trl_args(ORPOConfig, cfg.train, run_dir, max_length=cfg.train.max_seq_length, beta=cfg.beta)
        return ORPOTrainer(args=args, **common)
    from trl.experimental.cpo import CPOConfig, CPOTrainer

    extra: dict[str, Any] = {"loss_type": "simpo", "cpo_alpha": 0.0, "simpo_gamma": cfg.simpo_gamma} \
        if cfg.variant == "simpo" else {"loss_type": "sigmoid"}
    args = trl_args(CPOConfig, cfg.train, run_dir, max_length=cfg.train.max_seq_length, beta=cfg.beta, **extra)
    return CPOTrainer(args=args, **common)


def _last_rewards(trainer: Any) -> dict[str, float]:
    """The last logged reward accuracy and margin (chosen over rejected), for the artifact's stats."""
    rows = [r for r in trainer.state.log_history if "rewards/margins" in r]
    if not rows:
        return {}
    last = rows[-1]
    return {"reward_accuracy": round(float(last.get("rewards/accuracies", 0.0)), 4),
            "reward_margin": round(float(last["rewards/margins"]), 5)}
