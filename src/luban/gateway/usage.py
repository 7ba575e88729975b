"""Usage and cost: one row per call and a running total per key, model and day, written off the hot path.

Design choices:
- `UsageHook.post_call` only appends a small record to an in-memory queue (no I/O, no lock held for
  long); a writer thread flushes every `batch_size` records or `flush_ms` milliseconds, in one
  transaction per batch. LiteLLM's spend log, written per request, became its users' bottleneck.
- A batch is summed per (day, key, model) before it reaches the database, so the daily table takes one
  upsert per group, not one per call; reports read the daily table, never the per-call one.
- The database may be down: the batch goes back to the queue, the writer backs off (up to 5 s), and the
  queue is bounded by `max_backlog`; past it the oldest records are dropped and counted. A request never
  waits for and never fails because of usage accounting. `stats()` says how many were written, dropped
  and failed; one warning line is logged per outage, one when it ends.
- SQLite by default (the gateway's database, WAL mode), PostgreSQL when replicas share one: the same
  tables, with each dialect's own upsert.
- Costs come from the hot path (`ctx.cost`, already in the gateway's currency); `compare_costs` prices
  the same tokens on every commercial API of the catalog and on self-hosted GPUs, for the report.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from luban.core.bulkinsert import BulkInsert
from luban.core.errors import UsageError
from luban.gateway.hooks import BaseHook, CallContext, HookEnv
from luban.gateway.providers import Catalog

log = logging.getLogger("luban.gateway.usage")

metadata = sa.MetaData()
requests_table = sa.Table(
    "gateway_usage", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.Float, nullable=False, index=True),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(32), nullable=False, index=True),  # "" for calls without a valid key
    sa.Column("app", sa.String(200)),
    sa.Column("route", sa.String(32), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("upstream", sa.String(200)),
    sa.Column("upstream_model", sa.String(200)),
    sa.Column("prompt", sa.String(200)),  # the prompt template used, e.g. support@3
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("stream", sa.Boolean, nullable=False),
    sa.Column("cache_hit", sa.Boolean, nullable=False),
    sa.Column("prompt_tokens", sa.Integer, nullable=False),
    sa.Column("completion_tokens", sa.Integer, nullable=False),
    sa.Column("cost", sa.Float, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("ttft_ms", sa.Float),
    sa.Column("error", sa.String(300)),
)
daily_table = sa.Table(
    "gateway_usage_daily", metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("model", sa.String(200), primary_key=True),
    sa.Column("requests", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("cache_hits", sa.Integer, nullable=False),
    sa.Column("prompt_tokens", sa.BigInteger, nullable=False),
    sa.Column("completion_tokens", sa.BigInteger, nullable=False),
    sa.Column("cost", sa.Float, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),  # sum, for the mean
)
SUMS = ("requests", "errors", "cache_hits", "prompt_tokens", "completion_tokens", "cost", "latency_ms")
GROUPS = ("day", "key_id", "model")


class UsageRecord(NamedTuple):
    """One call, as queued: a plain tuple built on the request path (about a microsecond; the UTC day and
    the rows for the database are worked out by the writer thread)."""

    ts: float
    request_id: str
    key_id: str
    app: str | None
    route: str
    model: str
    upstream: str | None
    upstream_model: str | None
    prompt: str | None
    status: int
    stream: bool
    cache_hit: bool
    prompt_tokens: int
    completion_tokens: int
    cost: float
    latency_ms: float
    ttft_ms: float | None
    error: str | None

    @classmethod
    def of(cls, ctx: CallContext) -> UsageRecord:
        key = ctx.key
        return cls(ctx.started, ctx.request_id, key.id if key is not None else "", key.app if key is not None else None,
                   ctx.route, ctx.model, ctx.upstream, ctx.upstream_model, ctx.extra.get("prompt"), ctx.status,
                   ctx.stream, ctx.cache_hit, ctx.prompt_tokens, ctx.completion_tokens, ctx.cost, ctx.latency_ms,
                   ctx.ttft_ms, ctx.error)

    @property
    def day(self) -> str:
        return _day(int(self.ts // 86400))

    def values(self) -> tuple[Any, ...]:
        """The per-call row's values, in `ROW_COLUMNS` order."""
        return (self.ts, self.day, self.request_id[:64], self.key_id, self.app, self.route, (self.model or "")[:200],
                self.upstream, self.upstream_model, self.prompt, self.status, self.stream, self.cache_hit,
                self.prompt_tokens, self.completion_tokens, self.cost, self.latency_ms, self.ttft_ms,
                self.error[:300] if self.error else None)


ROW_COLUMNS = tuple(c.name for c in requests_table.columns if c.name != "id")


