"""Label Studio files without the server: task JSON out, export JSON back in (the live test is separate)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from luban.core.errors import UsageError
from luban.core.shards import records, write_splits
from luban.core.workspace import Workspace
from luban.data.labelstudio import LabelStudioImportConfig, export_tasks, import_stage
from luban.data.labelstudio.tasks import classification_config, pairwise_tasks


def dataset(ws: Workspace, name: str, rows: list[dict]) -> None:
    with ws.create("dataset", name, stage="test") as p:
        write_splits(p.path, {"train": pa.Table.from_pylist(rows)})


def pairwise_result(side: str, cancelled: bool = False, ann_id: int = 1) -> dict:
    return {"id": ann_id, "was_cancelled": cancelled, "updated_at": f"2026-01-0{ann_id}T00:00:00Z",
            "result": [] if cancelled else [{"type": "pairwise", "from_name": "preference", "to_name": "answer1",
                                              "value": {"selected": side}}]}


def test_classification_export_writes_tasks_and_config(ws: Workspace, tmp_path: Path) -> None:
    dataset(ws, "docs", [{"text": "保修两年", "source": "a.txt:1"}, {"text": "spam spam", "source": "a.txt:2"}])
    n, cfg_path = export_tasks(ws, "docs", "classification", tmp_path / "tasks.json", labels=["good", "bad"])
    items = json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))
    assert n == 2 and items[0] == {"data": {"text": "保修两年", "luban_source": "a.txt:1", "luban_index": 0}}
    assert '<Choice value="bad"/>' in cfg_path.read_text(encoding="utf-8")
    with pytest.raises(UsageError, match="needs labels"):
        classification_config([])


def test_pairwise_sides_are_seeded_not_always_chosen_left() -> None:
    rows = [{"prompt": f"q{i}", "chosen": "good", "rejected": "bad"} for i in range(20)]
    lefts = [t["data"]["answer1"] for t in pairwise_tasks(rows, seed=0)]
    assert lefts == [t["data"]["answer1"] for t in pairwise_tasks(rows, seed=0)]
    assert {"good", "bad"} == set(lefts)
    with pytest.raises(UsageError, match="no pair"):
        pairwise_tasks([{"prompt": "q", "text": "x"}])


def test_pairwise_import_gives_chosen_rejected_and_keeps_unusable_tasks(ws: Workspace, tmp_path: Path) -> None:
    export = [
        {"id": 1, "data": {"prompt": "q1", "answer1": "A", "answer2": "B", "luban_source": "p.jsonl:1"},
         "annotations": [pairwise_result("right")]},
        {"id": 2, "data": {"prompt": "q2", "answer1": "C", "answer2": "D"},
         "annotations": [pairwise_result("right", ann_id=1), pairwise_result("left", ann_id=2)]},
        {"id": 3, "data": {"prompt": "q3", "answer1": "E", "answer2": "F"}, "annotations": [pairwise_result("", True)]},
        {"id": 4, "data": {"prompt": "q4", "answer1": "G", "answer2": "H"}, "annotations": []},
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    art = import_stage(LabelStudioImportConfig(export=str(path)), ws, name="prefs")
    assert records(art) == [
        {"prompt": "q1", "chosen": "B", "rejected": "A", "system": "", "source": "p.jsonl:1"},
        {"prompt": "q2", "chosen": "C", "rejected": "D", "system": "", "source": f"{path}:task 2"}]
    assert [r["reason"].split(":")[0] for r in records(art, "rejected")] == ["skipped", "unannotated"]
    assert art.manifest.stats["disagreements"] == 1 and art.manifest.stats["task"] == "pairwise"
    assert art.manifest.parents[0].path == str(path.resolve())


def test_classification_import_and_bad_exports(ws: Workspace, tmp_path: Path) -> None:
    good = tmp_path / "cls.json"
    good.write_text(json.dumps([{"id": 1, "data": {"text": "t"}, "annotations": [
        {"id": 1, "result": [{"type": "choices", "value": {"choices": ["good"]}}]}]}]), encoding="utf-8")
    art = import_stage(LabelStudioImportConfig(export=str(good)), ws)
    assert records(art)[0]["label"] == "good" and art.manifest.stats["labels"] == {"good": 1}
    minimal = tmp_path / "min.json"
    minimal.write_text(json.dumps([{"text": "t", "label": "good"}]), encoding="utf-8")
    with pytest.raises(UsageError, match="not a Label Studio JSON export"):
        import_stage(LabelStudioImportConfig(export=str(minimal)), ws)
    none = tmp_path / "none.json"
    none.write_text(json.dumps([{"id": 1, "data": {"text": "t"}, "annotations": []}]), encoding="utf-8")
    with pytest.raises(UsageError, match="no task .* has a usable annotation"):
        import_stage(LabelStudioImportConfig(export=str(none)), ws)
