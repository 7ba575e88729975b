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
