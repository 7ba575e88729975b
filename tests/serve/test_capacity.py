"""Capacity: a full queue answers 429 with Retry-After, and a client that disconnects frees its
place in the batch at once (counted in decode steps, so the test does not depend on speed)."""

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
LONG = 450


def _metric(url: str, name: str) -> float:
    text = httpx.get(url + "/metrics").text
    m = re.search(name + r'\{model="tiny"\} (\S+)', text)
    assert m, text[-2000:]
    return float(m.group(1))


@pytest.mark.slow
def test_queue_full_is_429_and_disconnect_cancels(tiny_model_dir: Path, start_server: Any) -> None:
    srv = start_server([str(tiny_model_dir), "--name", "tiny", "--max-batch", "1", "--max-queue", "1"], cap=LONG)
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="none", max_retries=0, timeout=120)
    kw: dict[str, Any] = {"model": "tiny", "messages": MSG, "max_tokens": LONG, "stream": True,
                          "extra_body": {"ignore_eos": True}}
    first = client.chat.completions.create(**kw)  # running: the only batch slot
    next(iter(first))
    got: dict[str, float] = {}

    def queued() -> None:  # waits in the queue: its first token needs the slot
        s = client.chat.completions.create(**{**kw, "max_tokens": 2})
        got["steps_at_first_token"] = _metric(srv.url, "luban_engine_decode_steps_total")
        list(s)

    th = threading.Thread(target=queued)
    th.start()
    deadline = time.monotonic() + 30
    while _metric(srv.url, "luban_engine_waiting") < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    with pytest.raises(openai.RateLimitError) as e:
        client.chat.completions.create(model="tiny", messages=MSG, max_tokens=2)
    assert int(e.value.response.headers["retry-after"]) >= 1
    assert e.value.body["type"] == "rate_limit_error"
    steps_at_close = _metric(srv.url, "luban_engine_decode_steps_total")
    assert steps_at_close < LONG - 100, "the first request finished before the test could cancel it"
    first.close()  # the client goes away mid-generation
    th.join(timeout=120)
    # without cancellation the engine would first run the rest of the first request's decode steps
    assert got["steps_at_first_token"] - steps_at_close < 40, (steps_at_close, got)
