"""Spill files: records come back unchanged and in order, written a chunk at a time, with their types."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from luban.core import tables
from luban.data import records as R
from luban.data import spill as S
from luban.data.spill import Spill


def rows(n: int) -> list[R.Record]:
    return [{"text": f"文档 {i}", "source": "a.jsonl", "source_line": i, "_minhash": bytes([i % 256]) * 4,
             **({"lang_score": 0.5} if i % 3 == 0 else {}), **({"lang_score": 1} if i == 1 else {})}
            for i in range(n)]


def test_records_come_back_unchanged_in_order_with_private_fields(tmp_path: Path) -> None:
    spill = Spill(tmp_path / "s")
    spill.extend(rows(2500))
    spill.append({"text": "last", "source_line": None})
    assert list(spill.records()) == [*rows(2500), {"text": "last", "source_line": None}]
    assert spill.rows == 2501
    assert [len(b) for b in spill.batches()] == [1000, 1000, 501]


def test_types_are_what_converting_all_records_at_once_infers(tmp_path: Path) -> None:
    spill = Spill(tmp_path / "s")
    spill.extend(rows(2500))  # int 1 in one chunk, floats in all: double, as pa.array over all would say
    spill.close()
    assert spill.types == {"lang_score": pa.float64()}
    table = tables.table(list(spill.records()), R.schema(R.BASE_COLUMNS, spill.types))
    assert table.schema == R.to_table(rows(2500)).schema


def test_extend_writes_a_stream_as_it_goes_instead_of_gathering_it(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(S, "CHUNK_ROWS", 10)
    spill = Spill(tmp_path / "s")
    on_disk_while_reading: list[int] = []

    def stream() -> Iterator[R.Record]:
        for rec in rows(100):
            on_disk_while_reading.append(spill.rows)
            yield rec

    spill.extend(stream())
    assert max(i - on_disk for i, on_disk in enumerate(on_disk_while_reading)) <= 10
    spill.remove()
    assert not (tmp_path / "s").exists()
