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

import numpy as np
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


def extra_types(rows: list[Record], columns: tuple[str, ...] = BASE_COLUMNS) -> dict[str, pa.DataType]:
    """The Arrow type of each public field of `rows` beyond `columns`, as `to_table` would infer it."""
    extra = {k for r in rows for k in r if k not in columns and not k.startswith(PRIVATE)}
    return {n: _infer([r.get(n) for r in rows]) for n in extra}


def merge_types(into: dict[str, pa.DataType], more: dict[str, pa.DataType]) -> None:
    """Widen `into` by `more`, as inferring over both sets of rows at once would (null < int < double)."""
    for n, t in more.items():
        have = into.get(n)
        if have is None or pa.types.is_null(have):
            into[n] = t
        elif have != t and not pa.types.is_null(t):
            both = pa.unify_schemas([pa.schema([(n, have)]), pa.schema([(n, t)])], promote_options="permissive")
            into[n] = both.field(n).type


def typed_table(rows: list[Record], columns: tuple[str, ...], types: dict[str, pa.DataType]) -> pa.Table:
    """Records -> Arrow table with exactly `columns` and then the extra fields of `types` (sorted), so
    that tables built from different slices of one split share one schema."""
    return _table(rows, [*columns, *sorted(types)], columns, types)


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
    types = {n: _infer([r.get(n) for r in rows]) for n in extra}
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
            arrays.append(_array(values, pa.int64()))
        elif n in columns:
            arrays.append(_array(values, pa.string()))
        else:
            known = (types or {}).get(n)
            arrays.append(_array(values, known if known is not None else _infer(values)))
    return pa.Table.from_arrays(arrays, names=names)


# Columns of str, int and float values are built from buffers, not with `pa.array(list)`: that call
# imports pandas when it is installed (pyarrow checks for pandas objects), 50 MB of a curation's peak
# memory, and caches a UTF-8 copy inside every non-ASCII str it converts. Other values go to pyarrow.
_SIMPLE = {str: pa.string(), int: pa.int64(), float: pa.float64()}


def _infer(values: list[Any]) -> pa.DataType:
    """The type `pa.array(values)` infers."""
    kinds = {type(v) for v in values} - {type(None)}
    if not kinds:
        return pa.null()
    if len(kinds) == 1 and next(iter(kinds)) in _SIMPLE:
        return _SIMPLE[next(iter(kinds))]
    if kinds == {int, float}:
        return pa.float64()
    return pa.array(values).type


def _array(values: list[Any], kind: pa.DataType) -> pa.Array:
    if pa.types.is_null(kind):
        return pa.nulls(len(values))
    if kind == pa.string() and all(v is None or type(v) is str for v in values):
        encoded = [b"" if v is None else v.encode("utf-8") for v in values]
        offsets = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(values)), out=offsets[1:])
        if offsets[-1] < 2**31:  # else past int32 offsets: pyarrow chunks it
            validity, nulls = _validity(values)
            return pa.StringArray.from_buffers(len(values), pa.py_buffer(offsets.astype(np.int32)),
                                               pa.py_buffer(b"".join(encoded)), validity, nulls)
    for pa_type, np_type, py_types in ((pa.int64(), np.int64, (int,)), (pa.float64(), np.float64, (int, float))):
        if kind == pa_type and all(v is None or type(v) in py_types for v in values):
            data = np.fromiter((0 if v is None else v for v in values), dtype=np_type, count=len(values))
            validity, nulls = _validity(values)
            return pa.Array.from_buffers(pa_type, len(values), [validity, pa.py_buffer(data)], null_count=nulls)
    return pa.array(values, type=kind)  # pyarrow's conversion, and its error messages


def _validity(values: list[Any]) -> tuple[pa.Buffer | None, int]:
    missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    nulls = int(missing.sum())
    return (pa.py_buffer(np.packbits(~missing, bitorder="little")) if nulls else None), nulls
