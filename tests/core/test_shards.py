"""Dataset shards: a split streamed from row batches is cut into shards and row groups, one schema."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from luban.core.shards import write_split_rows
from luban.core.tables import to_table


def test_streamed_split_is_cut_into_shards_of_row_groups_with_one_schema(tmp_path: Path) -> None:
    rows = [{"text": f"doc {i}", "source": "a", "source_line": i, **({"lang": "zh"} if i % 2 else {})}
            for i in range(25)]
    batches = [rows[i:i + 7] for i in range(0, 25, 7)]
    schema = {"text": pa.string(), "source": pa.string(), "source_line": pa.int64(), "lang": pa.string()}
    n = write_split_rows(tmp_path, "train", batches, schema, rows_per_shard=10, rows_per_group=4)
    shards = sorted((tmp_path / "data").glob("train-*.parquet"))
    assert n == 25 and [s.name for s in shards] == [f"train-0000{i}.parquet" for i in range(3)]
    files = [pq.ParquetFile(s) for s in shards]
    assert [f.metadata.num_rows for f in files] == [10, 10, 5]
    assert [f.metadata.num_row_groups for f in files] == [3, 3, 2]
    assert len({f.schema_arrow for f in files}) == 1
    back = pa.concat_tables([f.read() for f in files]).to_pylist()
    assert back == to_table(rows, schema).to_pylist()
    assert files[0].schema_arrow.names == list(schema)


def test_an_empty_split_still_has_one_shard_with_its_columns(tmp_path: Path) -> None:
    schema = {"text": pa.string(), "reason": pa.string()}
    assert write_split_rows(tmp_path, "rejected", [], schema) == 0
    table = pq.read_table(tmp_path / "data" / "rejected-00000.parquet")
    assert table.num_rows == 0 and table.column_names == ["text", "reason"]


def test_reading_a_missing_split_names_the_splits_there_are(tmp_path: Path, ws) -> None:
    import pytest

    from luban.core.errors import NotFoundError
    from luban.core.shards import has_split, iter_batches, read_split, split_names, write_splits

    with ws.create("dataset", "d", "test") as p:
        write_splits(p.path, {"train": pa.table({"text": ["a", "b", "c"]}), "rejected": pa.table({"text": ["x"]})})
    art = p.result
    assert split_names(art) == ["rejected", "train"]
    assert has_split(art, "train") and not has_split(art, "test")
    assert [r["text"] for b in iter_batches(art, "train", rows=2) for r in b] == ["a", "b", "c"]
    with pytest.raises(NotFoundError, match=r"no split 'test' \(splits: rejected, train\)"):
        read_split(art, "test")
    with pytest.raises(NotFoundError, match="no split 'test'"):
        list(iter_batches(art, "test"))
