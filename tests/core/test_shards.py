"""Dataset shards: a split streamed from record batches is cut into shards and row groups, one schema."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from luban.data import records as R
from luban.data.shards import write_split_records


def test_streamed_split_is_cut_into_shards_of_row_groups_with_one_schema(tmp_path: Path) -> None:
    rows = [{"text": f"doc {i}", "source": "a", "source_line": i, **({"lang": "zh"} if i % 2 else {})}
            for i in range(25)]
    batches = [rows[i:i + 7] for i in range(0, 25, 7)]
    n = write_split_records(tmp_path, "train", batches, R.BASE_COLUMNS, {"lang": pa.string()},
                            rows_per_shard=10, rows_per_group=4)
    shards = sorted((tmp_path / "data").glob("train-*.parquet"))
    assert n == 25 and [s.name for s in shards] == [f"train-0000{i}.parquet" for i in range(3)]
    files = [pq.ParquetFile(s) for s in shards]
    assert [f.metadata.num_rows for f in files] == [10, 10, 5]
    assert [f.metadata.num_row_groups for f in files] == [3, 3, 2]
    assert len({f.schema_arrow for f in files}) == 1
    back = pa.concat_tables([f.read() for f in files]).to_pylist()
    assert back == R.to_table(rows).to_pylist()


def test_an_empty_split_still_has_one_shard_with_its_columns(tmp_path: Path) -> None:
    assert write_split_records(tmp_path, "rejected", [], R.REJECT_COLUMNS, {}) == 0
    table = pq.read_table(tmp_path / "data" / "rejected-00000.parquet")
    assert table.num_rows == 0 and table.column_names == list(R.REJECT_COLUMNS)
