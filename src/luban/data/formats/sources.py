"""Where format records come from: jsonl/json/parquet/csv/tsv files, folders, globs, or dataset artifacts.

Each record comes with `where` ("path:line" for line-based files, "path:N" for the N-th item of a
JSON array or Parquet row, "name/split:N" for an artifact's row unless the row carries its own
`source`), so a rejected record can be found again. A line that is not valid JSON is not an error
of the whole file: it is yielded as `Rejected` with its raw text and goes to the rejected split.
"""

from __future__ import annotations

import csv
import glob
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from luban.core.artifact import Artifact
from luban.core.errors import NotFoundError, UsageError
from luban.core.shards import read_split, split_names
from luban.core.workspace import Workspace
from luban.data.formats.validate import Rejected

SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet", ".csv", ".tsv")
Item = tuple[str, "dict[str, Any] | Rejected", str]  # where, record or why not, raw text for rejects


def resolve(entries: list[str], ws: Workspace) -> tuple[list[Path], list[Artifact]]:
    """Files (folders and globs expanded, sorted) and workspace artifacts named by `entries`."""
    files: list[Path] = []
    arts: list[Artifact] = []
    for entry in entries:
        p = Path(entry).expanduser()
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES)
            if not found:
                raise UsageError(f"folder {p} holds no {'/'.join(SUFFIXES)} files", "point inputs at the data files")
            files += found
        elif glob.has_magic(entry):
            found = sorted(Path(f) for f in glob.glob(entry, recursive=True) if Path(f).is_file())
            if not found:
                raise NotFoundError(f"no file matches {entry}", "check the pattern")
            files += found
        elif ws.exists(entry):
            arts.append(ws.get(entry))
        else:
            raise NotFoundError(f"input '{entry}' is neither a file nor an artifact in {ws.root}",
                                "check the path, or run `luban ls` for artifact names")
    return files, arts


def read_file(path: Path, name: str | None = None) -> Iterator[Item]:
    """The records of one file, each with its place "`name`:N" (`name` defaults to the path)."""
    label = name or str(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(f"{path}: unsupported file type '{suffix or 'none'}'", f"use one of {', '.join(SUFFIXES)}")
    if suffix == ".parquet":
        for i, rec in enumerate(pq.read_table(path).to_pylist(), start=1):
            yield f"{label}:{i}", rec, ""
        return
    raw = path.read_bytes()
    if not raw.strip():
        raise UsageError(f"{path} is empty", "give a file with at least one record")
    if suffix in (".csv", ".tsv"):
        text = _decode(path, raw)
        reader = csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ",")
        for rec in reader:
            yield f"{label}:{reader.line_num}", dict(rec), ""
        return
    if suffix == ".json":
        try:
            data = json.loads(_decode(path, raw))
        except json.JSONDecodeError:
            data = None  # often JSON Lines under a .json name: read it line by line below
        if isinstance(data, list):
            for i, rec in enumerate(data, start=1):
                yield (f"{label}:{i}", rec, "") if isinstance(rec, dict) else (
                    f"{label}:{i}", Rejected("bad_type", f"item is a {type(rec).__name__}, not an object"),
                    json.dumps(rec, ensure_ascii=False))
            return
        if isinstance(data, dict):
            yield f"{label}:1", data, ""
            return
    yield from _json_lines(label, raw)


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UsageError(f"{path} is not UTF-8 (byte {e.start})", "convert it to UTF-8, or curate it first") from None


def _json_lines(label: str, raw: bytes) -> Iterator[Item]:
    for n, line in enumerate(raw.removeprefix(b"\xef\xbb\xbf").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{label}:{n}"
        try:
            rec = json.loads(line)
        except UnicodeDecodeError:
            yield where, Rejected("bad_encoding", "the line is not UTF-8"), line.decode("utf-8", "replace")
            continue
        except json.JSONDecodeError as e:
            yield where, Rejected("bad_json", f"{e.msg} at column {e.colno}"), line.decode("utf-8", "replace")
            continue
        if isinstance(rec, dict):
            yield where, rec, ""
        else:
            yield where, Rejected("bad_type", f"line is a JSON {type(rec).__name__}, not an object"), line.decode()


def read_artifact(art: Artifact) -> Iterator[Item]:
    """Every row of every split except `rejected`; a row's own `source` is kept as its place."""
    label = art.name or art.short_id
    for split in split_names(art):
        if split == "rejected":
            continue
        for i, rec in enumerate(read_split(art, split).to_pylist(), start=1):
            where = rec.pop("source", None) or f"{label}/{split}:{i}"
            yield str(where), rec, ""
