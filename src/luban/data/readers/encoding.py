"""Encoding detection: UTF-8 first (with or without BOM), then charset-normalizer on a sample.

Binary files are recognised by NUL bytes in the first block (what `file` and git do), so a binary
file named `.txt` is quarantined instead of decoded into garbage.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

SAMPLE = 256 * 1024

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class Sniff:
    encoding: str | None  # None when the file is empty, binary or undecodable
    problem: str = ""  # why `encoding` is None


def sniff(path: Path) -> Sniff:
    with open(path, "rb") as f:
        head = f.read(SAMPLE)
    if not head:
        return Sniff(None, "empty file")
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return Sniff(enc)
    if b"\x00" in head[:8192]:
        return Sniff(None, "binary content (NUL bytes), not text")
    try:
        head.decode("utf-8")
        return Sniff("utf-8")
    except UnicodeDecodeError as e:
        if e.start >= len(head) - 4:  # a multi-byte character cut by the sample's end
            return Sniff("utf-8")
    # UTF-8 with a few stray bytes stays UTF-8: the readers quarantine just the lines that hold them.
    if head.decode("utf-8", errors="replace").count("\ufffd") <= max(2, len(head) // 1000):
        return Sniff("utf-8")
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None:
        return Sniff(None, "unknown text encoding (not UTF-8, no other encoding fits)")
    return Sniff(best.encoding)


def is_wide(encoding: str) -> bool:
    """UTF-16/32 cannot be split on b'\\n' bytes; such files are decoded whole."""
    return encoding.startswith(("utf-16", "utf-32", "utf_16", "utf_32"))
