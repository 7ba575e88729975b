"""Usage accounting: batched writes off the request path, daily totals, outages that never reach a call."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from luban.core.errors import UsageError
from luban.gateway.hooks import CallContext, CallerKey, HookEnv
from luban.gateway.metrics import GatewayMetrics
from luban.gateway.providers import catalog
from luban.gateway.usage import UsageHook, UsageRecord, UsageStore, UsageWriter, compare_costs, metadata


def _ctx(i: int = 0, key: str = "k1", model: str = "chat", status: int = 200, ts: float | None = None,
         cache_hit: bool = False) -> CallContext:
    ctx = CallContext(request_id=f"r{i}", route="chat.completions", body={}, key=CallerKey(id=key, app="crm"),
                      model=model, upstream="local", upstream_model="qwen", status=status, prompt_tokens=10,
                      completion_tokens=5, cost=0.001, cache_hit=cache_hit, latency_ms=12.0)
    if ts is not None:
        ctx.started = ts
    ctx.extra["prompt"] = "support@2"
    return ctx


def _wait(cond, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gateway.db'}"


def _check_store(url: str) -> None:
    store = UsageStore(url)
    day1, day2 = 1_764_000_000.0, 1_764_000_000.0 + 86400
    recs = [UsageRecord.of(_ctx(0, ts=day1)), UsageRecord.of(_ctx(1, ts=day1, status=429)),
            UsageRecord.of(_ctx(2, key="k2", model="emb", ts=day2, cache_hit=True))]
    store.write(recs[:2])
    store.write(recs[2:])
    store.write([UsageRecord.of(_ctx(3, ts=day1))])  # adds to an existing daily row
    by_key = {r["key_id"]: r for r in store.summary(by=["key_id"])}
    assert by_key["k1"]["requests"] == 3 and by_key["k1"]["errors"] == 1
    assert by_key["k1"]["prompt_tokens"] == 30 and by_key["k1"]["cost"] == pytest.approx(0.003)
    assert by_key["k2"]["cache_hits"] == 1
    days = store.summary(by=["day", "model"])
    assert [(r["day"], r["model"], r["requests"]) for r in days] == [("2025-11-24", "chat", 3),
                                                                     ("2025-11-25", "emb", 1)]
    assert store.summary(by=["model"], since="2025-11-25")[0]["model"] == "emb"
    assert store.summary(by=["day"], key="k2", until="2025-11-24") == []
    recent = store.recent(limit=2)
    assert len(recent) == 2 and recent[0]["request_id"] == "r2"  # newest first
    assert store.recent(key="k2")[0]["prompt"] == "support@2"
    long = UsageRecord.of(_ctx(4, status=502, ts=day2))._replace(error="x" * 400, request_id="r" * 80, ttft_ms=3.5)
    store.write([long])
    row = store.recent(limit=1)[0]  # every column lands in its own place, long texts cut to the column's size
    assert row == {**row, "day": "2025-11-25", "key_id": "k1", "app": "crm", "route": "chat.completions",
                   "model": "chat", "upstream": "local", "upstream_model": "qwen", "status": 502, "stream": False,
                   "cache_hit": False, "prompt_tokens": 10, "completion_tokens": 5, "ttft_ms": 3.5,
                   "request_id": "r" * 64, "error": "x" * 300}
    assert row["cost"] == pytest.approx(0.001) and row["latency_ms"] == pytest.approx(12.0)
    with pytest.raises(UsageError, match="cannot group usage by 'team'"):
        store.summary(by=["team"])
    with pytest.raises(UsageError, match="not a date"):
        store.summary(since="yesterday")
    store.close()


def test_store_sqlite(sqlite_url: str) -> None:
    _check_store(sqlite_url)


@pytest.mark.services
def test_store_postgres(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    metadata.drop_all(engine)
    engine.dispose()
    _check_store(postgres_url)


def test_writer_flushes_on_batch_size_and_on_time(sqlite_url: str) -> None:
    store = UsageStore(sqlite_url)
    writer = UsageWriter(store, batch_size=50, flush_ms=60_000)
    writer.start()
    for i in range(49):
        writer.submit(UsageRecord.of(_ctx(i)))
    time.sleep(0.3)
    assert writer.written == 0  # neither a full batch nor the interval yet
    writer.submit(UsageRecord.of(_ctx(49)))
    _wait(lambda: writer.written == 50)
    writer.stop()
    timed = UsageWriter(store, batch_size=1000, flush_ms=50)
    timed.start()
    timed.submit(UsageRecord.of(_ctx(99)))
    _wait(lambda: timed.written == 1, timeout=5)
    timed.stop()
    assert store.summary(by=["key_id"])[0]["requests"] == 51


def test_outage_keeps_a_bounded_backlog_and_recovers(sqlite_url: str) -> None:
    store = UsageStore(sqlite_url)
    writer = UsageWriter(store, batch_size=10, flush_ms=20, max_backlog=100)
    writer.start()
    with store.engine.begin() as conn:  # the database "goes away": every write fails
        conn.execute(sa.text("DROP TABLE gateway_usage_daily"))
    t0 = time.perf_counter()
    for i in range(300):
        writer.submit(UsageRecord.of(_ctx(i)))
    assert time.perf_counter() - t0 < 0.5  # submitting never waits for the database
    _wait(lambda: writer.failures >= 2)
    stats = writer.stats()
    assert stats["queued"] <= 100 and stats["dropped"] >= 200 and stats["failing_since"] is not None
    metadata.create_all(store.engine)  # back
    _wait(lambda: writer.written + writer.dropped == 300)  # every record written or counted as dropped
    assert writer.stats()["failing_since"] is None and writer.stats()["queued"] == 0
    total = store.summary(by=["key_id"])[0]["requests"]
    assert total == writer.written and 0 < total <= 100 and total + writer.dropped == 300
    writer.stop()


def test_hook_records_through_start_post_call_stop(sqlite_url: str) -> None:
    hook = UsageHook(batch_size=100, flush_ms=10_000)

    async def run() -> None:
        await hook.start(HookEnv(config=None, workspace=None, db_url=sqlite_url, redis_url=None, catalog=catalog()))
        for i in range(7):
            await hook.post_call(_ctx(i))
        await hook.post_call(CallContext(request_id="x", route="chat.completions", body={}, status=401,
                                         error="no key"))
        await hook.stop()  # flushes what is queued

    asyncio.run(run())
    store = UsageStore(sqlite_url)
    rows = {r["key_id"]: r["requests"] for r in store.summary(by=["key_id"])}
    assert rows == {"": 1, "k1": 7}


def test_queue_depth_is_a_gauge_on_metrics(sqlite_url: str) -> None:
    metrics = GatewayMetrics()
    hook = UsageHook(batch_size=100, flush_ms=10_000)  # nothing is written before stop: the queue only grows

    def sample(name: str) -> float:
        line = next(x for x in metrics.render().decode().splitlines() if x.startswith(name + " "))
        return float(line.split()[1])

    async def run() -> None:
        await hook.start(HookEnv(config=None, workspace=None, db_url=sqlite_url, redis_url=None, catalog=catalog(),
                                 gauge=metrics.gauge))
        assert sample("luban_gateway_usage_queue") == 0
        for i in range(7):
            await hook.post_call(_ctx(i))
        assert sample("luban_gateway_usage_queue") == 7
        assert sample("luban_gateway_usage_dropped") == 0
        await hook.stop()

    asyncio.run(run())
    assert sample("luban_gateway_usage_queue") == 0  # written at stop


def test_a_gauge_name_outside_luban_is_refused() -> None:
    with pytest.raises(ValueError, match="start with luban_"):
        GatewayMetrics().gauge("queue", "x", lambda: 1.0)


def test_hook_without_a_database_does_nothing() -> None:
    hook = UsageHook()

    async def run() -> None:
        await hook.start(HookEnv(config=None, workspace=None, db_url=None, redis_url=None, catalog=catalog()))
        await hook.post_call(_ctx())
        await hook.stop()

    asyncio.run(run())
    assert hook.writer is None


def test_bad_options_are_refused() -> None:
    with pytest.raises(UsageError, match="max_backlog >= batch_size"):
        UsageHook(batch_size=100, max_backlog=10)


def test_compare_costs_prices_the_same_tokens_everywhere() -> None:
    rows = compare_costs(1_000_000, 1_000_000, catalog(), currency="USD", tokens_per_second=2000)
    by = {r.offering: r for r in rows}
    assert by["openai/gpt-4o"].cost == pytest.approx(12.5)
    assert by["deepseek/deepseek-chat"].cost == pytest.approx((2.0 + 8.0) * 0.139)
    h100 = by["self-hosted H100-80GB"]
    assert h100.kind == "self-hosted" and h100.cost == pytest.approx(2e6 / 2000 / 3600 * 2.99)
    assert [r.cost for r in rows] == sorted(r.cost for r in rows)
    in_cny = {r.offering: r.cost for r in compare_costs(1_000_000, 1_000_000, catalog(), currency="CNY")}
    assert in_cny["openai/gpt-4o"] == pytest.approx(12.5 / 0.139)


def test_old_per_call_rows_are_pruned_and_daily_totals_kept(sqlite_url: str) -> None:
    store = UsageStore(sqlite_url)
    old, new = time.time() - 40 * 86400, time.time()
    store.write([UsageRecord.of(_ctx(0, ts=old)), UsageRecord.of(_ctx(1, ts=old)), UsageRecord.of(_ctx(2, ts=new))])
    writer = UsageWriter(store, batch_size=10, flush_ms=20, keep_days=30)
    writer.start()
    _wait(lambda: len(store.recent()) == 1)
    writer.stop()
    assert store.recent()[0]["request_id"] == "r2"
    assert sum(r["requests"] for r in store.summary(by=["day"])) == 3  # totals untouched
    with pytest.raises(UsageError, match="keep_days must be positive"):
        UsageHook(keep_days=0)