@functools.lru_cache(maxsize=64)
def _day(epoch_day: int) -> str:
    return datetime.fromtimestamp(epoch_day * 86400, timezone.utc).strftime("%Y-%m-%d")


class UsageStore:
    """The usage tables in any SQLAlchemy database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = sa.create_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_wal)
        metadata.create_all(self.engine)
        self._insert = BulkInsert(self.engine, requests_table, ROW_COLUMNS)

    def close(self) -> None:
        self.engine.dispose()

    def write(self, records: list[UsageRecord], per_request: bool = True) -> None:
        """One transaction: the calls' rows and the daily totals they add to."""
        totals: dict[tuple[str, str, str], dict[str, float]] = {}
        for r in records:
            t = totals.setdefault((r.day, r.key_id, (r.model or "")[:200]), dict.fromkeys(SUMS, 0))
            t["requests"] += 1
            t["errors"] += r.status >= 400
            t["cache_hits"] += r.cache_hit
            t["prompt_tokens"] += r.prompt_tokens
            t["completion_tokens"] += r.completion_tokens
            t["cost"] += r.cost
            t["latency_ms"] += r.latency_ms
        with self.engine.begin() as conn:
            if per_request:
                self._insert.run(conn, [r.values() for r in records])
            for (day, key_id, model), t in totals.items():
                self._add(conn, {"day": day, "key_id": key_id, "model": model, **t})

    def _add(self, conn: sa.Connection, row: dict[str, Any]) -> None:
        dialect = self.engine.dialect.name
        increments = {c: daily_table.c[c] + row[c] for c in SUMS}
        if dialect in ("sqlite", "postgresql"):
            insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(daily_table).values(**row)
            conn.execute(insert.on_conflict_do_update(index_elements=list(GROUPS), set_=increments))
            return
        where = sa.and_(*(daily_table.c[g] == row[g] for g in GROUPS))
        if conn.execute(daily_table.update().where(where).values(**increments)).rowcount == 0:
            conn.execute(daily_table.insert().values(**row))

    def prune(self, before_ts: float) -> int:
        """Delete the per-call rows older than `before_ts` (the daily totals stay); how many went."""
        with self.engine.begin() as conn:
            return int(conn.execute(requests_table.delete().where(requests_table.c.ts < before_ts)).rowcount or 0)

    # -- reading ----------------------------------------------------------------------------
    def summary(self, by: Iterable[str] = ("day",), since: date | str | None = None, until: date | str | None = None,
                key: str | None = None, model: str | None = None) -> list[dict[str, Any]]:
        """Totals grouped by any of day, key_id and model (inclusive dates, UTC), ordered by the groups."""
        groups = list(by)
        for g in groups:
            if g not in GROUPS:
                raise UsageError(f"cannot group usage by '{g}'", f"use any of: {', '.join(GROUPS)}")
        cols = [daily_table.c[g] for g in groups]
        query = sa.select(*cols, *(sa.func.sum(daily_table.c[s]).label(s) for s in SUMS))
        query = query.where(*_filters(since, until, key, model)).group_by(*cols).order_by(*cols)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        for r in rows:
            n = r["requests"] or 0
            r["mean_latency_ms"] = r["latency_ms"] / n if n else 0.0
            for s in SUMS:
                r[s] = (r[s] or 0) if s in ("cost", "latency_ms") else int(r[s] or 0)
        return rows

    def recent(self, limit: int = 100, key: str | None = None, model: str | None = None) -> list[dict[str, Any]]:
        """The newest calls, newest first."""
        query = sa.select(requests_table).order_by(requests_table.c.ts.desc()).limit(limit)
        if key is not None:
            query = query.where(requests_table.c.key_id == key)
        if model is not None:
            query = query.where(requests_table.c.model == model)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]


def _filters(since: date | str | None, until: date | str | None, key: str | None,
             model: str | None) -> list[Any]:
    out = []
    if since is not None:
        out.append(daily_table.c.day >= _iso(since))
    if until is not None:
        out.append(daily_table.c.day <= _iso(until))
    if key is not None:
        out.append(daily_table.c.key_id == key)
    if model is not None:
        out.append(daily_table.c.model == model)
    return out


def _iso(d: date | str) -> str:
    if isinstance(d, date):
        return d.isoformat()
    try:
        return date.fromisoformat(d).isoformat()
    except ValueError:
        raise UsageError(f"'{d}' is not a date", "use YYYY-MM-DD") from None


