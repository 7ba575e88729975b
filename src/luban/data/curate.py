"""`data.curate`: raw files -> a cleaned, filtered, deduplicated, desensitized `dataset` artifact.

    luban data curate recipe.yaml            # or: curate(load_config(CurateConfig, path), ws)

The recipe is Data-Juicer-shaped YAML: `inputs:` (files, folders, globs) and a `process:` list of
`- operator: {args}`. Records stream from the readers through the executor in batches; the recipe is
cut into segments at every global operator (dedup).

Memory stays bounded by a few batches plus the global operators' keys, not by the corpus: each
segment's results are spilled to disk (`luban.data.spill`) as they arrive, and its global operator's
keys (16 bytes per record for exact dedup, num_perm x 4 for MinHash) go to a file of their own. The
operator then decides on the keys alone (`select_keys`), and the survivors stream back from disk into
the next segment and, at the end, into the Parquet shards, one row group at a time. An operator that
needs whole records (substring dedup) gets that segment's records in memory.

The artifact has split `train` (what survived) and split `rejected` (every quarantined or dropped
record with `reason` and `operator`: unreadable input first, then each segment's drops per batch,
then its global operator's), one `file` parent per raw file with its SHA-256, and stats: records in
and out per operator and reason, PII counts by type, lexicon hits by category.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from luban.core import progress, tables
from luban.core.artifact import Artifact, artifact_parent, file_parent
from luban.core.config import InputPath, StageConfig, WorkPath, dump_config
from luban.core.errors import UsageError
from luban.core.shards import iter_batches, write_split_rows
from luban.core.workspace import Workspace
from luban.data import records as R
from luban.data.executors import EXECUTORS, get_executor
from luban.data.executors.base import BatchResult, Executor, build_ops
from luban.data.ops.base import OpStats, duplicate, where
from luban.data.ops.registry import OpSpec, parse_process
from luban.data.readers import ReadOptions, SourceFile, expand_inputs, open_source, read_source
from luban.data.recipe import DEFAULT_PROCESS, segments
from luban.data.spill import Spill


class CurateConfig(StageConfig):
    """How to curate: what to read, which operators to run in order, and where to run them."""

    inputs: list[InputPath] = Field(default_factory=list, description="files, folders or globs")
    process: list[Any] = Field(default_factory=lambda: [dict(d) for d in DEFAULT_PROCESS])
    text_field: str = "text"  # the text column/key in jsonl, json, csv, tsv and parquet inputs
    text_unit: Literal["file", "paragraph", "line"] = "file"  # one record per .txt/.md file, paragraph or line
    executor: str = Field("local", description="local, ray, or a 'module:Class' executor")
    workers: int = Field(2, ge=1)
    batch_size: int = Field(1000, ge=1)
    max_record_bytes: int = Field(16 << 20, ge=1024)  # longer lines/documents are quarantined
    max_file_bytes: int = Field(512 << 20, ge=1024)  # cap for whole-file formats (json, pdf, docx, html)
    spill_dir: WorkPath | None = None  # where records wait on disk between steps; default: the workspace's tmp/

    @field_validator("executor")
    @classmethod
    def _known_executor(cls, v: str) -> str:
        return EXECUTORS.checked(v)


def curate(cfg: CurateConfig, ws: Workspace, inputs: dict[str, Artifact] | None = None,
           name: str | None = None) -> Artifact:
    """Run the recipe of `cfg` over its input files (and any `inputs` datasets) -> dataset artifact."""
    inputs = inputs or {}
    if not cfg.inputs and not inputs:
        raise UsageError("nothing to curate: the recipe has no inputs", "add `inputs: [raw/]` or pass files")
    specs = parse_process(cfg.process)
    build_ops(specs)  # bad arguments fail here, before any reading
    ws.check_writable()
    paths = expand_inputs(cfg.inputs, cfg.root) if cfg.inputs else []
    opts = ReadOptions(max_record_bytes=cfg.max_record_bytes, max_file_bytes=cfg.max_file_bytes,
                       text_unit=cfg.text_unit)
    with progress.task("Hashing sources", total=len(paths)) as t:
        sources = []
        for path in paths:
            sources.append(open_source(path, cfg.root))
            t.advance()
    read_stats = OpStats()
    totals: dict[str, OpStats] = {s.label: OpStats() for s in specs}
    spill_root = Path(cfg.spill_dir) if cfg.spill_dir else ws.root / "tmp"
    try:
        spill_root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create the spill folder {spill_root}: {e.strerror}",
                         "set spill_dir to a writable folder with room for the corpus") from None
    with ws.scratch("curate-spill-", spill_root) as folder:  # kept by `luban gc` while in use
        rejected = [Spill(folder / "rejected-read", R.REJECT_COLUMNS)]
        executor = get_executor(cfg.executor, cfg.workers)
        try:
            stream: Iterable[R.Record] = _read_all(sources, inputs, cfg.text_field, opts, read_stats, rejected[0])
            train: Spill | None = None
            for i, (seg_specs, global_spec) in enumerate(segments(specs)):
                train, stream = _segment(executor, seg_specs, global_spec, stream, cfg.batch_size, folder / str(i),
                                         totals, rejected)
            if train is None:  # the last segment ended with a global operator: its survivors are the split
                train = Spill(folder / "train")
                train.extend(stream)
        finally:
            executor.close()
        for spill in rejected:
            spill.close()
        n_rejected = sum(s.rows for s in rejected)
        train.close()
        stats = _stats(sources, read_stats, specs, totals, train.rows, n_rejected)
        parents = [file_parent(s.name, s.sha256, role="source") for s in sources]
        parents += [artifact_parent(a, role=role) for role, a in inputs.items()]
        with ws.create("dataset", name, stage="data.curate", config=dump_config(cfg), parents=parents) as p:
            write_split_rows(p.path, "train", train.batches(), R.schema(R.BASE_COLUMNS, train.types))
            train.remove()
            types: tables.Schema = {}
            for spill in rejected:
                tables.widen(types, spill.types)
            write_split_rows(p.path, "rejected", (b for s in rejected for b in s.batches()),
                             R.schema(R.REJECT_COLUMNS, types))
            p.stats.update(stats)
    assert p.result is not None
    return p.result


def _segment(executor: Executor, seg_specs: list[OpSpec], global_spec: OpSpec | None, stream: Iterable[R.Record],
             batch_size: int, folder: Path, totals: dict[str, OpStats],
             rejected: list[Spill]) -> tuple[Spill | None, Iterator[R.Record]]:
    """Run one segment over `stream`, spilling its results; its drops are added to `rejected`.

    Returns (spill, stream of its records) without a global operator, else (None, the survivors of the
    global operator, streamed from the spill as the next step reads them)."""
    folder.mkdir()
    op = build_ops([global_spec])[0] if global_spec is not None else None
    key = op.key if op is not None else ""
    kept = Spill(folder / "kept")
    dropped = Spill(folder / "rejected", R.REJECT_COLUMNS)
    rejected.append(dropped)
    batches = _batched(stream, batch_size)
    results = executor.run(seg_specs, batches) if seg_specs else (BatchResult(b, []) for b in batches)
    with open(folder / "keys", "wb") as keys, progress.task("Curating", total=None) as t:
        for res in results:
            if key:
                missing = [rec for rec in res.kept if key not in rec]
                if missing:
                    op.process(missing)  # type: ignore[union-attr]
                keys.write(b"".join(rec.pop(key) for rec in res.kept))
            kept.extend(res.kept)
            dropped.extend(res.rejected)
            for label, st in res.stats.items():
                totals[label].merge(st)
            t.advance(len(res.kept) + len(res.rejected))
    kept.close()
    if op is None:
        return kept, kept.records()
    assert global_spec is not None
    global_dropped = Spill(folder / "rejected-global", R.REJECT_COLUMNS)
    rejected.append(global_dropped)
    if not key:  # the operator needs the records themselves
        survivors, drops = op.select(list(kept.records()))
        kept.remove()
        global_dropped.extend(drops)
        totals[global_spec.label].merge(op.stats)
        return None, iter(survivors)
    flat = np.fromfile(folder / "keys", dtype=np.uint8)
    (folder / "keys").unlink()
    label = op.select_keys(flat.reshape(kept.rows, -1) if kept.rows else flat.reshape(0, 0))
    del flat
    totals[global_spec.label].merge(op.stats)
    return None, _survivors(kept, label, op.label, op.reason(), global_dropped)


def _survivors(spill: Spill, label: np.ndarray, operator: str, reason: str, dropped: Spill) -> Iterator[R.Record]:
    """Records of `spill` whose label is their own index; the others go to `dropped` as duplicates of
    the earlier record their label names. Removes the spill when done."""
    index = np.arange(len(label))
    if np.any(label > index):
        raise AssertionError(f"{operator}: select_keys named a later record as the original")
    originals = {int(j): "" for j in np.unique(label[label != index])}
    start = 0
    for batch in spill.batches():
        lab = label[start:start + len(batch)].tolist()
        drops = []
        for i, (rec, j) in enumerate(zip(batch, lab), start):
            if j == i:
                if i in originals:
                    originals[i] = where(rec)
                yield rec
            else:
                drops.append(duplicate(rec, operator, reason, originals[j]))
        dropped.extend(drops)
        start += len(batch)
    spill.remove()


def _read_all(sources: list[SourceFile], inputs: dict[str, Artifact], text_field: str, opts: ReadOptions,
              stats: OpStats, rejected: Spill) -> Iterator[R.Record]:
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
        for batch in iter_batches(art, "train"):
            stats.seen += len(batch)
            stats.kept += len(batch)
            yield from batch


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
    ops = [{"name": s.label, **totals[s.label].to_dict()} for s in specs]  # tags: what each one found
    return {
        "sources": len(sources),
        "records_in": read.seen,
        "train": n_train,
        "rejected": n_rejected,
        "read": {"name": "read", **read.to_dict()},
        "operators": ops,
    }
