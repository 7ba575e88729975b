"""`data.curate`: raw files -> a cleaned, filtered, deduplicated, desensitized `dataset` artifact.

    luban data curate recipe.yaml            # or: curate(load_config(CurateConfig, path), ws)

The recipe is Data-Juicer-shaped YAML: `inputs:` (files, folders, globs) and a `process:` list of
`- operator: {args}`. Records stream from the readers through the executor in batches; at each
global operator (dedup) the records gathered so far meet in this process for `select`.

The artifact has split `train` (what survived) and split `rejected` (every quarantined or dropped
record with `reason` and `operator`), one `file` parent per raw file with its SHA-256, and stats:
records in and out per operator and reason, PII counts by type, lexicon hits by category.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

from pydantic import Field

from luban.core import progress
from luban.core.artifact import Artifact, artifact_parent, file_parent
from luban.core.config import StageConfig, dump_config
from luban.core.errors import UsageError
from luban.core.workspace import Workspace
from luban.data import records as R
from luban.data.executors import get_executor
from luban.data.executors.base import build_ops
from luban.data.ops.base import OpStats
from luban.data.ops.registry import parse_process
from luban.data.readers import ReadOptions, SourceFile, expand_inputs, open_source, read_source
from luban.data.recipe import DEFAULT_PROCESS, segments
from luban.data.shards import read_split, write_splits


class CurateConfig(StageConfig):
    """How to curate: what to read, which operators to run in order, and where to run them."""

    inputs: list[str] = Field(default_factory=list, description="files, folders or globs")
    process: list[Any] = Field(default_factory=lambda: [dict(d) for d in DEFAULT_PROCESS])
    text_field: str = "text"  # the text column/key in jsonl, json, csv, tsv and parquet inputs
    text_unit: Literal["file", "paragraph", "line"] = "file"  # one record per .txt/.md file, paragraph or line
    executor: Literal["local", "ray"] = "local"
    workers: int = Field(2, ge=1)
    batch_size: int = Field(1000, ge=1)
    max_record_bytes: int = Field(16 << 20, ge=1024)  # longer lines/documents are quarantined
    max_file_bytes: int = Field(512 << 20, ge=1024)  # cap for whole-file formats (json, pdf, docx, html)


def curate(cfg: CurateConfig, ws: Workspace, inputs: dict[str, Artifact] | None = None,
           name: str | None = None) -> Artifact:
    """Run the recipe of `cfg` over its input files (and any `inputs` datasets) -> dataset artifact."""
    inputs = inputs or {}
    if not cfg.inputs and not inputs:
        raise UsageError("nothing to curate: the recipe has no inputs", "add `inputs: [raw/]` or pass files")
    specs = parse_process(cfg.process)
    build_ops(specs)  # bad arguments fail here, before any reading
    ws.check_writable()
    paths = expand_inputs(cfg.inputs) if cfg.inputs else []
    opts = ReadOptions(max_record_bytes=cfg.max_record_bytes, max_file_bytes=cfg.max_file_bytes,
                       text_unit=cfg.text_unit)
    with progress.task("Hashing sources", total=len(paths)) as t:
        sources = []
        for p in paths:
            sources.append(open_source(p))
            t.advance()
    read_stats = OpStats()
    rejected: list[R.Record] = []
    totals: dict[str, OpStats] = {s.label: OpStats() for s in specs}
    executor = get_executor(cfg.executor, cfg.workers)
    try:
        stream: Iterable[R.Record] = _read_all(sources, inputs, cfg.text_field, opts, read_stats, rejected)
        kept: list[R.Record] = []
        for seg_specs, global_spec in segments(specs):
            kept = []
            with progress.task("Curating", total=None) as t:
                for res in executor.run(seg_specs, _batched(stream, cfg.batch_size)):
                    kept.extend(res.kept)
                    rejected.extend(res.rejected)
                    for label, st in res.stats.items():
                        totals[label].merge(st)
                    t.advance(len(res.kept) + len(res.rejected))
            if global_spec is not None:
                op = build_ops([global_spec])[0]
                kept, dropped = op.select(kept)
                rejected.extend(dropped)
                totals[global_spec.label].merge(op.stats)
            stream = kept
    finally:
        executor.close()
    stats = _stats(sources, read_stats, specs, totals, len(kept), len(rejected))
    parents = [file_parent(s.name, s.sha256, role="source") for s in sources]  # type: ignore[arg-type]
    parents += [artifact_parent(a, role=role) for role, a in inputs.items()]
    with ws.create("dataset", name, stage="data.curate", config=dump_config(cfg), parents=parents) as p:
        write_splits(p.path, {"train": R.to_table(kept, consume=True),
                              "rejected": R.to_table(rejected, R.REJECT_COLUMNS, consume=True)})
        p.stats.update(stats)
    assert p.result is not None
    return p.result


def _read_all(sources: list[SourceFile], inputs: dict[str, Artifact], text_field: str, opts: ReadOptions,
              stats: OpStats, rejected: list[R.Record]) -> Iterator[R.Record]:
    """Every readable record; quarantined ones go straight to `rejected` and are counted under `read`."""
    for src in sources:
        for rec in read_source(src, text_field, opts):
            stats.seen += 1
            if R.REASON in rec:
                rejected.append(rec)
                stats.reasons[rec[R.REASON].split(" (")[0].split(":")[0]] += 1
            else:
                stats.kept += 1
                yield rec
    for art in inputs.values():
        for rec in read_split(art, "train").to_pylist():
            stats.seen += 1
            stats.kept += 1
            yield rec


def _batched(stream: Iterable[R.Record], size: int) -> Iterator[list[R.Record]]:
    batch: list[R.Record] = []
    for rec in stream:
        batch.append(rec)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _stats(sources: list[SourceFile], read: OpStats, specs: list[Any], totals: dict[str, OpStats],
           n_train: int, n_rejected: int) -> dict[str, Any]:
    ops = [{"name": s.label, **totals[s.label].to_dict()} for s in specs]
    tags: dict[str, dict[str, int]] = {}
    for s in specs:
        if totals[s.label].tags:
            tags[s.name] = dict(totals[s.label].tags.most_common())
    return {
        "sources": len(sources),
        "records_in": read.seen,
        "train": n_train,
        "rejected": n_rejected,
        "read": {"name": "read", **read.to_dict()},
        "operators": ops,
        "pii": tags.get("pii", {}),
        "safety": tags.get("safety", {}),
        "languages": tags.get("language", {}),
    }
