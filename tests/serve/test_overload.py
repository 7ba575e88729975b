"""Overload: with ten times more clients than the queue holds, every request past `--max-queue` gets 429
with Retry-After at once (no timeout, no 5xx), and latency is back to normal within seconds of the burst."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

QUEUE = 4
CLIENTS = 10 * QUEUE


async def _one(client: httpx.AsyncClient, tokens: int) -> tuple[int, float, httpx.Headers]:
    body = {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": tokens,
            "ignore_eos": True}
    start = time.monotonic()
    r = await client.post("/v1/chat/completions", json=body)
    return r.status_code, time.monotonic() - start, r.headers


@pytest.mark.slow
def test_a_burst_past_the_queue_is_shed_with_429_and_latency_recovers(tiny_model_dir: Path,
                                                                      start_server: Any) -> None:
    srv = start_server([str(tiny_model_dir), "--name", "tiny", "--max-batch", "2", "--max-queue", str(QUEUE)],
                       cap=64)

    async def main() -> dict[str, Any]:
        limits = httpx.Limits(max_connections=CLIENTS + 4)
        async with httpx.AsyncClient(base_url=srv.url, timeout=120, limits=limits) as client:
            before = [(await _one(client, 8))[1] for _ in range(5)]
            burst = await asyncio.gather(*(_one(client, 64) for _ in range(CLIENTS)))
            after: list[float] = []
            ended = time.monotonic()
            while time.monotonic() - ended < 5:
                after.append((await _one(client, 8))[1])
        return {"before": before, "burst": burst, "after": after}

    out = asyncio.run(main())
    codes = [code for code, _, _ in out["burst"]]
    assert set(codes) <= {200, 429}, codes
    shed = [(lat, headers) for code, lat, headers in out["burst"] if code == 429]
    assert len(shed) >= CLIENTS - 2 - QUEUE - 4, codes  # batch + queue (+ a few that arrived after others left)
    assert all(int(h["retry-after"]) >= 1 for _, h in shed)
    normal = statistics.median(out["before"])
    slowest_200 = max(lat for code, lat, _ in out["burst"] if code == 200)
    assert max(lat for lat, _ in shed) < slowest_200 / 2 + 1.0, "429s were not answered at once"
    settled = out["after"][len(out["after"]) // 2:]  # the second half of the 5 s after the burst
    assert statistics.median(settled) < 2 * normal + 0.05, (normal, out["after"])
