"""Launch configs parse in accelerate; `--launch` builds the right command; a 2-process DDP run trains on CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from luban.core.artifact import Artifact
from luban.core.errors import UsageError
from luban.core.workspace import Workspace
from luban.train.launch import CONFIG_DIR, LAUNCHES, config_path, launch_command


@pytest.mark.parametrize("launch", LAUNCHES)
def test_shipped_configs_load_in_accelerate(launch: str) -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    cfg = load_config_from_file(str(config_path(launch)))
    expected = {"ddp": "MULTI_GPU", "zero2": "DEEPSPEED", "zero3": "DEEPSPEED", "fsdp": "FSDP"}[launch]
    assert str(cfg.distributed_type).endswith(expected)
    if launch.startswith("zero"):
        assert cfg.deepspeed_config["zero_stage"] == int(launch[-1])
    if launch == "fsdp":
        assert cfg.fsdp_config["fsdp_state_dict_type"] == "FULL_STATE_DICT"
    assert sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")) == sorted(LAUNCHES)


def test_launch_command_for_two_nodes_of_eight_gpus() -> None:
    cmd = launch_command("ddp", 8, 2, ["train", "sft", "c.yaml"], node_rank=1, main_ip="10.0.0.1", cpu=False)
    i = cmd.index("accelerate.commands.launch")
    assert cmd[i + 1:i + 3] == ["--config_file", str(CONFIG_DIR / "ddp.yaml")]
    flags = dict(zip(cmd[i + 3::2], cmd[i + 4::2], strict=False))
    assert flags["--num_processes"] == "16" and flags["--num_machines"] == "2" and flags["--machine_rank"] == "1"
    assert flags["--main_process_ip"] == "10.0.0.1"
    assert cmd[-5:] == ["-m", "luban.cli.main", "train", "sft", "c.yaml"]


def test_bad_launches_are_one_line_errors() -> None:
    with pytest.raises(UsageError, match="unknown --launch 'zero4'"):
        launch_command("zero4", 8, 1, [])
    with pytest.raises(UsageError, match="needs --main-ip"):
        launch_command("ddp", 8, 2, [])
    import importlib.util

    if importlib.util.find_spec("deepspeed") is None:
        with pytest.raises(UsageError, match="DeepSpeed, which is not installed"):
            launch_command("zero3", 8, 1, [])


@pytest.mark.slow
def test_two_process_ddp_on_cpu_trains_and_writes_one_model_artifact(ws: Workspace, base: Artifact,
                                                                    chat_data: Artifact, tmp_path: Path) -> None:
    cfg = tmp_path / "sft.yaml"
    cfg.write_text("method: lora\ntrain: {max_steps: 4, batch_size: 2, save_steps: 100, max_seq_length: 128, "
                   "logging_steps: 1}\n")
    root = ws.root
    ws.close()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    out = subprocess.run([sys.executable, "-m", "luban.cli.main", "--workspace", str(root), "train", "sft", str(cfg),
                          "--model", "base", "--data", "chat", "--name", "ddp", "--launch", "ddp", "--gpus", "2"],
                         capture_output=True, text=True, timeout=900, env=env, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "[rank1]" in out.stderr  # two ranks really ran
    again = Workspace(root)
    try:
        art = again.get("ddp")
        assert art.kind == "model" and (art.path / "adapter_config.json").is_file()
        assert art.manifest.stats["steps"] == 4
        assert len(again.list("model")) == 2  # the base and one trained model, not one per rank
        assert json.loads((art.path / "adapter_config.json").read_text())["r"] == 16
    finally:
        again.close()
