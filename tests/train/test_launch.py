"""Launch configs parse in accelerate; `--launch` builds the right command; 2-process DDP and FSDP runs train on
CPU, and the FSDP artifact holds the gathered weights (equal to the DDP run's), not one rank's shards."""

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
from luban.train.launch import CONFIG_DIR, LAUNCHES, config_path, launch_command, release_workers
from luban.train.saving import check_gatherable

SHIM = Path(__file__).parent / "cpu_fsdp"  # sitecustomize.py: accelerate's FSDP state on CPU (test only)


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
    if launch == "zero3":  # without it Trainer.save_model cannot gather the partitioned weights
        assert cfg.deepspeed_config["zero3_save_16bit_model"] is True
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
    with pytest.raises(UsageError, match="FSDP.*needs GPUs"):  # accelerate would quietly run DDP instead
        launch_command("fsdp", 2, 1, [], cpu=True)


class _Trainer:
    """What check_gatherable reads of a trainer: accelerator.state.deepspeed_plugin / fsdp_plugin."""

    def __init__(self, deepspeed_plugin: object = None) -> None:
        state = type("State", (), {"deepspeed_plugin": deepspeed_plugin, "fsdp_plugin": None})()
        self.accelerator = type("Acc", (), {"state": state})()


@pytest.mark.parametrize(("launch", "gather", "ok"), [("zero3", True, True), ("zero3", False, False),
                                                      ("zero2", False, True)])
def test_a_zero3_launch_that_would_not_gather_on_save_is_refused_before_training(launch: str, gather: bool,
                                                                                  ok: bool) -> None:
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DeepSpeedPlugin

    ds = load_config_from_file(str(config_path(launch))).deepspeed_config
    plugin = DeepSpeedPlugin(zero_stage=ds["zero_stage"], zero3_init_flag=False,
                             zero3_save_16bit_model=gather and ds.get("zero3_save_16bit_model", False))
    if ok:
        check_gatherable(_Trainer(plugin))
    else:
        with pytest.raises(UsageError, match="zero3_save_16bit_model: true"):
            check_gatherable(_Trainer(plugin))
    check_gatherable(_Trainer())  # no DeepSpeed: nothing to check


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


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _train_two_ranks(root: Path, cfg: Path, name: str, launch: str) -> subprocess.CompletedProcess[str]:
    """`luban train sft` on 2 CPU ranks: DDP through `--launch ddp`; FSDP through the command `--launch fsdp`
    builds for GPUs, run on CPU with the shim (accelerate has no CPU FSDP) and fp32 like the DDP run."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}
    child = ["--workspace", str(root), "train", "sft", str(cfg), "--model", "base", "--data", "chat", "--name", name]
    if launch == "ddp":
        cmd = [sys.executable, "-m", "luban.cli.main", *child, "--launch", "ddp", "--gpus", "2",
               "--port", str(_free_port())]
    else:
        cmd = launch_command("fsdp", 2, 1, child, port=_free_port(), cpu=False)
        i = cmd.index("luban.cli.main") - 1
        cmd[i:i] = ["--mixed_precision", "no"]
        env.update(PYTHONPATH=os.pathsep.join([str(SHIM), env.get("PYTHONPATH", "")]), LUBAN_TEST_FSDP_ON_CPU="1",
                   ACCELERATE_USE_CPU="true")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env, check=False)


@pytest.mark.slow
def test_two_process_fsdp_on_cpu_saves_the_gathered_model_equal_to_ddp(ws: Workspace, base: Artifact,
                                                                       chat_data: Artifact, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    full = tmp_path / "full.yaml"
    full.write_text("method: full\ntrain: {max_steps: 4, batch_size: 2, save_steps: 100, max_seq_length: 128}\n")
    lora = tmp_path / "lora.yaml"
    lora.write_text("method: lora\nlora: {r: 4, alpha: 8}\n"
                    "train: {max_steps: 4, batch_size: 2, save_steps: 100, max_seq_length: 128}\n")
    root, base_dir = ws.root, base.path
    ws.close()
    for name, cfg, launch in [("ddp", full, "ddp"), ("fsdp", full, "fsdp"), ("fsdp-lora", lora, "fsdp")]:
        out = _train_two_ranks(root, cfg, name, launch)
        assert out.returncode == 0, out.stderr[-3000:]
        assert "[rank1]" in out.stderr or launch == "fsdp"
    again = Workspace(root)
    try:
        ddp, fsdp, adapter = (again.get(n).path for n in ("ddp", "fsdp", "fsdp-lora"))
        assert len(again.list("model")) == 4  # the base and one artifact per run, not one per rank
    finally:
        again.close()
    start = load_file(base_dir / "model.safetensors")
    want, got = load_file(ddp / "model.safetensors"), load_file(fsdp / "model.safetensors")
    assert set(want) <= set(got)  # FSDP's full state dict also spells out the tied lm_head
    for key, tensor in want.items():  # whole tensors, trained, and the same numbers as data-parallel training
        assert got[key].shape == tensor.shape == start[key].shape, key
        assert torch_allclose(got[key], tensor), key
    assert any(not torch_allclose(want[k], start[k], atol=1e-7) for k in want)
    from luban.models.loading import load_causal_lm

    assert load_causal_lm(fsdp) is not None
    weights = load_file(adapter / "adapter_model.safetensors")  # the adapter alone, gathered and trained
    assert not (adapter / "model.safetensors").exists() and weights and all("lora_" in k for k in weights)
    assert all(v.shape[0] == 4 for k, v in weights.items() if "lora_A" in k)
    assert max(float(v.abs().max()) for k, v in weights.items() if "lora_B" in k) > 0  # B starts at zero
    assert not (root / "runs" / "train-sft-fsdp" / "final").exists()  # moved into the artifact


def torch_allclose(a: object, b: object, atol: float = 1e-6) -> bool:
    import torch

    return bool(torch.allclose(a, b, atol=atol, rtol=0))  # type: ignore[arg-type]


class _Ranks:
    """The two calls `release_workers` makes on accelerate's Accelerator, for one rank of a 2-process run (the
    real 2-process runs above are slow; this pins the rank logic in a unit test)."""

    def __init__(self, main: bool) -> None:
        self.num_processes, self.is_main_process, self.calls = 2, main, []

    def wait_for_everyone(self) -> None:
        self.calls.append("wait")

    def end_training(self) -> None:
        self.calls.append("end")


def test_a_worker_rank_returns_instead_of_ending_the_process() -> None:
    from types import SimpleNamespace

    worker, main = _Ranks(main=False), _Ranks(main=True)
    assert release_workers(SimpleNamespace(accelerator=worker)) is False and worker.calls == ["wait", "end"]
    assert release_workers(SimpleNamespace(accelerator=main)) is True and main.calls == ["wait"]
    assert release_workers(SimpleNamespace()) is True  # a plain single-process trainer


def test_library_code_never_ends_the_process() -> None:
    src = Path(__file__).resolve().parents[2] / "src" / "luban"
    # a module's `if __name__ == "__main__":` block is a child process's entry point (the audit writer, GGUF
    # scoring), where an exit status is the process's own business; anywhere else it would end the caller's
    library = {p: p.read_text(encoding="utf-8").split('\nif __name__ == "__main__":')[0] for p in src.rglob("*.py")}
    offenders = [f"{p.relative_to(src)}: {needle}" for p, text in library.items() if p.parent.name != "cli"
                 for needle in ("SystemExit", "sys.exit(", "os._exit(") if needle in text]
    assert offenders == [], "only luban.cli may end the process"
