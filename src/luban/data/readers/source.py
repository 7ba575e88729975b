"""What a reader is handed: one raw file with its hash, and the opts that keep memory bounded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from luban.data import records as R

MiB = 1 << 20


@dataclass(frozen=True)
class ReadOptions:
    """How files are read, and the caps that make bad input cost bounded memory.

    text_unit: what one record of a .txt/.md file is: the whole `file`, each `paragraph`
        (blank-line separated) or each `line`.
    max_record_bytes: a longer line or document is quarantined (only a preview is kept), never
        loaded whole; this is what keeps a single 1 GB line from becoming a 1 GB record.
    max_file_bytes: formats that must parse a whole file at once (.json, .pdf, .docx, .html)
        quarantine bigger files instead of loading them.
    """

    max_record_bytes: int = 16 * MiB
    max_file_bytes: int = 512 * MiB
    text_unit: str = "file"


@dataclass(frozen=True)
class SourceFile:
    path: Path
    name: str  # the path as recorded in records and lineage (relative when given relative)
    sha256: str
    fmt: str  # reader name: jsonl, json, csv, tsv, parquet, txt, md, html, pdf, docx

    def record(self, text: str, line: int, meta: str = "") -> R.Record:
        return R.make(text, self.name, line, self.sha256, self.fmt, meta)

    def quarantine(self, line: int, reason: str, preview: str = "") -> R.Record:
        return R.quarantine(self.name, line, self.sha256, self.fmt, reason, preview)
