"""Plain text and Markdown: one record per file, paragraph or line (`ReadOptions.text_unit`).

`source_line` is the line where the record starts. A document growing past `max_record_bytes` is
quarantined with a preview instead of being held whole.
"""

from __future__ import annotations

from collections.abc import Iterator

from luban.data import records as R
from luban.data.readers.source import ReadOptions, SourceFile
from luban.data.readers.text_lines import text_lines


def read(src: SourceFile, text_field: str, opts: ReadOptions) -> Iterator[R.Record]:
    unit = opts.text_unit
    buf: list[str] = []
    size, start, produced, overflow = 0, 1, 0, False

    def flush() -> Iterator[R.Record]:
        nonlocal buf, size, overflow, produced
        text = "\n".join(buf).strip("\n")
        if overflow:
            yield src.quarantine(start, f"document over max_record_bytes={opts.max_record_bytes}", text)
            produced += 1
        elif text.strip():
            yield src.record(text, start)
            produced += 1
        buf, size, overflow = [], 0, False

    for ln in text_lines(src, opts):
        if ln.text is None:
            if ln.number == 0:
                yield src.quarantine(0, ln.problem)
                return
            yield src.quarantine(ln.number, ln.problem, ln.preview)
            produced += 1
            continue
        if unit == "line":
            if ln.text.strip():
                produced += 1
                yield src.record(ln.text, ln.number)
            continue
        if unit == "paragraph" and not ln.text.strip():
            yield from flush()
            start = ln.number + 1
            continue
        if not buf:
            start = ln.number
        size += len(ln.text) + 1
        if size > opts.max_record_bytes:
            overflow = True  # keep only the preview already gathered
            continue
        buf.append(ln.text)
    yield from flush()
    if not produced:
        yield src.quarantine(0, "no text (file holds only whitespace)")
