"""`luban serve` with the gateway in front, in one process: the tiny model answers through the gateway, keys
from the workspace are enforced once one exists, and binding beyond loopback without keys is refused."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest
from gateway_procs import Proc, free_port, metric

from luban.gateway.keys import KeyStore


def serve(tmp_path: Path, model: Path, *args: str) -> Proc:
    port = free_port()
    cmd = [sys.executable, "-m", "luban.cli.main", "--workspace", str(tmp_path / "ws"), "serve", str(model),
           "--name", "tiny", "--port", str(port), "--max-tokens-cap", "8", *args]
    return Proc(cmd, port, tmp_path / f"serve-{port}.log", env={"OMP_NUM_THREADS": "1"})


@pytest.mark.slow
def test_serve_runs_the_gateway_in_front_of_the_engine(tmp_path: Path, tiny_model_dir: Path) -> None:
    p = serve(tmp_path, tiny_model_dir)
    try:
        p.wait(timeout=180)
        hi = [{"role": "user", "content": "hi"}]
        open_client = openai.OpenAI(base_url=p.url + "/v1", api_key="none", max_retries=0, timeout=60)
        open_client.chat.completions.create(model="tiny", messages=hi, max_tokens=2)  # no key yet: open
        (tmp_path / "ws").mkdir()  # what `luban keys create` does: the running server picks the keys up
        store = KeyStore(f"sqlite:///{tmp_path / 'ws' / 'gateway.db'}")
        _, secret = store.create("app", scopes=["tiny"], rpm=100)
        _, admin = store.create("admin", role="admin")
        store.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if httpx.get(p.url + "/v1/models").status_code == 401:
                break
            time.sleep(0.5)
        with pytest.raises(openai.AuthenticationError):
            open_client.chat.completions.create(model="tiny", messages=hi, max_tokens=2)
        c = openai.OpenAI(base_url=p.url + "/v1", api_key=secret, max_retries=0, timeout=60)
        out = c.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "hi"}], max_tokens=4,
                                        temperature=0)
        assert out.usage is not None and out.usage.completion_tokens > 0
        chunks = list(c.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "hi"}],
                                                max_tokens=4, temperature=0, stream=True))
        assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == \
            out.choices[0].message.content  # the cached answer, replayed as a stream
        assert [m.id for m in c.models.list()] == ["tiny"]
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=p.url + "/v1", api_key="wrong", max_retries=0).models.list()
        with pytest.raises(openai.PermissionDeniedError):  # outside the key's scopes
            c.chat.completions.create(model="tiny-nope", messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.NotFoundError):  # the engine's own 404 passes through
            openai.OpenAI(base_url=p.url + "/v1", api_key=admin, max_retries=0).chat.completions.create(
                model="tiny-nope", messages=[{"role": "user", "content": "hi"}])
        assert metric(p.url, "luban_gateway_requests_total", route="chat.completions") >= 2
        assert "luban_engine_running" in httpx.get(p.url + "/metrics").text  # the engine's metrics too
    finally:
        assert p.stop(timeout=90) == 0  # torch's teardown takes seconds on a loaded machine


def test_serve_beyond_loopback_without_keys_refuses_to_start(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "luban.cli.main", "--workspace", str(tmp_path / "ws"), "serve",
                          str(tmp_path), "--host", "0.0.0.0", "--port", str(free_port())],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "luban serve refuses to listen on 0.0.0.0 without API keys" in lines[0]


@pytest.mark.slow
def test_gateway_yaml_can_load_an_engine_in_process(tmp_path: Path, tiny_model_dir: Path) -> None:
    from gateway_procs import start_gateway

    cfg = {"upstreams": {"local": {"kind": "engine", "serve": [str(tiny_model_dir)], "health_path": ""}},
           "models": {"chat": {"upstreams": [{"upstream": "local", "model": tiny_model_dir.name}]}}}
    gw = start_gateway(tmp_path, cfg, wait=False)
    try:
        gw.wait(timeout=180)
        c = openai.OpenAI(base_url=gw.url + "/v1", api_key="none", max_retries=3, timeout=60)
        deadline = time.monotonic() + 120
        while True:  # the engine loads its model in the background: 503 with Retry-After until then
            try:
                out = c.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}],
                                                max_tokens=3)
                break
            except openai.APIStatusError as err:
                assert err.status_code == 503 and time.monotonic() < deadline
                time.sleep(1)
        assert out.usage is not None and out.usage.completion_tokens > 0
    finally:
        gw.stop(timeout=90)
