"""Rows to Arrow: fixed columns first, extras inferred as pyarrow would, and the consuming conversion."""

from __future__ import annotations

import pyarrow as pa

from luban.core import tables

FIXED = {"text": pa.string(), "source": pa.string(), "source_line": pa.int64()}


def test_to_table_consuming_in_chunks_equals_the_plain_conversion_and_empties_the_list() -> None:
    rows = [{"text": f"doc {i}", "source": "a.jsonl", "source_line": i,
             **({"labels": {"k": i}} if i % 7 == 0 else {}), **({"lang": "zh"} if i > 40 else {})}
            for i in range(1, 101)]
    plain = tables.to_table([dict(r) for r in rows], FIXED)
    consumed = list(rows)
    chunked = tables.to_table(consumed, FIXED, consume=True, chunk=16)
    assert consumed == []  # the dicts are released as the table is built
    assert chunked.schema == plain.schema
    assert chunked.to_pylist() == plain.to_pylist()
    assert plain.column_names == ["text", "source", "source_line", "labels", "lang"]


def test_private_fields_never_become_columns_and_missing_fixed_ones_are_null() -> None:
    table = tables.to_table([{"text": "a", "_sig": b"x"}], FIXED)
    assert table.column_names == list(FIXED)
    assert table.to_pylist() == [{"text": "a", "source": None, "source_line": None}]


def test_widen_promotes_as_inferring_over_all_rows_at_once() -> None:
    types = tables.infer_types([{"x": None, "y": 1}])
    tables.widen(types, tables.infer_types([{"x": "a", "y": 2.5}]))
    assert types == tables.infer_types([{"x": None, "y": 1}, {"x": "a", "y": 2.5}])
    assert types == {"x": pa.string(), "y": pa.float64()}


def test_columns_built_from_buffers_equal_pyarrows_own_conversion() -> None:
    cases = [["a", None, "中文"], [1, None, 2**40], [1.5, None, 2], [None, None], [True, None], [{"k": 1}, None],
             [[1, 2], None], [0.1, 0.2]]
    for values in cases:
        rows = [{"text": "t", "x": v} for v in values]
        column = tables.to_table(rows, FIXED).column("x")
        assert column.type == pa.array(values).type and column.to_pylist() == pa.array(values).to_pylist()


def test_converting_text_int_and_float_fields_does_not_import_pandas() -> None:
    import subprocess
    import sys

    code = ("import sys; from luban.data import records as R; "
            "R.to_table([{'text': '中文', 'source_line': 1, 'lang_score': 0.5, 'lang': 'zh'}]); "
            "assert 'pandas' not in sys.modules")  # importing pandas costs a curation 50 MB
    subprocess.run([sys.executable, "-c", code], check=True)
