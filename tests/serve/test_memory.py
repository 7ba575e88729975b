"""Memory stays flat under sustained load with prompts of every length (a real `luban serve`).

Before the fix each distinct prefill shape left ~1 MB of CPU kernel caches behind (bf16 matmuls), so a
server seeing prompts of many lengths grew for hours; now prefill shapes are bucketed and the caches
capped, so RSS levels off during warm-up. The long version is `bench/serve_soak.py` (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

CLIENTS = 4
WORDS = ["robot", "vacuum", "warranty", "returns", "support", "lock", "hub", "battery", "filter", "map"]


async def _phase(url: str, first: int, count: int) -> list[int]:
    """`count` requests, each with its own prompt of 1-55 words, 10-450 tokens (so of most lengths the window allows)."""
    statuses: list[int] = []
    limits = httpx.Limits(max_connections=CLIENTS + 2)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        async def worker(w: int) -> None:
            for i in range(first + w, first + count, CLIENTS):
                rng = random.Random(i)
                words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 55)))
                body: dict[str, Any] = {"model": "tiny", "max_tokens": 2, "stream": i % 3 == 0,
                                        "messages": [{"role": "user", "content": f"{i}: {words}"}]}
                r = await client.post("/v1/chat/completions", json=body)
                statuses.append(r.status_code)

        await asyncio.gather(*(worker(w) for w in range(CLIENTS)))
    return statuses


@pytest.mark.slow
def test_rss_levels_off_after_warm_up(tiny_model_dir: Path, start_server: Any) -> None:
    srv = start_server([str(tiny_model_dir), "--name", "tiny"])
    proc = psutil.Process(srv.proc.pid)
    assert set(asyncio.run(_phase(srv.url, 0, 600))) == {200}  # warm-up
    rss = [proc.memory_info().rss / 2**20]
    for k in range(3):
        assert set(asyncio.run(_phase(srv.url, 600 + 400 * k, 400))) == {200}
        rss.append(proc.memory_info().rss / 2**20)
    growth = rss[-1] - rss[0]
    assert growth < 0.03 * rss[0] and max(rss) - rss[0] < 25, f"RSS after warm-up, per 400 requests: {rss} MB"
