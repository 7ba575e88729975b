"""Where audit chains are kept: SQLite in the workspace by default, PostgreSQL (any SQLAlchemy URL) when
gateway replicas share one database.

Design choices:
- One chain per writer (`chain`: "gateway-<host>-<pid>" style names, or "stages"). A single chain shared
  by replicas would need a global lock around every append (each hash depends on the one before), which
  makes the database the bottleneck that LiteLLM's users report for its spend log; separate chains keep
  appends independent and each is verified on its own. Queries read all chains.
- Appends are batched: one transaction per batch (group commit). SQLite runs in WAL mode with
  `synchronous=FULL`, so a committed batch is on disk.
- Checkpoints (signed chain heads, and the anchor left by retention) live in their own table and are
  also appended to a file beside the database (see signing.py): deleting rows of one is caught by the other.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError

from luban.audit.record import ROW
from luban.core.bulkinsert import BulkInsert
from luban.core.errors import WorkspaceError

metadata = MetaData()

records_table = Table(
    "luban_audit",
    metadata,
    Column("chain", String(128), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", Float, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("key_id", String(64)),
    Column("model", String(256)),
    Column("purpose", String(256)),
    Column("action", String(16)),
    Column("body", Text, nullable=False),
    Column("prev", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_luban_audit_ts", "ts"),
    Index("ix_luban_audit_key", "key_id"),
)

checkpoints_table = Table(
    "luban_audit_checkpoints",
    metadata,
    Column("chain", String(128), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(8), primary_key=True),  # head | cut
    Column("hash", String(64), nullable=False),
    Column("ts", Float, nullable=False),
    Column("signature", String(256), nullable=False),
)


@dataclass(frozen=True)
class Row:
    chain: str
    seq: int
    ts: float
    kind: str
    key_id: str | None
    model: str | None
    purpose: str | None
    action: str | None
    body: str
    prev: str
    hash: str


@dataclass(frozen=True)
class Checkpoint:
    chain: str
    seq: int
    kind: str  # "head": the chain up to seq is signed; "cut": records before seq were pruned, seq-1's hash
    hash: str
    ts: float
    signature: str


class AuditStore:
    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url, future=True)
            if url.startswith("sqlite"):
                event.listen(self.engine, "connect", _sqlite_durable)
            _create_tables(self.engine)
            self._insert = BulkInsert(self.engine, records_table, ROW)
        except SQLAlchemyError as err:
            raise WorkspaceError(f"cannot open the audit store {url}: {err.__class__.__name__}",
                                 "check LUBAN_AUDIT_URL (or the workspace folder) and that the database runs") from None

    def head(self, chain: str) -> tuple[int, str] | None:
        """(seq, hash) of the newest record of `chain`, or None for an empty chain."""
        with self.engine.connect() as conn:
            row = conn.execute(select(records_table.c.seq, records_table.c.hash)
                               .where(records_table.c.chain == chain)
                               .order_by(records_table.c.seq.desc()).limit(1)).first()
        return (int(row[0]), str(row[1])) if row else None

    def append(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert `rows` (values in `record.ROW` order, see `make_row`) in one transaction."""
        with self.engine.begin() as conn:
            self._insert.run(conn, rows)

    def add_checkpoint(self, cp: Checkpoint) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(checkpoints_table), [cp.__dict__])

    def checkpoints(self, chain: str) -> list[Checkpoint]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(checkpoints_table).where(checkpoints_table.c.chain == chain)
                                .order_by(checkpoints_table.c.seq)).all()
        return [Checkpoint(*r) for r in rows]

    def chains(self) -> list[str]:
        with self.engine.connect() as conn:
            names = {r[0] for r in conn.execute(select(records_table.c.chain).distinct())}
            names |= {r[0] for r in conn.execute(select(checkpoints_table.c.chain).distinct())}
        return sorted(names)

    def rows(self, chain: str, batch: int = 20_000) -> Iterator[Row]:
        """Every record of `chain` in seq order, read in pages (a million records stay out of memory)."""
        last = -1
        cols = records_table.c
        while True:
            with self.engine.connect() as conn:
                page = conn.execute(select(records_table).where(cols.chain == chain, cols.seq > last)
                                    .order_by(cols.seq).limit(batch)).all()
            if not page:
                return
            for r in page:
                yield Row(*r)
            last = int(page[-1][1])

    def query(self, where: list[Any], limit: int | None = None) -> Iterator[Row]:
        stmt = select(records_table).where(*where).order_by(records_table.c.ts, records_table.c.chain,
                                                            records_table.c.seq)
        if limit:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            for r in conn.execute(stmt):
                yield Row(*r)

    def count(self, chain: str | None = None) -> int:
        stmt = select(func.count()).select_from(records_table)
        if chain is not None:
            stmt = stmt.where(records_table.c.chain == chain)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def first_seq_after(self, chain: str, ts: float) -> int | None:
        """The seq of the first record of `chain` at or after time `ts` (None when there is none)."""
        cols = records_table.c
        with self.engine.connect() as conn:
            return conn.execute(select(func.min(cols.seq)).where(cols.chain == chain, cols.ts >= ts)).scalar()

    def delete_before(self, chain: str, seq: int) -> int:
        with self.engine.begin() as conn:
            res = conn.execute(delete(records_table).where(records_table.c.chain == chain,
                                                           records_table.c.seq < seq))
        return int(res.rowcount or 0)

    def close(self) -> None:
        self.engine.dispose()


def _create_tables(engine: Engine) -> None:
    """create_all, tolerating another process that creates the same tables at the same moment."""
    for attempt in range(5):
        try:
            metadata.create_all(engine)
            return
        except (OperationalError, IntegrityError, ProgrammingError):
            if attempt == 4:
                raise
            time.sleep(0.1 * (attempt + 1))


def _sqlite_durable(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=10000")  # first: switching to WAL waits for other processes too
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()
