"""Real processes on loopback for the gateway's tests: stub upstreams (OpenAI's protocol over HTTP) and
`luban gateway` itself, started from a gateway.yaml written by the test. Imported by name (this folder is
on the tests' path)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

HERE = Path(__file__).resolve().parent
STUB = HERE / "stub_upstream.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    """A server process on loopback; `url` is its root."""

    def __init__(self, cmd: list[str], port: int, log: Path, env: dict[str, str] | None = None,
                 health: str = "/health") -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.health = health
        self.proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})})

    def wait(self, timeout: float = 60, status: int = 200) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"process exited ({self.proc.returncode}): {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + self.health, timeout=2).status_code == status:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"not up in {timeout}s: {self.log.read_text()[-3000:]}")

    def stop(self, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_stub(tmp: Path, name: str, slow: float = 3.0) -> Proc:
    port = free_port()
    p = Proc([sys.executable, str(STUB), "--port", str(port), "--name", name, "--slow", str(slow)], port,
             tmp / f"stub-{name}-{port}.log")
    p.wait()
    return p


def start_gateway(tmp: Path, config: dict[str, Any], *, extra: list[str] | None = None,
                  env: dict[str, str] | None = None, wait: bool = True) -> Proc:
    port = free_port()
    cfg_path = tmp / f"gateway-{port}.yaml"
    cfg_path.write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "luban.cli.main", "--workspace", str(tmp / "ws"), "gateway", "--config",
           str(cfg_path), "--port", str(port), *(extra or [])]
    full_env = {"PYTHONPATH": str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env or {})}
    p = Proc(cmd, port, tmp / f"gateway-{port}.log", env=full_env)
    if wait:
        p.wait()
    return p


def metric(url: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample at `url`/metrics (0 when absent)."""
    text = httpx.get(url + "/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def need_exe(exe: str) -> str:
    """The path of a program the test needs (nginx, redis-server): a skip outside CI, a failure under CI=true."""
    import shutil

    import pytest

    path = shutil.which(exe) or (f"/usr/sbin/{exe}" if Path(f"/usr/sbin/{exe}").exists() else None)
    if path is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{exe} is not installed and CI=true requires it")
        pytest.skip(f"{exe} is not installed")
    return path


def wait_port(port: int, timeout: float = 10) -> None:
    """Until something listens on 127.0.0.1:`port`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")
