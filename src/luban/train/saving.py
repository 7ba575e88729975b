"""What a training run leaves in its model artifact, and how the trained weights get there from every launch.

A full model is a standard Hugging Face directory: weights, config, tokenizer files with the chat template,
generation config. An adapter holds adapter_config.json + weights, the same tokenizer files, and the base's
generation config, so serving and merging need nothing else. Tracking files go to `run/` (metrics.jsonl,
tensorboard/, loss and LR curves, report.html).

Design choices:
- the weights are written by transformers' own `Trainer.save_model`, called on *every* rank right after
  training (`stage_weights`, from `run.fit`): under DeepSpeed ZeRO-3 it gathers the partitioned parameters
  (`_zero3_consolidated_16bit_state_dict`, only the trainable ones for a PEFT adapter), under FSDP it gathers a
  full state dict through `accelerator.get_state_dict`; every rank must take part in those collectives, and
  only the main process writes. Calling `model.save_pretrained` on rank 0 alone would write the empty
  placeholders of a ZeRO-3 model, or hang on FSDP's gather;
- the gathered files go to `<run>/final/`; after the worker ranks have left, rank 0 moves them into the
  artifact (`save_model`), so the workspace sees one artifact written by one process;
- a launch whose final save would not gather (ZeRO-3 without `stage3_gather_16bit_weights_on_model_save`,
  which makes Trainer fall back to a DeepSpeed checkpoint) is refused before training, not after hours of it;
  FSDP with SHARDED_STATE_DICT keeps sharded checkpoints but switches to a full state dict for the final save.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from luban.core.errors import LubanError, UsageError

RUN_FILES = ("metrics.jsonl", "report.html", "loss.png", "learning_rate.png")
FINAL_DIR = "final"  # inside the run folder: the gathered weights, until rank 0 moves them into the artifact
WEIGHT_PATTERNS = ("*.safetensors", "*.safetensors.index.json", "*.bin", "*.bin.index.json")
NOT_IN_ARTIFACT = ("training_args.bin",)  # Trainer's pickle of its arguments; the manifest holds our config


def check_gatherable(trainer: Any) -> None:
    """Refuse, before training, a launch whose final save would not produce full weights."""
    acc = getattr(trainer, "accelerator", None)
    plugin = getattr(getattr(acc, "state", None), "deepspeed_plugin", None)
    if plugin is None:
        return
    zero = plugin.deepspeed_config.get("zero_optimization", {})
    if zero.get("stage") == 3 and zero.get("stage3_gather_16bit_weights_on_model_save") is not True:
        raise UsageError("DeepSpeed ZeRO-3 is set not to gather the weights on save "
                         "(stage3_gather_16bit_weights_on_model_save), so the model artifact would be empty",
                         "set zero3_save_16bit_model: true in the accelerate config (the shipped zero3.yaml does)")


def stage_weights(trainer: Any) -> Path:
    """Every rank: gather the trained weights (or adapter) and let the main process write them to
    `<output_dir>/final`. Returns that folder."""
    out = staged_dir(trainer)
    plugin = getattr(trainer.accelerator.state, "fsdp_plugin", None)
    if plugin is not None and "FULL_STATE_DICT" not in str(plugin.state_dict_type):
        # Trainer.save_model writes nothing for a sharded state dict; gather a full one for the final save
        plugin.set_state_dict_type("FULL_STATE_DICT")
    if trainer.accelerator.is_main_process:
        shutil.rmtree(out, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(out))
    trainer.accelerator.wait_for_everyone()
    return out


def staged_dir(trainer: Any) -> Path:
    return Path(trainer.args.output_dir) / FINAL_DIR


def save_model(trainer: Any, tokenizer: Any, base_dir: Path, dest: Path) -> None:
    """Move the staged weights (or adapter) into `dest`, with the tokenizer and chat template and the base's
    generation config. Main process only (the workers have left by now)."""
    staged = staged_dir(trainer)
    if not any(f for pattern in WEIGHT_PATTERNS for f in staged.glob(pattern) if f.name not in NOT_IN_ARTIFACT):
        raise LubanError(f"training finished but no weights were written to {staged}",
                         "check the launch config: DeepSpeed ZeRO-3 needs zero3_save_16bit_model: true")
    dest.mkdir(parents=True, exist_ok=True)
    for f in sorted(staged.iterdir()):
        if f.name not in NOT_IN_ARTIFACT:
            shutil.move(str(f), str(dest / f.name))
    shutil.rmtree(staged, ignore_errors=True)
    tokenizer.save_pretrained(dest)  # ours, with the resolved chat template (the trainer's may differ)
    if not (dest / "generation_config.json").is_file() and (base_dir / "generation_config.json").is_file():
        shutil.copy2(base_dir / "generation_config.json", dest / "generation_config.json")


def save_run_files(run_dir: Path, dest: Path) -> None:
    """Copy tracking outputs (not checkpoints) into `dest/run`."""
    out = dest / "run"
    out.mkdir(parents=True, exist_ok=True)
    for f in RUN_FILES:
        if (run_dir / f).is_file():
            shutil.copy2(run_dir / f, out / f)
    if (run_dir / "tensorboard").is_dir():
        shutil.copytree(run_dir / "tensorboard", out / "tensorboard", dirs_exist_ok=True)
