"""Records to Arrow: the chunked, consuming conversion that curation uses for large outputs."""

from __future__ import annotations

from luban.data import records as R


def test_to_table_consuming_in_chunks_equals_the_plain_conversion_and_empties_the_list() -> None:
    rows = [{"text": f"doc {i}", "source": "a.jsonl", "source_line": i,
             **({"labels": {"k": i}} if i % 7 == 0 else {}), **({"lang": "zh"} if i > 40 else {})}
            for i in range(1, 101)]
    plain = R.to_table([dict(r) for r in rows])
    consumed = list(rows)
    chunked = R.to_table(consumed, consume=True, chunk=16)
    assert consumed == []  # the dicts are released as the table is built
    assert chunked.schema == plain.schema
    assert chunked.to_pylist() == plain.to_pylist()


def test_columns_built_from_buffers_equal_pyarrows_own_conversion() -> None:
    import pyarrow as pa

    cases = [["a", None, "中文"], [1, None, 2**40], [1.5, None, 2], [None, None], [True, None], [{"k": 1}, None],
             [[1, 2], None], [0.1, 0.2]]
    for values in cases:
        rows = [{"text": "t", "x": v} for v in values]
        column = R.to_table(rows).column("x")
        assert column.type == pa.array(values).type and column.to_pylist() == pa.array(values).to_pylist()


def test_converting_text_int_and_float_fields_does_not_import_pandas() -> None:
    import subprocess
    import sys

    code = ("import sys; from luban.data import records as R; "
            "R.to_table([{'text': '中文', 'source_line': 1, 'lang_score': 0.5, 'lang': 'zh'}]); "
            "assert 'pandas' not in sys.modules")  # importing pandas costs a curation 50 MB
    subprocess.run([sys.executable, "-c", code], check=True)
