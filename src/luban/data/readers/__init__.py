"""Readers: raw files (jsonl/json, csv/tsv, parquet, txt/md, html, pdf, docx) -> records.

Inputs are files, folders (read recursively) and globs. One module per format, each a generator
`read(src, text_field, opts) -> Iterator[Record]`, registered below by name (`READERS`) and mapped
from file suffixes (`SUFFIXES`): adding a format is one module and two lines. A reader never raises
for bad content: it yields a quarantined record (file:line and reason) and goes on, so what was
read before is never lost.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from luban.core.config import portable_path
from luban.core.errors import NotFoundError
from luban.core.hashing import sha256_file
from luban.core.registry import Registry
from luban.data import records as R
from luban.data.readers.source import ReadOptions, SourceFile

ReadFn = Callable[[SourceFile, str, ReadOptions], Iterator[R.Record]]

SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv",
            ".parquet": "parquet", ".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md",
            ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx"}
READERS: Registry[ReadFn] = Registry("reader", {
    "jsonl": "luban.data.readers.jsonl:read",
    "json": "luban.data.readers.json_doc:read",
    "csv": "luban.data.readers.delimited:read",
    "tsv": "luban.data.readers.delimited:read",
    "parquet": "luban.data.readers.parquet:read",
    "txt": "luban.data.readers.text:read",
    "md": "luban.data.readers.text:read",
    "html": "luban.data.readers.html:read",
    "pdf": "luban.data.readers.pdf:read",
    "docx": "luban.data.readers.docx:read",
})

__all__ = ["READERS", "SUFFIXES", "ReadOptions", "SourceFile", "expand_inputs", "open_source", "read_source",
           "read_texts"]


def display_name(path: Path, root: Path | None = None) -> str:
    """The name a source is recorded under: relative to `root` (the folder of the recipe that named it;
    default the current folder) when below it, else absolute, so ids do not depend on the working folder."""
    return portable_path(path, root or Path.cwd())


def expand_inputs(inputs: list[str], root: Path | None = None) -> list[Path]:
    """Files, folders (recursive, hidden entries skipped) and globs -> unique file paths, sorted by the
    name they are recorded under (`display_name` against `root`). Relative inputs are relative to the
    current folder: a config resolves its own against its file's folder when it is built."""
    out: dict[str, Path] = {}
    for item in inputs:
        if any(c in item for c in "*?["):
            matches = [Path(m) for m in glob.glob(item, recursive=True) if Path(m).is_file()]
        elif Path(item).is_dir():
            matches = []
            for folder, dirs, files in os.walk(item):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                matches += [Path(folder) / f for f in files if not f.startswith(".")]
        elif Path(item).is_file():
            matches = [Path(item)]
        else:
            raise NotFoundError(f"input '{item}' is not a file, folder or matching glob",
                                "check the path (a recipe's relative paths start at the recipe's folder)")
        if not matches:
            raise NotFoundError(f"input '{item}' matches no file", "check the glob or folder")
        for m in matches:
            out.setdefault(str(m.resolve()), m)
    return sorted(out.values(), key=lambda p: display_name(p, root))


def open_source(path: Path, root: Path | None = None) -> SourceFile:
    """The file with its hash and the name it is recorded under (`display_name` against `root`)."""
    fmt = SUFFIXES.get(path.suffix.lower(), "")
    return SourceFile(path=path, name=display_name(path, root), sha256=sha256_file(path), fmt=fmt)


def read_source(src: SourceFile, text_field: str = "text", opts: ReadOptions | None = None) -> Iterator[R.Record]:
    """All records of one file; unsupported types and reader crashes become quarantined records."""
    opts = opts or ReadOptions()
    if not src.fmt:
        known = ", ".join(sorted(SUFFIXES))
        yield src.quarantine(0, f"unsupported file type '{src.path.suffix or '(none)'}' (readable: {known})")
        return
    line = 0
    try:
        for rec in READERS.get(src.fmt)(src, text_field, opts):
            line = rec[R.LINE]
            yield rec
    except OSError as e:
        yield src.quarantine(line, f"read error: {e.strerror or e}")
    except Exception as e:  # a reader bug must not lose the records already read  # noqa: BLE001
        yield src.quarantine(line, f"reader failed: {type(e).__name__}: {str(e)[:200]}")


def read_texts(sources: Iterable[SourceFile], text_field: str = "text") -> Iterator[str]:
    """The text of every record of `sources` as `data.curate` reads it (HTML without its tags, chat JSON
    lines as their turns, any encoding); what cannot be read is skipped: a tokenizer needs no quarantine."""
    for src in sources:
        yield from (rec[R.TEXT] for rec in read_source(src, text_field) if R.REASON not in rec)
