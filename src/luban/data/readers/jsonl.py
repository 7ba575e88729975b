"""JSON Lines: one object per line, streamed; bad lines are quarantined with their line number."""

from __future__ import annotations

import json
from collections.abc import Iterator

from luban.data import records as R
from luban.data.readers.fields import row_record
from luban.data.readers.source import ReadOptions, SourceFile
from luban.data.readers.text_lines import text_lines


def read(src: SourceFile, text_field: str, opts: ReadOptions) -> Iterator[R.Record]:
    seen = False
    for ln in text_lines(src, opts):
        if ln.text is None:
            yield src.quarantine(ln.number, ln.problem, ln.preview)
            seen = True
            continue
        if not ln.text.strip():
            continue
        seen = True
        try:
            row = json.loads(ln.text)
        except json.JSONDecodeError as e:
            yield src.quarantine(ln.number, f"malformed JSON: {e.msg} at column {e.colno}", ln.text)
            continue
        yield row_record(src, row, ln.number, text_field)
    if not seen:
        yield src.quarantine(0, "no records (file holds only blank lines)")
