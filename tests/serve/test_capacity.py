"""Capacity: a full queue answers 429 with Retry-After, and a client that disconnects frees its
place in the batch at once (the next request starts long before the first would have finished)."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

MSG = [{"role": "user", "content": "hi"}]
LONG = 400


@pytest.mark.slow
def test_queue_full_is_429_and_disconnect_cancels(tiny_model_dir: Path, start_server: Any) -> None:
    srv = start_server([str(tiny_model_dir), "--name", "tiny", "--max-batch", "1", "--max-queue", "1"], cap=LONG)
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="none", max_retries=0, timeout=120)
    kw: dict[str, Any] = {"model": "tiny", "messages": MSG, "max_tokens": LONG, "stream": True,
                          "extra_body": {"ignore_eos": True}}
    first = client.chat.completions.create(**kw)  # running: the only batch slot
    it = iter(first)
    t0 = time.monotonic()
    for _ in range(6):
        next(it)
    per_token = (time.monotonic() - t0) / 5
    waited: dict[str, float] = {}

    def queued() -> None:  # waits in the queue (its first token needs the slot)
        start = time.monotonic()
        s = client.chat.completions.create(**{**kw, "max_tokens": 2})
        waited["first_token"] = time.monotonic()
        list(s)
        waited["start"] = start

    th = threading.Thread(target=queued)
    th.start()
    time.sleep(0.5)
    with pytest.raises(openai.RateLimitError) as e:
        client.chat.completions.create(model="tiny", messages=MSG, max_tokens=2)
    assert int(e.value.response.headers["retry-after"]) >= 1
    assert e.value.body["type"] == "rate_limit_error"
    closed = time.monotonic()
    first.close()  # the client goes away mid-generation
    th.join(timeout=120)
    assert "first_token" in waited
    # without cancellation the engine would have run ~LONG decode steps for the first request
    metrics = httpx.get(srv.url + "/metrics").text
    steps = float(re.search(r'luban_engine_decode_steps_total\{model="tiny"\} (\S+)', metrics).group(1))
    assert steps < LONG / 2, steps
    assert waited["first_token"] - closed < max(3.0, 0.3 * (LONG - 6) * per_token)
