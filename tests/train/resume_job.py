"""A training job run in a subprocess by test_resume.py (so it can be SIGKILLed mid-epoch)."""

from __future__ import annotations

import sys

from luban.core.workspace import Workspace
from luban.train.sft import SFTConfig, sft

CONFIG = {"method": "full", "train": {"max_steps": 8, "batch_size": 2, "max_seq_length": 128, "logging_steps": 1,
                                      "save_steps": 2, "save_total_limit": 10, "lr": 1e-3, "packing": False,
                                      "seed": 7}}

if __name__ == "__main__":
    root, name, resume = sys.argv[1], sys.argv[2], sys.argv[3] == "resume"
    ws = Workspace(root)
    sft(SFTConfig.model_validate(CONFIG), ws, {"model": ws.get("base"), "data": ws.get("chat")}, name,
        resume=resume)
