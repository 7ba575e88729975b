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


def to_table(rows: Iterable[Record], columns: tuple[str, ...] = BASE_COLUMNS) -> pa.Table:
    """Records -> Arrow table with `columns` first, then any extra public fields (sorted), nulls where missing."""
    rows = list(rows)
    extra = sorted({k for r in rows for k in r if k not in columns and not k.startswith(PRIVATE)})
    names = [*columns, *extra]
    data: dict[str, list[Any]] = {n: [r.get(n) for r in rows] for n in names}
    arrays = []
    for n in names:
        if n == LINE:
            arrays.append(pa.array(data[n], type=pa.int64()))
        elif n in columns:
            arrays.append(pa.array(data[n], type=pa.string()))
        else:
            arrays.append(pa.array(data[n]))
    return pa.Table.from_arrays(arrays, names=names)
