"""How a dataset artifact stores its records: Parquet shards per split.

    data/<split>-00000.parquet, data/<split>-00001.parquet, ...

Splits are free names (`train`, `validation`, `test`, `rejected`). Every later stage reads
datasets through `read_split` / `to_hf_dataset`, never by globbing the folder itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from luban.core.artifact import Artifact
from luban.core.errors import NotFoundError

ROWS_PER_SHARD = 100_000


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


def split_names(art: Artifact) -> list[str]:
    names = {p.name.rsplit("-", 1)[0] for p in (art.path / "data").glob("*.parquet")}
    return sorted(names)


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


def records(art: Artifact, split: str = "train") -> list[dict[str, Any]]:
    return read_split(art, split).to_pylist()
