"""Parquet: read in record batches (bounded memory); `source_line` is the 1-based row number."""

from __future__ import annotations

from collections.abc import Iterator

from luban.data import records as R
from luban.data.readers.fields import row_record
from luban.data.readers.source import ReadOptions, SourceFile


def read(src: SourceFile, text_field: str, opts: ReadOptions) -> Iterator[R.Record]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(src.path)
    except (pa.ArrowException, OSError) as e:
        yield src.quarantine(0, f"unreadable Parquet file: {str(e).splitlines()[0]}")
        return
    names = pf.schema_arrow.names
    if text_field not in names:
        yield src.quarantine(0, f"missing column '{text_field}' (columns: {', '.join(names)})")
        return
    row = 0
    for batch in pf.iter_batches(batch_size=8192):
        for item in batch.to_pylist():
            row += 1
            yield row_record(src, item, row, text_field)
