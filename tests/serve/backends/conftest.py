"""Fixtures for backend tests: exported variants of the session's tiny model and real server processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest


@pytest.fixture(scope="session")
def tiny_onnx_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Qwen2 model exported to ONNX with its KV cache (a few seconds)."""
    pytest.importorskip("onnxruntime")
    from luban.compress.onnx_export import export_onnx

    out = tmp_path_factory.mktemp("tiny-onnx")
    export_onnx(tiny_model_dir, out)
    return out


class LubanProcess:
    """`luban serve ARGS` on a free loopback port, as a separate process."""

    def __init__(self, args: list[str], log: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        cmd = [sys.executable, "-c", "from luban.cli.serve import app; app(prog_name='luban')", "serve", *args,
               "--port", str(self.port), "--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                     env={**os.environ, "OMP_NUM_THREADS": "1"})

    def wait_healthy(self, timeout: float = 180) -> LubanProcess:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
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


@pytest.fixture(scope="session")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[list[str]], LubanProcess]]:
    """`start_server(args)` starts a healthy `luban serve` process; all are stopped at the end."""
    started: list[LubanProcess] = []

    def start(args: list[str]) -> LubanProcess:
        srv = LubanProcess(args, tmp_path_factory.mktemp("serve") / "server.log")
        started.append(srv)
        return srv.wait_healthy()

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session")
def upstream(tiny_model_dir: Path, start_server: Callable[[list[str]], LubanProcess]) -> LubanProcess:
    """A plain Luban HF server of the tiny model: a real OpenAI-protocol upstream on loopback."""
    return start_server([str(tiny_model_dir), "--name", "tiny"])
