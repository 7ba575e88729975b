"""`luban data format` and `luban data labelstudio export/import` (run in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from luban.cli import data
from luban.cli.context import state
from luban.core.shards import records
from luban.core.workspace import Workspace


@pytest.fixture
def runner(ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(state, "_ws", ws)
    return CliRunner()


def test_format_splits_and_reports_rejects(runner: CliRunner, ws: Workspace, tmp_path: Path) -> None:
    lines = [json.dumps({"prompt": f"q{i}", "chosen": f"good {i}", "rejected": f"bad {i}"}) for i in range(10)]
    (tmp_path / "pref.jsonl").write_text("\n".join([*lines, "{broken"]) + "\n", encoding="utf-8")
    res = runner.invoke(data.app, ["format", "pref.jsonl", "--to", "preference", "--split", "train=0.8,test=0.2",
                                   "--name", "prefs"])
    assert res.exit_code == 0, res.output
    assert "train 8, test 2, rejected 1" in res.output and "bad_json" in res.output
    assert len(records(ws.get("prefs"), "test")) == 2


def test_format_bad_split_is_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n', encoding="utf-8")
    res = runner.invoke(data.app, ["format", "a.jsonl", "--to", "text", "--split", "train=most"])
    assert res.exit_code != 0 and "NAME=FRACTION" in str(res.exception)


def test_labelstudio_export_then_import(runner: CliRunner, ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "pref.jsonl").write_text(json.dumps({"prompt": "q", "chosen": "good", "rejected": "bad"}) + "\n",
                                         encoding="utf-8")
    assert runner.invoke(data.app, ["format", "pref.jsonl", "--to", "preference", "--name", "prefs"]).exit_code == 0
    res = runner.invoke(data.app, ["labelstudio", "export", "prefs", "--task", "pairwise", "-o", "t.json"])
    assert res.exit_code == 0, res.output
    task = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))[0]
    assert (tmp_path / "t.xml").read_text(encoding="utf-8").startswith("<View>")
    side = "left" if task["data"]["answer1"] == "good" else "right"
    task.update(id=1, annotations=[{"id": 1, "result": [{"type": "pairwise", "value": {"selected": side}}]}])
    (tmp_path / "export.json").write_text(json.dumps([task]), encoding="utf-8")
    res = runner.invoke(data.app, ["labelstudio", "import", "export.json", "--origin", "prefs", "--name", "labeled"])
    assert res.exit_code == 0, res.output
    assert records(ws.get("labeled"))[0]["chosen"] == "good"
