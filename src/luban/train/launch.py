"""Multi-GPU and multi-node training through `accelerate launch` with a shipped config.

`luban train RECIPE cfg.yaml --launch zero3 --gpus 8 --nodes 2 --node-rank 0 --main-ip 10.0.0.1` resolves the
inputs once (importing model directories into the workspace, so every rank reads the same artifact ids), then
re-executes the same `luban train` command, minus `--launch`, under `accelerate launch` with the config from
`launch_configs/` (ddp, zero2, zero3, fsdp). We orchestrate accelerate; we do not write our own launcher.

Inside the ranks every process trains; after training every rank takes part in gathering the weights
(`saving.stage_weights`: ZeRO-3 partitions, FSDP shards), then the worker ranks are done (`release_workers`:
their `fit` returns None, the recipe returns without an artifact and `luban train` exits 0) and rank 0 alone
writes the model artifact, so the workspace sees one artifact and one index write per run. Without
CUDA, `ddp` falls back to CPU processes talking over gloo (how the tests run DDP on a laptop); DeepSpeed and
FSDP are refused there: accelerate runs them on accelerators only (on CPU it would quietly train plain DDP).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from luban.core.errors import UsageError

CONFIG_DIR = Path(__file__).parent / "launch_configs"
LAUNCHES = ("ddp", "zero2", "zero3", "fsdp")


def config_path(launch: str) -> Path:
    """The shipped accelerate config for `launch`, or a user's own accelerate YAML given by path."""
    if launch in LAUNCHES:
        return CONFIG_DIR / f"{launch}.yaml"
    if Path(launch).is_file():
        return Path(launch)
    raise UsageError(f"unknown --launch '{launch}'", f"use one of {', '.join(LAUNCHES)} or an accelerate YAML path")


def distributed_type(path: Path) -> str | None:
    import yaml

    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("distributed_type")


def needs_deepspeed(path: Path) -> bool:
    return distributed_type(path) == "DEEPSPEED"


def launch_command(launch: str, gpus: int, nodes: int, child_args: list[str], node_rank: int = 0,
                   main_ip: str | None = None, port: int = 29500, cpu: bool | None = None) -> list[str]:
    """The `accelerate launch` argv running `luban train <child_args>` on `gpus` devices per node."""
    import torch

    if gpus < 1 or nodes < 1:
        raise UsageError("--gpus and --nodes must be at least 1", "e.g. --gpus 8 --nodes 2")
    if nodes > 1 and not main_ip:
        raise UsageError("a multi-node launch needs --main-ip", "give the address of the node with --node-rank 0")
    path = config_path(launch)
    cpu = (not torch.cuda.is_available()) if cpu is None else cpu
    if needs_deepspeed(path):
        import importlib.util

        if importlib.util.find_spec("deepspeed") is None:
            raise UsageError(f"--launch {launch} uses DeepSpeed, which is not installed",
                             "pip install deepspeed on the GPU nodes, or use --launch ddp / fsdp")
        if cpu:
            raise UsageError(f"--launch {launch} (DeepSpeed) needs CUDA GPUs", "use --launch ddp on CPU")
    if cpu and distributed_type(path) == "FSDP":
        raise UsageError(f"--launch {launch} (FSDP) needs GPUs: accelerate does not shard on CPU",
                         "use --launch ddp on CPU")
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(path),
           "--num_processes", str(gpus * nodes), "--num_machines", str(nodes), "--machine_rank", str(node_rank),
           "--main_process_port", str(port)]
    if main_ip:
        cmd += ["--main_process_ip", main_ip]
    if cpu:
        # accelerate's own --cpu switch runs a single process; torchrun + gloo gives real CPU data parallelism
        cmd += ["--multi_gpu", "--mixed_precision", "no"]
    return [*cmd, "-m", "luban.cli.main", *child_args]


def child_env(cpu: bool) -> dict[str, str]:
    env = dict(os.environ)
    if cpu:
        env["ACCELERATE_USE_CPU"] = "true"
        env.setdefault("OMP_NUM_THREADS", "1")
    return env


def release_workers(trainer: Any) -> bool:
    """After training, in a multi-process run: wait for every rank, then end training on the worker ranks.
    True on the process that goes on to write the artifact (rank 0, or the only process), False on a worker:
    it has nothing left to do and returns (library code never ends the process; the CLI does)."""
    acc = getattr(trainer, "accelerator", None)
    if acc is None or acc.num_processes <= 1:
        return True
    acc.wait_for_everyone()
    if acc.is_main_process:
        return True
    acc.end_training()
    return False
