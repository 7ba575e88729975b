"""Streaming lines with a length cap: a single huge line is skipped in chunks, never held whole."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 1 << 20


@dataclass(frozen=True)
class Line:
    number: int  # 1-based
    data: bytes  # the line without its newline; only a preview when `oversized`
    oversized: bool = False
    length: int = 0  # full length in bytes when oversized


def iter_lines(f: BinaryIO, cap: int) -> Iterator[Line]:
    """Yield the lines of `f`; a line longer than `cap` bytes comes back as a preview with `oversized`."""
    number = 0
    while True:
        raw = f.readline(cap + 1)
        if not raw:
            return
        number += 1
        if len(raw) <= cap or raw.endswith(b"\n"):
            yield Line(number, raw.rstrip(b"\r\n"))
            continue
        preview, length = raw[:4096], len(raw)
        while True:  # drain the rest of the line without keeping it
            chunk = f.readline(CHUNK)
            length += len(chunk)
            if not chunk or chunk.endswith(b"\n"):
                break
        yield Line(number, preview, oversized=True, length=length)
