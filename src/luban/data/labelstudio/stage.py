"""Export a dataset as Label Studio tasks; import a Label Studio export as a dataset artifact.

    luban data labelstudio export sft-data --task classification --labels good,bad -o tasks.json
    luban data labelstudio import export.json --name labeled        # pairwise -> prompt/chosen/rejected

Export writes two files, not an artifact: the tasks (Label Studio's import JSON) and the labeling
config beside them (`tasks.xml`) to paste into the project's Labeling Interface. Import makes a
`dataset` artifact whose parents are the export file (with its SHA-256) and, when `origin` names it,
the dataset the tasks were made from. Pairwise imports have the columns of the `preference` format
(prompt, chosen, rejected, system), so train.dpo reads them like any preference dataset;
classification imports have `text` and `label`. Every row keeps `source`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field

from luban.core.artifact import Artifact, artifact_parent, file_parent
from luban.core.config import InputPath, StageConfig, dump_config
from luban.core.errors import UsageError
from luban.core.hashing import sha256_file
from luban.core.shards import read_split, write_splits
from luban.core.workspace import Workspace
from luban.data.formats.convert import REJECTED_SCHEMA
from luban.data.formats.split import split_rows
from luban.data.formats.validate import Rejected
from luban.data.labelstudio import annotations as ls_annotations
from luban.data.labelstudio import tasks

ROW_SCHEMAS = {
    "classification": pa.schema([("text", pa.string()), ("label", pa.string()), ("source", pa.string())]),
    "pairwise": pa.schema([("prompt", pa.string()), ("chosen", pa.string()), ("rejected", pa.string()),
                           ("system", pa.string()), ("source", pa.string())]),
}


def export_tasks(ws: Workspace, ref: str, task: str, out: Path, labels: list[str] | None = None,
                 text_field: str = "text", split: str = "train", seed: int = 0) -> tuple[int, Path]:
    """Write `ref`'s `split` as Label Studio tasks to `out` and the labeling config to `out`.xml."""
    rows = read_split(ws.get(ref), split).to_pylist()
    if task == "classification":
        items, config = tasks.classification_tasks(rows, text_field), tasks.classification_config(labels or [])
    elif task == "pairwise":
        items, config = tasks.pairwise_tasks(rows, seed), tasks.PAIRWISE_CONFIG
    else:
        raise UsageError(f"unknown task type '{task}'", f"use one of {', '.join(tasks.TASK_TYPES)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
    config_path = out.with_suffix(".xml")
    config_path.write_text(config, encoding="utf-8")
    return len(items), config_path


class LabelStudioImportConfig(StageConfig):
    """Config of a Label Studio import: the export file, its task type, and how to split it."""

    export: InputPath
    task: Literal["auto", "classification", "pairwise"] = "auto"
    origin: str | None = None  # the dataset the tasks were exported from, for lineage
    splits: dict[str, float] = Field(default_factory=lambda: {"train": 1.0})
    seed: int = 0


def _load_export(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise UsageError(f"Label Studio export {path} does not exist", "export the project as JSON first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"{path} is not a JSON file ({e})", "export with the JSON format, not JSON_MIN or CSV") from None
    if not isinstance(data, list) or not all(isinstance(t, dict) and "data" in t for t in data):
        raise UsageError(f"{path} is not a Label Studio JSON export (a list of tasks with 'data')",
                         "export with the JSON format, not JSON_MIN or CSV")
    return data


def import_stage(cfg: LabelStudioImportConfig, ws: Workspace, inputs: dict[str, Artifact] | None = None,
                 name: str | None = None) -> Artifact:
    """Turn a Label Studio JSON export into a dataset artifact (classification or pairwise)."""
    path = Path(cfg.export)
    # Label Studio exports in its own order; Luban's task index restores the dataset's order.
    items = sorted(_load_export(path), key=lambda t: (t["data"].get("luban_index") is None,
                                                      t["data"].get("luban_index") or 0))
    kind = cfg.task if cfg.task != "auto" else ls_annotations.detect_task_type(items)
    if kind is None:
        raise UsageError(f"cannot tell the task type of {path}", "pass --task classification or --task pairwise")
    read = ls_annotations.pairwise_row if kind == "pairwise" else ls_annotations.classification_row
    rows: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    disagreements = 0
    for t in items:
        data = t.get("data") or {}
        where = str(data.get("luban_source") or f"{cfg.portable(path)}:task {t.get('id', len(rows) + len(rejected) + 1)}")
        try:
            row, disagreed = read(t)
        except Rejected as r:
            rejected.append({"source": where, "reason": str(r), "record": ls_annotations.task_json(t)})
            continue
        disagreements += disagreed
        rows.append({**row, "source": where})
    if not rows:
        first = rejected[0]["reason"] if rejected else "the export is empty"
        raise UsageError(f"no task of {path} has a usable annotation ({first})", "annotate tasks, then export again")
    parents = [file_parent(cfg.portable(path), sha256_file(path), role="source")]
    origin = [ws.get(cfg.origin)] if cfg.origin else []
    parents += [artifact_parent(a, role="tasks") for a in origin + list((inputs or {}).values())]
    tables = {k: pa.Table.from_pylist(v, schema=ROW_SCHEMAS[kind]) for k, v in
              split_rows(rows, cfg.splits, cfg.seed).items()}
    tables["rejected"] = pa.Table.from_pylist(rejected, schema=REJECTED_SCHEMA)
    with ws.create("dataset", name, stage="data.labelstudio_import", config=dump_config(cfg), parents=parents) as p:
        counts = write_splits(p.path, tables)
        p.stats.update({"task": kind, "tasks": len(items), "splits": counts, "disagreements": disagreements,
                        "rejected_by_reason": dict(Counter(r["reason"].split(":")[0] for r in rejected))})
        if kind == "classification":
            p.stats["labels"] = dict(Counter(r["label"] for r in rows))
    assert p.result is not None
    return p.result
