"""How a dataset artifact stores its rows: Parquet shards per split.

    data/<split>-00000.parquet, data/<split>-00001.parquet, ...

Splits are free names (`train`, `validation`, `test`, `rejected`). Every stage reads datasets through
`read_split` / `iter_batches` / `to_hf_dataset`, never by globbing the folder itself, so the format
lives here, in `core`, where every layer of the chain may use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from luban.core import tables
from luban.core.artifact import Artifact
from luban.core.errors import NotFoundError

ROWS_PER_SHARD = 100_000
ROWS_PER_GROUP = 10_000  # Parquet row group when writing from a stream of rows: what is held at once


def write_split(folder: Path, split: str, table: pa.Table, rows_per_shard: int = ROWS_PER_SHARD) -> int:
    """Write `table` as shards of `split` under `folder/data`; returns the row count."""
    out = folder / "data"
    out.mkdir(parents=True, exist_ok=True)
    n = table.num_rows
    for i, start in enumerate(range(0, max(n, 1), rows_per_shard)):
        pq.write_table(table.slice(start, rows_per_shard), out / f"{split}-{i:05d}.parquet", compression="zstd")
    return n


def write_splits(folder: Path, splits: dict[str, pa.Table]) -> dict[str, int]:
    return {name: write_split(folder, name, table) for name, table in splits.items()}


def write_split_rows(folder: Path, split: str, batches: Iterable[list[tables.Row]],
                     schema: Mapping[str, pa.DataType], rows_per_shard: int = ROWS_PER_SHARD,
                     rows_per_group: int = ROWS_PER_GROUP) -> int:
    """Stream row batches into the shards of `split`, one row group (`rows_per_group` rows) in memory
    at a time; every shard has exactly the columns of `schema`. Returns the row count."""
    out = folder / "data"
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    writer: pq.ParquetWriter | None = None
    pending: list[tables.Row] = []

    def flush() -> None:
        nonlocal writer
        table = tables.table(pending, schema)
        if writer is None:
            writer = pq.ParquetWriter(out / f"{split}-{(n - len(pending)) // rows_per_shard:05d}.parquet", table.schema,
                                      compression="zstd")
        writer.write_table(table, row_group_size=rows_per_group)
        pending.clear()

    for batch in batches:
        for row in batch:
            pending.append(row)
            n += 1
            if n % rows_per_shard == 0:
                flush()
                assert writer is not None
                writer.close()
                writer = None
            elif len(pending) >= rows_per_group:
                flush()
    if pending or n == 0:
        flush()
    if writer is not None:
        writer.close()
    return n


def split_names(art: Artifact) -> list[str]:
    names = {p.name.rsplit("-", 1)[0] for p in (art.path / "data").glob("*.parquet")}
    return sorted(names)


def has_split(art: Artifact, split: str) -> bool:
    return any((art.path / "data").glob(f"{split}-*.parquet"))


def read_split(art: Artifact, split: str = "train") -> pa.Table:
    shards = sorted((art.path / "data").glob(f"{split}-*.parquet"))
    if not shards:
        have = ", ".join(split_names(art)) or "none"
        raise NotFoundError(f"dataset '{art.name or art.short_id}' has no split '{split}' (splits: {have})")
    return pa.concat_tables([pq.read_table(s) for s in shards])


def to_hf_dataset(art: Artifact, split: str = "train") -> Any:
    """The split as a `datasets.Dataset` (imported lazily)."""
    from datasets import Dataset

    return Dataset(read_split(art, split))


def iter_batches(art: Artifact, split: str = "train", rows: int = ROWS_PER_GROUP) -> Iterator[list[dict[str, Any]]]:
    """The split's rows, `rows` at a time, shard by shard (never the whole split in memory)."""
    shards = sorted((art.path / "data").glob(f"{split}-*.parquet"))
    if not shards:
        read_split(art, split)  # raises the NotFoundError that names the splits there are
    for shard in shards:
        for batch in pq.ParquetFile(shard).iter_batches(batch_size=rows):
            yield batch.to_pylist()


def records(art: Artifact, split: str = "train") -> list[dict[str, Any]]:
    return read_split(art, split).to_pylist()
