"""Decoded lines of a text file: encoding sniffed once, each line decoded on its own.

Decoding line by line means a stray bad byte costs one quarantined line, not the whole file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from luban.data.readers.encoding import is_wide, sniff
from luban.data.readers.lines import iter_lines
from luban.data.readers.source import ReadOptions, SourceFile


@dataclass(frozen=True)
class TextLine:
    number: int
    text: str | None  # None: the line is bad, see `problem`
    problem: str = ""
    preview: str = ""


def text_lines(src: SourceFile, opts: ReadOptions) -> Iterator[TextLine]:
    """Lines of `src` as text; a file-level problem (empty, binary, unknown encoding) is line 0."""
    s = sniff(src.path)
    if s.encoding is None:
        yield TextLine(0, None, s.problem)
        return
    enc = s.encoding
    if is_wide(enc):
        size = src.path.stat().st_size
        if size > opts.max_file_bytes:
            yield TextLine(0, None, f"{enc} file of {size} bytes is over max_file_bytes={opts.max_file_bytes}")
            return
        text = src.path.read_bytes().decode(enc, errors="replace")
        for i, line in enumerate(text.splitlines(), start=1):
            yield TextLine(i, line)
        return
    with open(src.path, "rb") as f:
        for ln in iter_lines(f, opts.max_record_bytes):
            preview = ln.data.decode(enc, errors="replace")
            if ln.oversized:
                yield TextLine(ln.number, None, f"line of {ln.length} bytes is over max_record_bytes="
                               f"{opts.max_record_bytes}", preview)
                continue
            try:
                yield TextLine(ln.number, ln.data.decode(enc))
            except UnicodeDecodeError as e:
                yield TextLine(ln.number, None, f"bytes not valid {enc} at offset {e.start}", preview)
