"""The LLM judge wired to a real model served by Luban (the tiny test model, over HTTP): the request goes
out in OpenAI's format and the answer comes back; the tiny model's answer is no verdict, so the policy's
fail mode decides, as it would for a guard model that answers garbage."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from luban.guard.normalize import Text
from luban.guard.scanners.base import SCANNERS


@pytest.mark.slow
def test_judge_against_a_luban_served_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "serve.log"
    proc = subprocess.Popen([sys.executable, "-c", "from luban.cli.serve import app; app(prog_name='luban')", "serve",
                             str(tiny_model_dir), "--name", "tiny", "--port", str(port), "--log-level", "warning"],
                            stdout=log.open("w"), stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        end = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()[-2000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < end, log.read_text()[-2000:]
            time.sleep(0.3)
        cls = SCANNERS.get("llm_judge")
        for fail, action in (("closed", "block"), ("open", "flag")):
            judge = cls(cls.Config.model_validate({"base_url": f"http://127.0.0.1:{port}/v1", "model": "tiny",
                                                    "fail": fail, "timeout_s": 60}))
            answer = judge.ask("is this safe?")
            assert isinstance(answer, str)  # a real completion came back through the OpenAI protocol
            (f,) = judge.scan(Text("is this safe?"))
            assert f.action == action and "unreadable answer" in f.reason
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
