"""PDF via pypdf: one record per page; `source_line` holds the 1-based page number.

A file pypdf cannot open is quarantined whole; a page that fails to extract is quarantined alone,
and the pages already read are kept.
"""

from __future__ import annotations

from collections.abc import Iterator

from luban.data import records as R
from luban.data.readers.source import ReadOptions, SourceFile


def read(src: SourceFile, text_field: str, opts: ReadOptions) -> Iterator[R.Record]:
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # broken files are reported as records
    size = src.path.stat().st_size
    if size > opts.max_file_bytes:
        yield src.quarantine(0, f"PDF of {size} bytes is over max_file_bytes={opts.max_file_bytes}")
        return
    try:
        reader = PdfReader(src.path)
        if reader.is_encrypted:
            yield src.quarantine(0, "encrypted PDF (no password given)")
            return
        pages = list(reader.pages)
    except Exception as e:  # pypdf raises many types for damaged files  # noqa: BLE001
        yield src.quarantine(0, f"unreadable PDF: {type(e).__name__}: {str(e)[:200]}")
        return
    found = False
    for number, page in enumerate(pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception as e:  # noqa: BLE001
            yield src.quarantine(number, f"page {number} text extraction failed: {type(e).__name__}")
            continue
        if text.strip():
            found = True
            yield src.record(text, number)
    if not found:
        yield src.quarantine(0, "PDF has no extractable text (scanned images need OCR first)")
