"""Word .docx via python-docx: paragraphs and table cells of one file as one record."""

from __future__ import annotations

from collections.abc import Iterator

from luban.data import records as R
from luban.data.readers.source import ReadOptions, SourceFile


def read(src: SourceFile, text_field: str, opts: ReadOptions) -> Iterator[R.Record]:
    import docx

    size = src.path.stat().st_size
    if size > opts.max_file_bytes:
        yield src.quarantine(0, f"DOCX of {size} bytes is over max_file_bytes={opts.max_file_bytes}")
        return
    try:
        document = docx.Document(str(src.path))
    except Exception as e:  # zipfile.BadZipFile, KeyError, lxml errors for damaged files  # noqa: BLE001
        yield src.quarantine(0, f"unreadable DOCX: {type(e).__name__}: {str(e)[:200]}")
        return
    parts = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                parts.append(" | ".join(cells))
    if not parts:
        yield src.quarantine(0, "DOCX has no text")
        return
    yield src.record("\n".join(parts), 1)
