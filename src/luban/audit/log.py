"""The audit log writer: append records to a chain off the caller's path, in durable batches.

Design choices:
- `append` only puts the record on a queue and returns a `Future` that resolves once the batch holding it
  is committed (group commit): a caller that must not go on before its record is on disk waits on it; the
  gateway does not wait, so a request never pays for the database.
- One writer thread per log owns the chain head: it assigns seq, computes the hashes and commits a batch
  of up to `batch` records in one transaction, as soon as the queue has any (no fixed delay to wait out).
- `background=False` has no thread: the owner calls `commit` (synchronous, one transaction) and
  `checkpoint_if_due`. The audit writer process (pipe.py) works that way: it is a thread of its own.
- Every `checkpoint_every` seconds (and at close) the head is signed; see signing.py.
- A failed commit is retried with backoff and the records stay queued: nothing is dropped, and the
  futures fail only when the log is closed before the store comes back.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from luban.audit.record import GENESIS, make_row
from luban.audit.signing import Signer
from luban.audit.store import AuditStore

log = logging.getLogger("luban.audit")

_STOP = object()


def default_chain(role: str) -> str:
    return f"{role}-{socket.gethostname()}-{os.getpid()}"


class AuditLog:
    """Appends records to the chain `chain` of `store`. Use as a context manager or call `close()`."""

    def __init__(self, store: AuditStore, folder: Path, chain: str, batch: int = 2000,
                 checkpoint_every: float = 60.0, signer: Signer | None = None, linger: float = 0.005,
                 background: bool = True) -> None:
        self.store = store
        self.linger = linger
        self.chain = chain
        self.batch = batch
        self.checkpoint_every = checkpoint_every
        self.signer = signer or Signer(folder)
        head = store.head(chain)
        self._seq, self._prev = head if head else (0, GENESIS)
        self._signed_seq = self._seq
        self._last_checkpoint = time.monotonic()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.failures = 0
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name=f"audit-{chain}", daemon=True)
            self._thread.start()

    def append(self, record: dict[str, Any]) -> Future[int]:
        """Queue `record` (a flat JSON-able dict with at least `ts` and `kind`); the future gives its seq."""
        fut: Future[int] = Future()
        self._queue.put((record, fut))
        return fut

    def append_many(self, records: list[dict[str, Any]]) -> Future[int]:
        """Queue several records at once, committed in order in one transaction or more; the future gives the
        last one's seq. One future and one queue put for the lot (the audit writer process hands over what
        each read of its pipe brought)."""
        fut: Future[int] = Future()
        self._queue.put((records, fut))
        return fut

    def append_later(self, build: Callable[[], dict[str, Any]]) -> None:
        """Queue a record that the writer thread builds by calling `build()`: the caller pays for a queue
        put only (the gateway's hook hands over its call context this way). Nothing to wait on; `flush`
        and `close` still cover it."""
        self._queue.put((build, None))

    def flush(self) -> None:
        """Block until every record queued so far is committed."""
        fut: Future[int] = Future()
        self._queue.put((None, fut))
        fut.result()

    def commit(self, records: list[dict[str, Any]], bodies: list[str | None] | None = None) -> int:
        """Without a writer thread (`background=False`): chain and store `records` now, in one transaction,
        retrying while the store is down; the last one's seq. `bodies[i]`, when given, is record i's
        canonical text, stored and hashed as it is (a writer process receives records that way)."""
        if self._thread is not None:
            raise RuntimeError("commit() is for an AuditLog made with background=False; use append()")
        rows: list[tuple[Any, ...]] = []
        seq, prev = self._link(rows, self._seq, self._prev, records, bodies)
        self._store(rows, final=False)
        self._seq, self._prev = seq, prev
        return seq

    def _link(self, rows: list[tuple[Any, ...]], seq: int, prev: str, records: list[dict[str, Any]],
              bodies: list[str | None] | None = None) -> tuple[int, str]:
        """Append the rows of `records`, chained after (`seq`, `prev`), to `rows`; the new (seq, prev)."""
        for i, record in enumerate(records):
            seq += 1
            rows.append(make_row(self.chain, seq, prev, record, bodies[i] if bodies is not None else None))
            prev = rows[-1][-1]
        return seq, prev

    def checkpoint_if_due(self) -> None:
        if time.monotonic() - self._last_checkpoint >= self.checkpoint_every:
            self._checkpoint()

    def close(self) -> None:
        if self._thread is None:
            self._checkpoint()
            return
        if not self._thread.is_alive():
            return
        self._queue.put(_STOP)
        self._thread.join()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the writer thread -------------------------------------------------------------------------
    def _run(self) -> None:
        stop = False
        while not stop:
            items = [self._queue.get()]
            if self.linger and self._queue.qsize() < self.batch // 4:
                time.sleep(self.linger)  # group commit: gather what arrives meanwhile, wake less often
            while len(items) < self.batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if any(item is _STOP for item in items):
                stop = True
                items = [item for item in items if item is not _STOP]
            self._commit(items, final=stop)
            if stop or time.monotonic() - self._last_checkpoint >= self.checkpoint_every:
                self._checkpoint()

    def _commit(self, items: list[Any], final: bool) -> None:
        rows: list[tuple[Any, ...]] = []
        done: list[tuple[Future[int] | None, int]] = []
        seq, prev = self._seq, self._prev
        for item, fut in items:
            if item is None:  # a flush marker
                done.append((fut, 0))
                continue
            records = [_built(r) for r in (item if type(item) is list else (item,))]
            seq, prev = self._link(rows, seq, prev, records)
            done.append((fut, seq))
        err = self._store(rows, final)
        if err is not None:
            for fut, _ in done:
                if fut is not None:
                    fut.set_exception(err)
            return
        self._seq, self._prev = seq, prev
        for fut, s in done:
            if fut is not None:
                fut.set_result(s)

    def _store(self, rows: list[tuple[Any, ...]], final: bool) -> Exception | None:
        """Insert `rows` in one transaction, retrying with backoff while the store is down; the error when
        it gave up (only when closing, after 50 failures)."""
        delay = 0.05
        while rows:
            try:
                self.store.append(rows)
                return None
            except Exception as err:  # noqa: BLE001 - the store may be down; keep the records and retry
                self.failures += 1
                log.warning("audit store write failed (%s); retrying in %.2f s", err.__class__.__name__, delay)
                if final and self.failures > 50:
                    return err
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        return None

    def _checkpoint(self) -> None:
        self._last_checkpoint = time.monotonic()
        if self._seq == self._signed_seq:
            return
        try:
            self.store.add_checkpoint(self.signer.sign(self.chain, self._seq, "head", self._prev, time.time()))
            self._signed_seq = self._seq
        except Exception as err:  # noqa: BLE001 - retried at the next interval
            log.warning("audit checkpoint failed (%s); will retry", err.__class__.__name__)


def _built(record: dict[str, Any] | Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A queued record, built if it was queued as a function (`append_later`), with `ts` and `kind`."""
    if callable(record):
        try:
            record = record()
        except Exception:  # noqa: BLE001 - a record that cannot be built is logged, not lost silently
            log.exception("audit record could not be built; recording the failure instead")
            record = {"ts": time.time(), "kind": "event", "action": "error", "error": "record build failed"}
    record.setdefault("ts", time.time())
    record.setdefault("kind", "event")
    return record
