"""The record: one document as a plain dict, with its provenance; the columns of a curated split.

Design choices:
- a record is a `dict[str, Any]` so operators stay one-liners and pickling to workers is cheap;
- every record carries its provenance (`source`, `source_line`, `source_sha256`) from the reader on,
  so a row of any split points back at the raw file (line for line-based formats, page for PDF);
- a rejected record is the same dict plus `reason` and `operator`; nothing is ever dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from luban.core import tables

Record = dict[str, Any]

TEXT = "text"
SOURCE = "source"
LINE = "source_line"
SHA = "source_sha256"
FORMAT = "source_format"
META = "meta"
REASON = "reason"
OPERATOR = "operator"

# Fields every split has, in this order; operators may add more (lang, pii, ...).
BASE_COLUMNS = (TEXT, SOURCE, LINE, SHA, FORMAT, META)
REJECT_COLUMNS = (*BASE_COLUMNS, REASON, OPERATOR)
# Fields starting with this prefix are scratch (dedup signatures) and never written to a split.
PRIVATE = tables.PRIVATE

PREVIEW_CHARS = 2000  # how much of an oversized or broken input a quarantined record keeps


def make(text: str, source: str, line: int, sha: str, fmt: str, meta: str = "") -> Record:
    return {TEXT: text, SOURCE: source, LINE: line, SHA: sha, FORMAT: fmt, META: meta}


def reject(rec: Record, operator: str, reason: str) -> Record:
    """A copy of `rec` marked as rejected by `operator` for `reason`."""
    out = {k: v for k, v in rec.items() if not k.startswith(PRIVATE)}
    out[REASON] = reason
    out[OPERATOR] = operator
    return out


def quarantine(source: str, line: int, sha: str, fmt: str, reason: str, preview: str = "") -> Record:
    """A record for input that could not be read: kept in `rejected` with file:line and reason."""
    rec = make(preview[:PREVIEW_CHARS], source, line, sha, fmt)
    return reject(rec, f"read.{fmt}", reason)


def schema(columns: tuple[str, ...], extra: Mapping[str, pa.DataType] | None = None) -> tables.Schema:
    """The Arrow schema of a split: `columns` (str, the line number int) and then the `extra` fields, sorted."""
    fixed = {c: pa.int64() if c == LINE else pa.string() for c in columns}
    extra = extra or {}
    return {**fixed, **{n: extra[n] for n in sorted(extra) if n not in fixed}}


def to_table(rows: Iterable[Record], columns: tuple[str, ...] = BASE_COLUMNS, consume: bool = False,
             chunk: int = 20_000) -> pa.Table:
    """Records -> Arrow table with `columns` first, then any extra public fields (sorted), nulls where
    missing; `consume` as in `luban.core.tables.to_table`."""
    return tables.to_table(rows, schema(columns), consume=consume, chunk=chunk)
