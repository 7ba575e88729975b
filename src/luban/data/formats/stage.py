"""The `data.format` stage: SFT / preference / text files in, a validated and split dataset out.

    luban data format sft.jsonl --to chat --split train=0.9,validation=0.1

Design choices:
- the source schema is detected per file from the first record whose keys fit one (or forced with
  `source_format`); every record is read into one canonical form, validated, then written in the
  target schema — see schemas.py, validate.py, convert.py;
- nothing silently vanishes: a record that fails (bad JSON, missing field, empty turn, role order,
  unknown role, not convertible) goes to the `rejected` split with `reason` and `source` (file:line)
  and the original text in `record`; counts per reason are in the artifact's stats;
- a file of which NOT ONE record fits is almost surely the wrong file or the wrong schema, so it is
  a one-line UsageError naming the file and its first offending line instead of an empty dataset;
- lineage: every input file is a parent with its SHA-256, every input artifact a parent by id.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field

from luban.core import progress
from luban.core.artifact import Artifact, artifact_parent, file_parent
from luban.core.config import InputPathOrName, StageConfig, dump_config
from luban.core.errors import UsageError
from luban.core.hashing import sha256_file
from luban.core.shards import write_splits
from luban.core.workspace import Workspace
from luban.data.formats import convert, sources
from luban.data.formats.schemas import PARSERS, Example, detect
from luban.data.formats.split import check_fractions, split_rows
from luban.data.formats.validate import Rejected

SourceFormat = Literal["auto", "chat", "sharegpt", "alpaca", "preference", "pairwise", "text"]
Target = Literal["chat", "sharegpt", "alpaca", "preference", "preference_chat", "text"]


class FormatConfig(StageConfig):
    """Config of `data.format`. `inputs` are files, folders, globs or dataset artifact names."""

    inputs: list[InputPathOrName] = Field(default_factory=list)
    source_format: SourceFormat = "auto"
    to: Target = "chat"
    splits: dict[str, float] = Field(default_factory=lambda: {"train": 1.0})
    seed: int = 0
    system_prompt: str | None = None  # added to conversations that have no system turn


def format_stage(cfg: FormatConfig, ws: Workspace, inputs: dict[str, Artifact] | None = None,
                 name: str | None = None) -> Artifact:
    """Validate, convert and split `cfg.inputs` (plus any `inputs` artifacts) into a dataset artifact."""
    check_fractions(cfg.splits)
    files, arts = sources.resolve(cfg.inputs, ws)
    arts += [a for a in (inputs or {}).values() if a.id not in {x.id for x in arts}]
    if not files and not arts:
        raise UsageError("data.format has no inputs", "give files or dataset names in `inputs`")
    rows: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    schemas: Counter[str] = Counter()
    parents = [file_parent(cfg.portable(f), sha256_file(f), role="source") for f in files]
    parents += [artifact_parent(a, role="input") for a in arts]
    with progress.task("Formatting", total=len(files) + len(arts)) as t:
        for label, items in [(cfg.portable(f), sources.read_file(f, cfg.portable(f))) for f in files] + [
                (a.name or a.short_id, sources.read_artifact(a)) for a in arts]:
            kept, lost, schema = _convert_all(items, cfg, rows, rejected)
            if kept == 0:
                first = lost[0] if lost else None
                why = f"{first['source']}: {first['reason']}" if first else "no records"
                raise UsageError(f"no record of {label} fits (schema {schema}); first: {why}",
                                 "check the file, or set source_format")
            schemas[schema] += 1
            t.advance()
    out = split_rows(rows, cfg.splits, cfg.seed)
    with ws.create("dataset", name, stage="data.format", config=dump_config(cfg), parents=parents) as p:
        tables = {k: convert.table(cfg.to, v) for k, v in out.items()}
        tables["rejected"] = pa.Table.from_pylist(rejected, schema=convert.REJECTED_SCHEMA)
        counts = write_splits(p.path, tables)
        p.stats.update({"records_in": len(rows) + len(rejected), "splits": counts, "schema": cfg.to,
                        "source_schemas": dict(schemas),
                        "rejected_by_reason": dict(Counter(r["reason"].split(":")[0] for r in rejected))})
    assert p.result is not None
    return p.result


def _convert_all(items: Any, cfg: FormatConfig, rows: list[dict[str, Any]],
                 rejected: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]], str]:
    """Convert one input's records into `rows` / `rejected`; returns (kept, its rejects, schema)."""
    schema: str = "" if cfg.source_format == "auto" else cfg.source_format
    write = convert.WRITERS[cfg.to]
    kept = 0
    lost: list[dict[str, Any]] = []
    for where, rec, raw in items:
        try:
            if isinstance(rec, Rejected):
                raise rec
            schema = schema or detect(rec) or ""
            if not schema:
                raise Rejected("unknown_schema", f"keys {sorted(rec)[:8]} fit no schema; set source_format")
            ex = PARSERS[schema](rec)
            rows.append({**write(_with_default_system(ex, cfg.system_prompt)), "source": where})
            kept += 1
        except Rejected as r:
            text = raw or json.dumps(rec, ensure_ascii=False, default=str)
            lost.append({"source": where, "reason": str(r), "record": text})
    rejected += lost
    return kept, lost, schema or "unknown"


def _with_default_system(ex: Example, system: str | None) -> Example:
    if not system or ex.text is not None or ex.messages[0]["role"] == "system":
        return ex
    return Example([{"role": "system", "content": system}, *ex.messages], ex.chosen, ex.rejected)

