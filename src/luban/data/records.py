"""The record: one document as a plain dict, and how records become Arrow tables.

Design choices:
- a record is a `dict[str, Any]` so operators stay one-liners and pickling to workers is cheap;
- every record carries its provenance (`source`, `source_line`, `source_sha256`) from the reader on,
  so a row of any split points back at the raw file (line for line-based formats, page for PDF);
- a rejected record is the same dict plus `reason` and `operator`; nothing is ever dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa

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
PRIVATE = "_"

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


def to_table(rows: Iterable[Record], columns: tuple[str, ...] = BASE_COLUMNS, consume: bool = False,
             chunk: int = 20_000) -> pa.Table:
    """Records -> Arrow table with `columns` first, then any extra public fields (sorted), nulls where missing.

    `consume=True` (with a list) converts `chunk` rows at a time and empties the list as it goes, so a
    large curation holds its records once (as Python dicts, then as Arrow), never twice at the peak."""
    rows = rows if consume and isinstance(rows, list) else list(rows)
    extra = sorted({k for r in rows for k in r if k not in columns and not k.startswith(PRIVATE)})
    names = [*columns, *extra]
    if not consume or len(rows) <= chunk:
        return _table(rows, names, columns)
    # one type per extra column over all rows, so that every chunk gets the same schema
    types = {n: pa.array([r.get(n) for r in rows]).type for n in extra}
    parts = []
    while rows:
        parts.append(_table(rows[-chunk:], names, columns, types))
        del rows[-chunk:]
    parts.reverse()
    return pa.concat_tables(parts)


def _table(rows: list[Record], names: list[str], columns: tuple[str, ...],
           types: dict[str, pa.DataType] | None = None) -> pa.Table:
    arrays = []
    for n in names:
        values = [r.get(n) for r in rows]
        if n == LINE:
            arrays.append(pa.array(values, type=pa.int64()))
        elif n in columns:
            arrays.append(pa.array(values, type=pa.string()))
        else:
            arrays.append(pa.array(values, type=(types or {}).get(n)))
    return pa.Table.from_arrays(arrays, names=names)
