"""CSV and TSV: a header row, then one record per row; `source_line` is the physical line number."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from luban.data import records as R
from luban.data.readers.encoding import sniff
from luban.data.readers.fields import row_record
from luban.data.readers.source import ReadOptions, SourceFile


def read(src: SourceFile, text_field: str, opts: ReadOptions) -> Iterator[R.Record]:
    s = sniff(src.path)
    if s.encoding is None:
        yield src.quarantine(0, s.problem)
        return
    csv.field_size_limit(opts.max_record_bytes)
    delimiter = "\t" if src.fmt == "tsv" else ","
    with open(src.path, encoding=s.encoding, errors="replace", newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        try:
            header = reader.fieldnames
        except csv.Error as e:
            yield src.quarantine(1, f"bad header row: {e}")
            return
        if not header:
            yield src.quarantine(0, "no header row")
            return
        from luban.data.readers.fields import PAIRS

        if text_field not in header and not any(n[0] in header and n[-1] in header for n in PAIRS):
            yield src.quarantine(1, f"missing column '{text_field}' (columns: {', '.join(header)})")
            return
        while True:
            line = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                yield src.quarantine(line, f"bad CSV row: {e}")
                return  # the csv module cannot resynchronise after a broken field
            if None in row:  # more cells than header columns
                row.pop(None)
            yield row_record(src, {k: v for k, v in row.items() if v is not None}, line, text_field)


