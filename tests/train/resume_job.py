"""A training job run in a subprocess by test_resume.py (so it can be SIGKILLed mid-epoch)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import transformers

from luban.core.workspace import Workspace
from luban.train.sft import SFTConfig, sft

CONFIG = {"method": "full", "train": {"max_steps": 8, "batch_size": 2, "max_seq_length": 128, "logging_steps": 1,
                                      "save_steps": 2, "save_total_limit": 10, "lr": 1e-3, "packing": False,
                                      "seed": 7}}

PAUSE_AT = 4


def pause_after_checkpoint(root: str) -> None:
    """Stop dead (until SIGKILLed) right after checkpoint PAUSE_AT is on disk, so the kill lands mid-run
    however fast the machine is; a marker file tells the test the moment has come."""
    original = transformers.Trainer._save_checkpoint

    def save_then_pause(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        if self.state.global_step == PAUSE_AT:
            (Path(root) / f"paused-at-{PAUSE_AT}").write_text(str(PAUSE_AT))
            time.sleep(3600)

    transformers.Trainer._save_checkpoint = save_then_pause


if __name__ == "__main__":
    root, name, resume = sys.argv[1], sys.argv[2], sys.argv[3] == "resume"
    if not resume:
        pause_after_checkpoint(root)
    ws = Workspace(root)
    sft(SFTConfig.model_validate(CONFIG), ws, {"model": ws.get("base"), "data": ws.get("chat")}, name,
        resume=resume)
