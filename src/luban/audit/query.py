"""Find and export audit records: by key, model, time, verdict (action), purpose, kind and chain."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from luban.audit.store import AuditStore, Row, records_table


@dataclass
class Filter:
    key: str | None = None
    model: str | None = None
    since: float | None = None
    until: float | None = None
    action: str | None = None  # ok | blocked | masked | flagged | error
    purpose: str | None = None
    kind: str | None = None  # call | stage | admin | auth
    chain: str | None = None


def find(store: AuditStore, f: Filter, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Matching records as dicts: the record's own fields plus chain, seq and hash."""
    c = records_table.c
    where: list[Any] = []
    for value, col in ((f.key, c.key_id), (f.model, c.model), (f.action, c.action), (f.purpose, c.purpose),
                       (f.kind, c.kind), (f.chain, c.chain)):
        if value is not None:
            where.append(col == value)
    if f.since is not None:
        where.append(c.ts >= f.since)
    if f.until is not None:
        where.append(c.ts < f.until)
    for row in store.query(where, limit):
        yield as_dict(row)


def as_dict(row: Row) -> dict[str, Any]:
    return {**json.loads(row.body), "chain": row.chain, "seq": row.seq, "hash": row.hash}


def write_jsonl(records: Iterator[dict[str, Any]], out: TextIO) -> int:
    n = 0
    for rec in records:
        out.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
        n += 1
    return n


CSV_FIELDS = ["chain", "seq", "ts", "kind", "key_id", "role", "source_ip", "purpose", "model", "upstream",
              "status", "action", "prompt_tokens", "completion_tokens", "latency_ms", "stage", "anomalies",
              "verdicts", "hash"]


def write_csv(records: Iterator[dict[str, Any]], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    n = 0
    for rec in records:
        row = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v) for k, v in rec.items()}
        writer.writerow(row)
        n += 1
    return n


def to_csv_text(records: Iterator[dict[str, Any]]) -> str:
    buf = io.StringIO()
    write_csv(records, buf)
    return buf.getvalue()
