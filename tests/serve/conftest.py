"""A real `luban serve` process on loopback, shared by the serving tests, and a LoRA adapter for it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CAP = 40  # server-side cap on generated tokens per choice: keeps every test (and schemathesis) fast
# what may complete a cut value: a number's digits, a key's colon and value, an element, a literal's rest
_FILLERS = ("", "0", ":0", '"":0', "ue", "rue", "e", "alse", "lse", "se", "ull", "ll", "l")


def is_json_prefix(text: str) -> bool:
    """True when `text` is a JSON document or the start of one cut off anywhere (what a token cap leaves)."""
    closers: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            closers.append("}" if ch == "{" else "]")
        elif ch in "}]" and (not closers or closers.pop() != ch):
            return False
    end = ("n" if escaped else "") + ('"' if in_string else "")
    for filler in _FILLERS:
        try:
            json.loads(text + end + filler + "".join(reversed(closers)))
            return True
        except json.JSONDecodeError:
            pass
    return False


@pytest.fixture
def json_prefix() -> Any:
    """`json_prefix(text)`: whether `text` is JSON or a cut-off start of JSON (see `is_json_prefix`)."""
    return is_json_prefix


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, args: list[str], log: Path, cap: int = CAP, command: str = "serve") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        cmd = [sys.executable, "-c", "from luban.cli.serve import app; app(prog_name='luban')", command, *args,
               "--port", str(self.port), "--max-tokens-cap", str(cap), "--log-level", "warning"]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)

    def wait_healthy(self, timeout: float = 180) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server not healthy in {timeout}s: {self.log.read_text()[-2000:]}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -9


def make_adapter(base: Path, out: Path) -> Path:
    """A LoRA adapter with non-zero weights, so the adapter's output differs from the base's."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base)
    peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"],
                                            init_lora_weights=False))
    peft.save_pretrained(out)
    AutoTokenizer.from_pretrained(base).save_pretrained(out)
    import json

    cfg = json.loads((out / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = str(base)
    (out / "adapter_config.json").write_text(json.dumps(cfg))
    return out


@pytest.fixture(scope="session")
def lora_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_adapter(tiny_model_dir, tmp_path_factory.mktemp("lora") / "support")


@pytest.fixture(scope="session")
def server(tiny_model_dir: Path, tiny_llama_dir: Path, lora_dir: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Serves `tiny` (qwen2) with adapter `tiny:support`, and `llama` — two models, one process."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    srv = Server([str(tiny_model_dir), str(tiny_llama_dir), str(lora_dir), "--name", "tiny", "--name", "llama",
                  "--name", "support"], log)
    try:
        srv.wait_healthy()
        yield srv
    finally:
        code = srv.stop()
    assert code == 0, f"server did not exit cleanly on SIGTERM ({code}): {log.read_text()[-2000:]}"


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Any]:
    """Start extra servers with their own flags: `start_server([model_dir, ...], cap=2)` (`command="engine"`
    for `luban engine`); stopped after."""
    started: list[Server] = []

    def start(args: list[str], cap: int = CAP, command: str = "serve") -> Server:
        srv = Server(args, tmp_path / f"server-{len(started)}.log", cap, command)
        started.append(srv)
        srv.wait_healthy()
        return srv

    yield start
    for srv in started:
        srv.stop()