def _sqlite_wal(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers (reports, the key ring) never block the writer
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


class UsageWriter:
    """A bounded in-memory queue and the thread that writes it to a `UsageStore` in batches."""

    def __init__(self, store: UsageStore, batch_size: int = 500, flush_ms: float = 1000.0,
                 max_backlog: int = 100_000, per_request: bool = True, keep_days: float | None = None,
                 prune_every_s: float = 3600.0) -> None:
        self.store = store
        self.keep_days = keep_days
        self.prune_every_s = prune_every_s
        self._pruned_at = -float("inf")  # the first prune runs at once (monotonic time starts at boot)
        self.batch_size = batch_size
        self.flush_s = flush_ms / 1000.0
        self.max_backlog = max_backlog
        self.per_request = per_request
        self._queue: collections.deque[UsageRecord] = collections.deque()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        # each counter has one writing thread (`+=` is not atomic across threads)
        self.written = self.failures = self._dropped_writer = 0  # writer thread
        self._dropped_submit = 0  # the submitting thread (the event loop)
        self.failing_since: float | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="luban-usage-writer", daemon=True)
        self._thread.start()

    def submit(self, record: UsageRecord) -> None:
        """Queue one record; never blocks. Past `max_backlog` the oldest record is dropped."""
        q = self._queue
        if len(q) >= self.max_backlog:
            with contextlib.suppress(IndexError):  # the writer thread may have emptied it meanwhile
                q.popleft()
            self._dropped_submit += 1
        q.append(record)
        if len(q) >= self.batch_size:
            self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued (trying for up to `timeout` seconds), then end the thread."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._queue:
            log.warning("usage: %d records could not be written before shutdown and are lost", len(self._queue))

    @property
    def dropped(self) -> int:
        return self._dropped_submit + self._dropped_writer

    @property
    def queued(self) -> int:
        """Records waiting to be written (grows while the database is slow or down)."""
        return len(self._queue)

    def stats(self) -> dict[str, Any]:
        return {"queued": len(self._queue), "written": self.written, "dropped": self.dropped,
                "failures": self.failures, "failing_since": self.failing_since}

    def _run(self) -> None:
        backoff = 0.0
        deadline: float | None = None
        while True:
            self._wake.wait(backoff or self.flush_s)
            self._wake.clear()
            if self._stopping and deadline is None:
                deadline = time.monotonic() + 5.0
            while self._queue:
                if not self._flush_once():
                    backoff = min(5.0, max(0.1, backoff * 2))
                    break
                backoff = 0.0
                if len(self._queue) < self.batch_size and not self._stopping:
                    break
            if self._stopping and (not self._queue or (deadline is not None and time.monotonic() > deadline)):
                return
            if self.keep_days is not None and time.monotonic() - self._pruned_at >= self.prune_every_s:
                self._prune()

    def _prune(self) -> None:
        """Per-call rows older than `keep_days` go (a spend table that only grows is what slows reports)."""
        assert self.keep_days is not None
        self._pruned_at = time.monotonic()
        try:
            gone = self.store.prune(time.time() - self.keep_days * 86400)
        except Exception as err:  # noqa: BLE001 - the next round tries again
            log.warning("usage: pruning per-call rows failed (%s)", str(err).splitlines()[0][:200])
            return
        if gone:
            log.info("usage: pruned %d per-call rows older than %g days", gone, self.keep_days)

    def _flush_once(self) -> bool:
        batch: list[UsageRecord] = []
        q = self._queue
        while q and len(batch) < self.batch_size:
            batch.append(q.popleft())
        try:
            self.store.write(batch, self.per_request)
        except Exception as err:  # noqa: BLE001 - any database failure: keep the batch, retry later
            self.failures += 1
            room = self.max_backlog - len(q)
            keep = batch[-room:] if room > 0 else []
            self._dropped_writer += len(batch) - len(keep)
            q.extendleft(reversed(keep))
            if self.failing_since is None:
                self.failing_since = time.time()
                log.warning("usage: writing to %s failed (%s); keeping up to %d records in memory and retrying",
                            _safe(self.store.url), str(err).splitlines()[0][:200], self.max_backlog)
            return False
        self.written += len(batch)
        if self.failing_since is not None:
            log.warning("usage: the database is back after %.0f s; %d records dropped meanwhile",
                        time.time() - self.failing_since, self.dropped)
            self.failing_since = None
        return True


