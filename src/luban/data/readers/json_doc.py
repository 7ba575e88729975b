"""A .json file: a list of objects, or one object (optionally holding a list under `data`/`records`)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from luban.data import records as R
from luban.data.readers.encoding import sniff
from luban.data.readers.fields import row_record
from luban.data.readers.source import ReadOptions, SourceFile


def read(src: SourceFile, text_field: str, opts: ReadOptions) -> Iterator[R.Record]:
    size = src.path.stat().st_size
    if size > opts.max_file_bytes:
        yield src.quarantine(0, f".json file of {size} bytes is over max_file_bytes; convert it to .jsonl")
        return
    s = sniff(src.path)
    if s.encoding is None:
        yield src.quarantine(0, s.problem)
        return
    raw = src.path.read_bytes().decode(s.encoding, errors="replace")
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as e:
        yield src.quarantine(e.lineno, f"malformed JSON: {e.msg} at line {e.lineno} column {e.colno}", raw)
        return
    if isinstance(doc, dict) and text_field not in doc:
        doc = next((doc[k] for k in ("data", "records", "items") if isinstance(doc.get(k), list)), doc)
    rows = doc if isinstance(doc, list) else [doc]
    if not rows:
        yield src.quarantine(0, "no records (empty JSON list)")
    for i, row in enumerate(rows, start=1):  # line = 1-based index in the list
        yield row_record(src, row, i, text_field)
