"""What a training run leaves in its model artifact.

A full model is a standard Hugging Face directory: weights, config, tokenizer files with the chat template,
generation config. An adapter holds adapter_config.json + weights, the same tokenizer files, and the base's
generation config, so serving and merging need nothing else. Tracking files go to `run/` (metrics.jsonl,
tensorboard/, loss and LR curves, report.html).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

RUN_FILES = ("metrics.jsonl", "report.html", "loss.png", "learning_rate.png")


def save_model(model: Any, tokenizer: Any, base_dir: Path, dest: Path) -> None:
    """Save weights (or adapter), tokenizer with chat template, and generation config into `dest`."""
    model.save_pretrained(dest, safe_serialization=True)
    tokenizer.save_pretrained(dest)
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
