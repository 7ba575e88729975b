"""Spill files: records parked on disk between the steps of a curation, read back in order.

    spill = Spill(folder / "kept-0")
    spill.extend(records)            # buffered, written a chunk at a time
    spill.close()
    for batch in spill.batches(): ...   # front to back, one chunk in memory at a time

Design choices:
- a chunk is pickled as it is (protocol 5): records are plain dicts whose values every later step
  must see unchanged (ints stay ints, `_` scratch fields survive), which a typed Arrow round trip
  would not promise, and records with different fields need no common schema;
- a spill is written once, front to back, and read front to back, so a curation holds one chunk of
  records, never the corpus, and the page cache (not the process) holds what is on disk;
- a spill knows the Arrow type of every public field beyond the split's own columns that it has seen
  (`tables.infer_types`, widened chunk by chunk), so a split can be written from it as Parquet, in row
  groups, with one schema and without a first pass to find the schema;
- spills live in one temporary folder per curation (the workspace's `tmp/` unless the recipe's
  `spill_dir` says otherwise), removed when the curation ends, whether it succeeded or not.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from luban.core import tables
from luban.data import records as R

CHUNK_ROWS = 1000  # records per pickled chunk: large enough to pickle fast, small enough to hold


class Spill:
    """An append-only file of record chunks with the Arrow types of their extra fields."""

    def __init__(self, path: Path, columns: tuple[str, ...] = R.BASE_COLUMNS) -> None:
        self.path = path
        self.columns = columns
        self.rows = 0
        self.types: dict[str, pa.DataType] = {}
        self._buffer: list[R.Record] = []
        self._file: BinaryIO | None = open(path, "wb")  # noqa: SIM115 - closed by close()

    def extend(self, records: Iterable[R.Record]) -> None:
        for rec in records:  # not list.extend: `records` may be a stream of the whole corpus
            self._buffer.append(rec)
            if len(self._buffer) >= CHUNK_ROWS:
                self._flush()

    def append(self, record: R.Record) -> None:
        self.extend((record,))

    def _flush(self) -> None:
        if not self._buffer:
            return
        assert self._file is not None, f"spill {self.path.name} is closed"
        tables.widen(self.types, tables.infer_types(self._buffer, skip=self.columns))
        pickle.dump(self._buffer, self._file, protocol=5)
        self.rows += len(self._buffer)
        self._buffer = []

    def close(self) -> None:
        if self._file is not None:
            self._flush()
            self._file.close()
            self._file = None

    def batches(self) -> Iterator[list[R.Record]]:
        """The chunks in the order written (closes the spill first)."""
        self.close()
        with open(self.path, "rb") as f:
            while True:
                try:
                    yield pickle.load(f)
                except EOFError:
                    return

    def records(self) -> Iterator[R.Record]:
        for batch in self.batches():
            yield from batch

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
