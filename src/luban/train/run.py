"""Running a TRL trainer the Luban way: a stable run folder per job, checkpoints for `--resume`, tracking.

Design choices:
- the run folder is `runs/<stage>-<key>`, where `key` is the output name or, without one, a hash of the config
  and the input artifact ids; so `--resume` finds the checkpoints of the same job and nothing else;
- a fresh (non-resumed) run clears that folder first, so stale checkpoints never leak into a new job;
- once the artifact exists the run's checkpoints are deleted (each holds optimizer state, often twice the
  weights, so kept runs grew the workspace without bound); metrics, logs and the report stay. A run that
  fails or is interrupted never gets there, so `--resume` finds its checkpoints;
- after training every rank takes part in gathering the weights (`saving.stage_weights`: ZeRO-3 / FSDP
  shards), then `fit` returns None on the worker ranks (their recipe returns without an artifact) and rank 0
  alone writes the artifact; nothing here ends the process;
- resuming restores model, optimizer, scheduler, RNG states and the data position from the last checkpoint
  (transformers' own resume, seeded sampler), and drops metric rows logged after that checkpoint, so the
  metrics file reads as one uninterrupted run. A checkpoint already at `max_steps` (training had ended, the
  artifact had not been written) is resumed without training: transformers' loop would run one step past
  `max_steps` before it checks (it tests the limit after each step, not before the first).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from luban.core.artifact import Artifact
from luban.core.errors import UsageError
from luban.core.hashing import sha256_json
from luban.core.workspace import Workspace
from luban.train.tracking import METRICS_FILE, TrackingCallback


def run_folder(ws: Workspace, stage: str, name: str | None, config: dict[str, Any],
               inputs: dict[str, Artifact]) -> Path:
    key = name or sha256_json({"config": config, "inputs": {k: a.id for k, a in sorted(inputs.items())}})[:12]
    return ws.run_dir(f"{stage.replace('.', '-')}-{key}")


def last_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete `checkpoint-N` folder. transformers writes `trainer_state.json` after the weights,
    optimizer, scheduler and RNG states, so a run stopped while saving leaves a folder without it (or with it
    cut short): that one is skipped, not resumed from (its own `get_last_checkpoint` takes the highest number)."""
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

    if not run_dir.is_dir():
        return None
    found = []
    for p in run_dir.glob(f"{PREFIX_CHECKPOINT_DIR}-*"):
        step = p.name.rsplit("-", 1)[1]
        if p.is_dir() and step.isdigit():
            found.append((int(step), p))
    for _, ckpt in sorted(found, reverse=True):
        try:
            json.loads((ckpt / "trainer_state.json").read_text(encoding="utf-8"))["global_step"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        return ckpt
    return None


def prepare_run(run_dir: Path, resume: bool) -> Path | None:
    """The checkpoint to resume from (None for a fresh run, after clearing the folder)."""
    if not resume:
        if _is_main_rank():  # under `accelerate launch` the workers must not clear what rank 0 writes
            shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True, exist_ok=True)
        return None
    ckpt = last_checkpoint(run_dir)
    if ckpt is None:
        raise UsageError(f"--resume: no checkpoint in {run_dir}",
                         "run without --resume, or with the same --name and config as the interrupted run")
    step = json.loads((ckpt / "trainer_state.json").read_text(encoding="utf-8"))["global_step"]
    metrics = run_dir / METRICS_FILE
    if metrics.is_file():
        keep = [line for line in metrics.read_text(encoding="utf-8").splitlines()
                if line.strip() and json.loads(line)["step"] <= step]
        metrics.write_text("".join(line + "\n" for line in keep), encoding="utf-8")
    return ckpt


def drop_checkpoints(run_dir: Path) -> list[Path]:
    """Delete the `checkpoint-*` folders of a run whose artifact was written; returns what was deleted."""
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

    gone = sorted(p for p in run_dir.glob(f"{PREFIX_CHECKPOINT_DIR}-*") if p.is_dir())
    for ckpt in gone:
        shutil.rmtree(ckpt, ignore_errors=True)
    return gone


def fit(trainer: Any, tracking: TrackingCallback, checkpoint: Path | None) -> dict[str, Any] | None:
    """Train (from `checkpoint` when given); returns summary numbers for the artifact's stats, or None on a
    worker rank of a multi-process launch, whose part ends with training (rank 0 writes the artifact)."""
    from transformers import PrinterCallback

    from luban.train.launch import release_workers
    from luban.train.saving import check_gatherable, stage_weights

    check_gatherable(trainer)
    trainer.remove_callback(PrinterCallback)  # stages never print; TrackingCallback reports progress
    trainer.add_callback(tracking)
    if checkpoint is not None:
        trainer.add_callback(_nothing_left_callback())
    out: Any = None
    try:
        out = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    except _Finished:  # the checkpoint's weights (loaded before the first step) are the trained model
        pass
    finally:
        tracking.close()
    stage_weights(trainer)  # every rank takes part in gathering sharded weights; the main process writes them
    if not release_workers(trainer):  # multi-process runs: only rank 0 goes on to write the artifact
        return None
    state = trainer.state
    losses = [r["loss"] for r in state.log_history if "loss" in r]
    train_loss = out.training_loss if out is not None else (sum(losses) / len(losses) if losses else float("nan"))
    return {"steps": state.global_step, "epochs": round(state.epoch or 0.0, 3),
            "train_loss": round(float(train_loss), 5), "final_loss": losses[-1] if losses else None,
            "tokens": int(state.num_input_tokens_seen),
            "train_seconds": round(out.metrics.get("train_runtime", 0) if out is not None else 0.0, 2),
            "resumed_from_step": _step_of(checkpoint)}


class _Finished(Exception):
    """Raised before a step when a resumed run has already done `max_steps`."""


def _nothing_left_callback() -> Any:
    from transformers import TrainerCallback

    class NothingLeft(TrainerCallback):  # type: ignore[misc]
        def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if 0 < state.max_steps <= state.global_step:
                raise _Finished

    return NothingLeft()


def _is_main_rank() -> bool:
    import os

    return int(os.environ.get("RANK", "0")) == 0


def _step_of(checkpoint: Path | None) -> int | None:
    return int(checkpoint.name.rsplit("-", 1)[1]) if checkpoint else None