def _safe(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


class UsageHook(BaseHook):
    """post_call: account each call's tokens and cost. Options (gateway.yaml `with:`):

    url: SQLAlchemy URL (default: the gateway's database); batch_size (500); flush_ms (1000);
    max_backlog (100000 records held in memory while the database is down); per_request (true: keep one
    row per call as well as the daily totals); keep_days (90: per-call rows older than this are deleted,
    hourly; the daily totals are kept; null keeps every row).
    """

    name = "usage"

    def __init__(self, url: str | None = None, batch_size: int = 500, flush_ms: float = 1000.0,
                 max_backlog: int = 100_000, per_request: bool = True, keep_days: float | None = 90) -> None:
        if keep_days is not None and keep_days <= 0:
            raise UsageError(f"usage hook: keep_days must be positive, got {keep_days}",
                             "leave it out for 90 days, or set null to keep every per-call row")
        if batch_size < 1 or flush_ms <= 0 or max_backlog < batch_size:
            raise UsageError("usage hook: batch_size >= 1, flush_ms > 0 and max_backlog >= batch_size are needed",
                             f"got batch_size={batch_size}, flush_ms={flush_ms}, max_backlog={max_backlog}")
        self.url = url
        self.batch_size, self.flush_ms, self.max_backlog, self.per_request = (batch_size, flush_ms, max_backlog,
                                                                              per_request)
        self.keep_days = keep_days
        self.writer: UsageWriter | None = None

    async def start(self, env: HookEnv) -> None:
        url = self.url or env.db_url
        if url is None:
            log.warning("usage: the gateway has no database; usage is not recorded (set keys.url, or the "
                        "usage hook's url)")
            return
        store = await asyncio.to_thread(UsageStore, url)
        self.writer = UsageWriter(store, self.batch_size, self.flush_ms, self.max_backlog, self.per_request,
                                  self.keep_days)
        self.writer.start()
        env.gauge("luban_gateway_usage_queue", "usage records waiting to be written to the database",
                  lambda: self.writer.queued if self.writer is not None else 0.0)
        env.gauge("luban_gateway_usage_dropped", "usage records dropped because the queue was full (since start)",
                  lambda: self.writer.dropped if self.writer is not None else 0.0)

    async def stop(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            await asyncio.to_thread(writer.stop)
            writer.store.close()

    async def post_call(self, ctx: CallContext) -> None:
        if self.writer is not None:
            self.writer.submit(UsageRecord.of(ctx))


@dataclass
class CostRow:
    """What the same tokens would cost on one offering, in the gateway's currency."""

    offering: str  # "openai/gpt-4o-mini", "self-hosted H100-80GB", "upstream local"
    kind: str  # "api" | "self-hosted"
    region: str
    cost: float
    basis: str  # how it was priced


def compare_costs(prompt_tokens: int, completion_tokens: int, catalog: Catalog, currency: str = "USD",
                  tokens_per_second: float = 1000.0, upstreams: dict[str, Any] | None = None) -> list[CostRow]:
    """The same traffic priced on every commercial (chat) API in the catalog and on self-hosted GPUs.

    Self-hosted: GPU-hours = all tokens / `tokens_per_second` (a sustained throughput the user measured
    for the model on that GPU; the same figure is used for every GPU type of the catalog) times the
    catalog's GPU-hour price; upstreams from gateway.yaml with `gpu_hour_cost` and `tokens_per_second`
    are priced with their own figures.
    """
    rows: list[CostRow] = []
    for prov in catalog.providers.values():
        if prov.self_hosted:
            continue
        for model, price in prov.prices.items():
            if price.output == 0 and price.input > 0:  # an embedding model: no answer to compare with
                continue
            cost = catalog.to_currency(price.cost(prompt_tokens, completion_tokens), price.currency, currency)
            rows.append(CostRow(offering=f"{prov.name}/{model}", kind="api", region=prov.region, cost=cost,
                                basis=f"{price.input:g}/{price.output:g} {price.currency} per 1M in/out "
                                      f"({catalog.as_of})"))
    tokens = prompt_tokens + completion_tokens
    hours = tokens / tokens_per_second / 3600.0
    for gpu, per_hour in catalog.gpu_hour.items():
        rows.append(CostRow(offering=f"self-hosted {gpu}", kind="self-hosted", region="domestic",
                            cost=catalog.to_currency(hours * per_hour, "USD", currency),
                            basis=f"{per_hour:g} USD/GPU-hour at {tokens_per_second:g} tokens/s"))
    for name, up in (upstreams or {}).items():
        if getattr(up, "gpu_hour_cost", None) is not None and getattr(up, "tokens_per_second", None):
            h = tokens / up.tokens_per_second / 3600.0
            rows.append(CostRow(offering=f"upstream {name}", kind="self-hosted", region=up.region or "domestic",
                                cost=catalog.to_currency(h * up.gpu_hour_cost * up.gpus, up.currency, currency),
                                basis=f"{up.gpus} x {up.gpu_hour_cost:g} {up.currency}/GPU-hour at "
                                      f"{up.tokens_per_second:g} tokens/s (gateway.yaml)"))
    return sorted(rows, key=lambda r: r.cost)
