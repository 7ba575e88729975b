"""Fixtures of the evaluation tests: a tiny model that answers varied text, and a real `luban serve` of it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ENV = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


@pytest.fixture(scope="session")
def noisy_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with larger random weights (seeded): the original answers only newlines."""
    import torch
    from transformers import AutoModelForCausalLM

    out = tmp_path_factory.mktemp("noisy")
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                p.normal_(0, 0.2)
    model.save_pretrained(out)
    for f in tiny_model_dir.iterdir():
        if f.is_file() and not (out / f.name).exists():
            shutil.copy(f, out / f.name)
    return out


@pytest.fixture(scope="session")
def served(noisy_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`luban serve` of `noisy_model_dir` as model `tiny` on a free loopback port; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("srv") / "server.log"
    proc = subprocess.Popen([sys.executable, "-c", "from luban.cli.serve import app; app(prog_name='luban')", "serve",
                             str(noisy_model_dir), "--name", "tiny", "--port", str(port), "--log-level", "warning"],
                            stdout=log.open("w"), stderr=subprocess.STDOUT, env={**ENV, "OMP_NUM_THREADS": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < end, "server not healthy in 180 s"
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
