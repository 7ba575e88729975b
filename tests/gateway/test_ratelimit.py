"""RPM / TPM token buckets and budgets, in memory and atomically in Redis (the same Lua for every replica)."""

from __future__ import annotations

import asyncio
import time

import pytest

from luban.gateway.keys import KeyRecord
from luban.gateway.ratelimit import MemoryLimiter, RedisLimiter, period_id


def key(kid: str = "k1", **kw: object) -> KeyRecord:
    return KeyRecord(id=kid, name="t", salt="00", hash="", **kw)  # type: ignore[arg-type]


def test_rpm_bucket_admits_the_limit_then_says_when_to_retry() -> None:
    async def go() -> None:
        lim, k = MemoryLimiter(), key(rpm=3)
        assert all([(await lim.admit(k)).allowed for _ in range(3)])
        d = await lim.admit(k)
        assert not d.allowed and d.reason == "rpm" and 0 < d.retry_after <= 20.0

    asyncio.run(go())


def test_tpm_overdraft_is_paid_back_before_the_next_request() -> None:
    async def go() -> None:
        lim, k = MemoryLimiter(), key(tpm=600)  # 10 tokens a second
        assert (await lim.admit(k)).allowed
        await lim.charge(k, 620, 0.0)
        d = await lim.admit(k)
        assert not d.allowed and d.reason == "tpm" and d.retry_after == pytest.approx(2.1, abs=0.2)

    asyncio.run(go())


def test_budget_is_spent_per_period() -> None:
    async def go() -> None:
        lim, k = MemoryLimiter(), key(budget=1.0, budget_period="day")
        await lim.charge(k, 10, 0.6)
        assert (await lim.admit(k)).allowed
        await lim.charge(k, 10, 0.6)
        d = await lim.admit(k)
        assert not d.allowed and d.reason == "budget" and 0 < d.retry_after <= 86400

    asyncio.run(go())


def test_period_ids() -> None:
    t = time.mktime((2026, 12, 31, 12, 0, 0, 0, 0, 0)) - time.timezone
    assert period_id("month", t)[0] == "202612" and period_id("day", t)[0] == "20261231"
    assert period_id("total", t) == ("total", 0.0)


@pytest.mark.services
def test_redis_limits_are_shared_by_replicas(redis_url: str) -> None:
    import redis.asyncio as aioredis

    async def go() -> None:
        a, b = aioredis.from_url(redis_url), aioredis.from_url(redis_url)
        errors: list[str] = []
        prefix = f"luban-test-{time.time_ns()}:"
        la, lb = RedisLimiter(a, prefix, errors.append), RedisLimiter(b, prefix, errors.append)
        k = key(rpm=4, tpm=1000, budget=0.5)
        results = [(await (la if i % 2 else lb).admit(k)).allowed for i in range(6)]
        assert results == [True] * 4 + [False] * 2
        await la.charge(k, 2000, 0.3)
        d = await lb.admit(k)
        assert not d.allowed and d.reason in ("tpm", "rpm")
        k2 = key("k2", budget=0.5)
        await la.charge(k2, 1, 0.3)
        assert (await lb.admit(k2)).allowed
        await lb.charge(k2, 1, 0.3)
        d = await la.admit(k2)
        assert not d.allowed and d.reason == "budget"
        assert not errors
        await a.aclose()
        await b.aclose()

    asyncio.run(go())


def test_redis_down_falls_back_to_memory_and_counts_it() -> None:
    import redis.asyncio as aioredis
    from gateway_procs import free_port

    async def go() -> None:
        client = aioredis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
        errors: list[str] = []
        lim = RedisLimiter(client, "x:", errors.append)
        k = key(rpm=1)
        assert (await lim.admit(k)).allowed
        assert not (await lim.admit(k)).allowed  # the fallback still limits, per replica
        assert errors == ["ratelimit.admit"]  # one failure, then a second off Redis
        await client.aclose()

    asyncio.run(go())
