"""Graceful drain under load: SIGTERM refuses new work (503, /health "draining"), lets running streams
finish within `--drain-timeout`, cuts the rest with finish_reason "length" and an error event, exits 0."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

LONG = 4000  # cannot finish within the drain timeout
DRAIN = 3.0


def _stream(url: str, max_tokens: int, out: dict[str, Any], started: threading.Event) -> None:
    body = {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": max_tokens,
            "ignore_eos": True, "stream": True}
    events: list[Any] = []
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=120) as r:
        out["status"] = r.status_code
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(line[6:] if line == "data: [DONE]" else json.loads(line[6:]))
                started.set()
    out["events"] = events


@pytest.fixture(scope="module")
def long_context_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from luban.models.tiny import build_tiny

    out = tmp_path_factory.mktemp("tiny-4k")
    texts = ["Acme Robotics makes the X100 robot vacuum.", "The X100 has a warranty of 2 years."] * 50
    build_tiny(texts, out, arch="qwen2", size="test", vocab_size=600, max_position_embeddings=LONG + 96)
    return out


@pytest.mark.slow
def test_sigterm_drains_then_cuts_then_exits_zero(long_context_model: Path, start_server: Any) -> None:
    # `luban engine`: the engine's own contract (in `luban serve` the embedded gateway relays it)
    srv = start_server([str(long_context_model), "--name", "tiny", "--drain-timeout", str(DRAIN)], cap=LONG,
                       command="engine")
    outs: list[dict[str, Any]] = [{} for _ in range(4)]
    threads = []
    for i, out in enumerate(outs):  # two that cannot finish within the grace period, two that can
        started = threading.Event()
        th = threading.Thread(target=_stream, args=(srv.url, LONG if i < 2 else 12, out, started))
        th.start()
        assert started.wait(60), f"stream {i} did not start: {out}"
        threads.append(th)
    signalled = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    health = httpx.get(srv.url + "/health", timeout=10)
    assert health.status_code == 503 and health.json()["status"] == "draining", health.text
    refused = httpx.post(srv.url + "/v1/chat/completions", timeout=10,
                         json={"model": "tiny", "messages": [{"role": "user", "content": "hi"}]})
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "server_shutting_down"
    for th in threads:
        th.join(timeout=60)
    assert srv.proc.wait(timeout=60) == 0
    assert time.monotonic() - signalled < DRAIN + 15
    for short in (o["events"] for o in outs[2:]):
        assert short[-1] == "[DONE]" and not any("error" in e for e in short[:-1])
        assert short[-2]["choices"][0]["finish_reason"] == "length"  # its own max_tokens, reached in time
    for events in (o["events"] for o in outs[:2]):
        assert events[-1] == "[DONE]"
        finishes = [e["choices"][0]["finish_reason"] for e in events[:-1] if e.get("choices")]
        assert finishes[-1] == "length" and finishes.count("length") == 1
        assert events[-2]["error"]["code"] == "server_shutting_down", events[-3:]
        assert "drain timeout" in events[-2]["error"]["message"]
        assert len(events) < LONG
