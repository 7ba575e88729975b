"""Training hyperparameters shared by every recipe, and their translation to TRL/transformers arguments.

Design choices:
- one small pydantic section, `TrainArgs`, nested as `train:` in every recipe config, so that `train.lr=1e-4`
  means the same thing for pretrain, sft, dpo, reward, grpo and distill;
- `precision: auto` picks bf16 on GPUs that have it, fp16 on older GPUs, fp32 on CPU (CPU autocast to bf16
  is slower than fp32 on most CPUs and changes the numbers that the tests compare);
- SFT batches are padding-free by default: `batch_size` samples per step, as in padded training (so the step
  count and the loss after an epoch match a plain run), concatenated into one row without a pad token;
  `packing: true` instead fills `max_seq_length` blocks, fewer and fuller steps (see docs/training.md);
- `max_steps` and `max_minutes` bound a run so the demo fits its time budget; `max_minutes` stops at the next
  step boundary and still saves the model;
- the translation returns the recipe's TRL config class (SFTConfig, DPOConfig, ...) filled from TrainArgs,
  so recipes add only their own keys;
- a key the installed TRL/transformers does not know is an error naming it and the closest valid one, never
  dropped: after a TRL rename a user's `beta` or `loss_type` would otherwise vanish silently. Renames we know
  of are translated explicitly (`RENAMED`).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from luban.core.config import StageConfig
from luban.core.errors import ConfigError, UsageError

# New name -> the name older releases use, passed under the old name when the installed version lacks the new
RENAMED = {"activation_checkpointing": "gradient_checkpointing"}  # transformers 5 renamed it


class TrainArgs(StageConfig):
    """Optimisation and batching settings common to all recipes."""

    lr: float = Field(2e-4, gt=0, description="peak learning rate")
    epochs: float = Field(1.0, gt=0, description="passes over the data (ignored when max_steps > 0)")
    max_steps: int = Field(-1, description="stop after this many optimizer steps; -1 = use epochs")
    max_minutes: float | None = Field(None, gt=0, description="stop at the first step past this wall time")
    batch_size: int = Field(8, ge=1, description="samples (or packed blocks) per device per step")
    grad_accum: int = Field(1, ge=1, description="gradient accumulation steps")
    max_seq_length: int = Field(512, ge=8, description="tokens per sample / packed block")
    padding_free: bool | None = Field(None, description="SFT: each batch's samples in one row, positions "
                                      "restarting per sample, no pad tokens, same samples per step as padded "
                                      "batches; default (null): on with a flash-attention kernel, off otherwise")
    packing: bool = Field(False, description="SFT: pack samples into max_seq_length blocks (fewer, fuller steps)")
    truncate: bool = Field(False, description="cut samples longer than max_seq_length instead of stopping")
    warmup_ratio: float = Field(0.03, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    scheduler: Literal["cosine", "linear", "constant", "constant_with_warmup"] = "cosine"
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    gradient_checkpointing: bool = False
    seed: int = 42
    logging_steps: int = Field(5, ge=1)
    save_steps: int = Field(50, ge=1, description="checkpoint every N steps (for --resume)")
    save_total_limit: int = Field(2, ge=1)


def resolve_precision(precision: str) -> str:
    """bf16 where the GPU supports it, else fp16 on GPU, fp32 on CPU."""
    if precision != "auto":
        return precision
    import torch

    if not torch.cuda.is_available():
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def trl_args(config_cls: type, args: TrainArgs, out_dir: Path, **extra: Any) -> Any:
    """A TRL config (SFTConfig, DPOConfig, RewardConfig, ...) filled from `args`; `extra` wins."""
    import torch

    precision = resolve_precision(args.precision)
    if precision in ("bf16", "fp16") and not torch.cuda.is_available():
        raise UsageError(f"train.precision={precision} needs a CUDA GPU and none is visible",
                         "use train.precision=auto (fp32 on CPU)")
    kwargs: dict[str, Any] = {
        "output_dir": str(out_dir),
        "learning_rate": args.lr,
        "num_train_epochs": args.epochs,
        "max_steps": args.max_steps,
        "per_device_train_batch_size": args.batch_size,
        "gradient_accumulation_steps": args.grad_accum,
        "warmup_steps": args.warmup_ratio,  # transformers 5 reads a float < 1 as a ratio of total steps
        "weight_decay": args.weight_decay,
        "lr_scheduler_type": args.scheduler,
        "bf16": precision == "bf16",
        "fp16": precision == "fp16",
        "activation_checkpointing": args.gradient_checkpointing,  # transformers 5 name of gradient checkpointing
        "seed": args.seed,
        "data_seed": args.seed,
        "logging_steps": args.logging_steps,
        "save_strategy": "steps",
        "save_steps": args.save_steps,
        "save_total_limit": args.save_total_limit,
        "report_to": [],  # luban.train.tracking writes JSONL + TensorBoard where the artifact wants them
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        "include_num_input_tokens_seen": "all",  # tokens/s in the progress bar and metrics
        "use_cpu": not torch.cuda.is_available(),
    }
    kwargs.update(extra)
    return config_cls(**checked_kwargs(config_cls, kwargs))


def checked_kwargs(config_cls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """`kwargs` for `config_cls` (a dataclass): known renames translated, any other unknown key a ConfigError
    naming it and the closest valid argument."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(config_cls) if f.init}
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key not in names and RENAMED.get(key) in names:
            key = RENAMED[key]
        if key not in names:
            close = difflib.get_close_matches(key, sorted(names), n=1)
            raise ConfigError(f"{config_cls.__name__} of the installed TRL {_version('trl')} / transformers "
                              f"{_version('transformers')} has no argument '{key}'",
                              (f"did you mean '{close[0]}'? " if close else "") +
                              "install the versions in constraints.txt, or fix the recipe's setting")
        out[key] = value
    return out


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "(not installed)"

