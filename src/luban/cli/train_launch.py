"""`luban train ... --launch NAME`: re-run the same training command under `accelerate launch`.

Kept out of cli/train.py so the single-process path stays short; see luban.train.launch for the design.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import typer

from luban.cli.context import console, state
from luban.core.errors import LubanError


def relaunch(launch: str, gpus: int, nodes: int, node_rank: int, main_ip: str | None, port: int, recipe: str,
             config: Path | None, overrides: list[str], inputs: dict[str, Any], name: str | None, resume: bool,
             force: bool) -> None:
    import torch

    from luban.train.launch import child_env, launch_command

    ws = state.workspace()
    child = ["--workspace", str(ws.root)]
    if state.db_url:
        child += ["--db-url", state.db_url]
    child += ["train", recipe, *([str(config)] if config else []), *overrides]
    for role, art in inputs.items():
        child += ["--model", art.id] if role == "model" else ["--data", art.id] if role == "data" \
            else ["--input", f"{role}={art.id}"]
    child += [*(["--name", name] if name else []), *(["--resume"] if resume else []), *(["--force"] if force else [])]
    cpu = not torch.cuda.is_available()
    cmd = launch_command(launch, gpus, nodes, child, node_rank, main_ip, port, cpu=cpu)
    console.print(f"launching {gpus * nodes} process(es) with accelerate ({launch}{', CPU/gloo' if cpu else ''})")
    rc = subprocess.run(cmd, env=child_env(cpu), check=False).returncode
    if rc != 0:
        raise LubanError(f"accelerate launch exited with status {rc}", "see the ranks' output above")
    raise typer.Exit(0)
