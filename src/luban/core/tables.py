"""Rows as Arrow tables: how plain dicts become the columns of a dataset artifact's shards.

Design choices:
- a schema is an ordered `{column: Arrow type}`; the fixed columns a caller names come first, then any
  other public field (sorted), so tables built from different slices of one split share one schema;
- fields whose name starts with `PRIVATE` are scratch (dedup signatures) and never become columns;
- an extra field's type is the one `pa.array(values)` infers, widened across slices (null < int < double);
- str, int and float columns are built from buffers, not with `pa.array(list)`: that call imports pandas
  when it is installed (pyarrow checks for pandas objects), 50 MB of a curation's peak memory, and caches
  a UTF-8 copy inside every non-ASCII str it converts. Other values go to pyarrow.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa

Row = dict[str, Any]
Schema = dict[str, pa.DataType]

PRIVATE = "_"


def infer_types(rows: list[Row], skip: Container[str] = ()) -> Schema:
    """The Arrow type of each public field of `rows` not in `skip`, sorted by name."""
    names = sorted({k for r in rows for k in r if k not in skip and not k.startswith(PRIVATE)})
    return {n: infer([r.get(n) for r in rows]) for n in names}


def widen(into: Schema, more: Mapping[str, pa.DataType]) -> None:
    """Widen `into` by `more`, as inferring over both sets of rows at once would (null < int < double)."""
    for n, t in more.items():
        have = into.get(n)
        if have is None or pa.types.is_null(have):
            into[n] = t
        elif have != t and not pa.types.is_null(t):
            both = pa.unify_schemas([pa.schema([(n, have)]), pa.schema([(n, t)])], promote_options="permissive")
            into[n] = both.field(n).type


def table(rows: list[Row], schema: Mapping[str, pa.DataType]) -> pa.Table:
    """Rows -> a table with exactly the columns of `schema`, in its order; null where a row lacks one."""
    arrays = [_array([r.get(n) for r in rows], kind) for n, kind in schema.items()]
    return pa.Table.from_arrays(arrays, names=list(schema))


def to_table(rows: Iterable[Row], fixed: Mapping[str, pa.DataType], consume: bool = False,
             chunk: int = 20_000) -> pa.Table:
    """Rows -> a table with the `fixed` columns first, then every other public field (sorted).

    `consume=True` (with a list) converts `chunk` rows at a time and empties the list as it goes, so a
    large curation holds its rows once (as Python dicts, then as Arrow), never twice at the peak."""
    rows = rows if consume and isinstance(rows, list) else list(rows)
    schema = {**fixed, **infer_types(rows, skip=fixed)}
    if not consume or len(rows) <= chunk:
        return table(rows, schema)
    parts = []
    while rows:
        parts.append(table(rows[-chunk:], schema))
        del rows[-chunk:]
    parts.reverse()
    return pa.concat_tables(parts)


def infer(values: list[Any]) -> pa.DataType:
    """The type `pa.array(values)` infers, without importing pandas for plain str, int and float."""
    kinds = {type(v) for v in values} - {type(None)}
    if not kinds:
        return pa.null()
    if len(kinds) == 1 and next(iter(kinds)) in _SIMPLE:
        return _SIMPLE[next(iter(kinds))]
    if kinds == {int, float}:
        return pa.float64()
    return pa.array(values).type


_SIMPLE = {str: pa.string(), int: pa.int64(), float: pa.float64()}


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
