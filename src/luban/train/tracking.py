"""Tracking of a training run: metrics JSONL, TensorBoard events, progress with tokens/s and ETA, time limit.

Design choices:
- one `TrainerCallback`, so every recipe (SFT, DPO, reward, GRPO, distill) gets the same tracking by passing it
  to its TRL trainer;
- files go to `<run>/metrics.jsonl` and `<run>/tensorboard/`; the recipe copies that folder into the model
  artifact as `run/`, so the curves travel with the weights they describe (one artifact per training, lineage
  stays a chain);
- progress goes through `luban.core.progress` (the CLI renders it; stages never print);
- `max_minutes` stops at a step boundary; the trainer then saves the model as at a normal end.
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from luban.core import progress

METRICS_FILE = "metrics.jsonl"


class TrackingCallback(TrainerCallback):  # type: ignore[misc]
    def __init__(self, run_dir: Path, description: str = "Training", max_minutes: float | None = None) -> None:
        self.run_dir = run_dir
        self.description = description
        self.max_minutes = max_minutes
        self._stack = ExitStack()
        self._task: Any = None
        self._writer: Any = None
        self._start = 0.0
        self._start_step = 0
        self._start_tokens = 0
        self.last: dict[str, Any] = {}

    # -- lifecycle --------------------------------------------------------------------------
    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if not state.is_world_process_zero:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._start = time.monotonic()
        self._start_step = state.global_step
        self._start_tokens = state.num_input_tokens_seen
        self._task = self._stack.enter_context(progress.task(self.description, total=state.max_steps))
        if state.global_step:
            self._task.advance(state.global_step)
        self._writer = _summary_writer(self.run_dir / "tensorboard")

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        elapsed = time.monotonic() - self._start
        if self._task is not None:
            done = state.global_step - self._start_step
            eta = elapsed / done * (state.max_steps - state.global_step) if done else None
            self._task.advance(1, tokens_per_s=round(self.tokens_per_s(state)), eta_s=eta and round(eta),
                               loss=self.last.get("loss"))
        if self.max_minutes is not None and elapsed > self.max_minutes * 60:
            control.should_training_stop = True

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
        if not state.is_world_process_zero or not logs:
            return
        row = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4),
               "elapsed_s": round(time.monotonic() - self._start, 3),
               "tokens_per_s": round(self.tokens_per_s(state), 1)}
        row.update({k: v for k, v in logs.items() if isinstance(v, int | float)})
        self.last = row
        with (self.run_dir / METRICS_FILE).open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        if self._writer is not None:
            for k, v in row.items():
                if k != "step":
                    self._writer.add_scalar(f"train/{k}", v, state.global_step)
            self._writer.flush()

    def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._stack.close()
        self._task = None

    def tokens_per_s(self, state: Any) -> float:
        elapsed = time.monotonic() - self._start
        return (state.num_input_tokens_seen - self._start_tokens) / elapsed if elapsed > 0 else 0.0


def _summary_writer(folder: Path) -> Any:
    """TensorBoard's writer when the tensorboard package is installed, else None (JSONL still written)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(log_dir=str(folder))


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / METRICS_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
