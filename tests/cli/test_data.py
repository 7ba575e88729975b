"""`luban data curate` and `luban data report` (the data command group, run in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from luban.cli import data
from luban.cli.context import state
from luban.core.workspace import Workspace


def test_curate_then_report(tmp_path: Path, ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(state, "_ws", ws)
    (tmp_path / "raw").mkdir()
    rows = [{"text": f"Document {i}: the X100 robot vacuum cleans the {i}th room and returns to its dock."}
            for i in range(30)] + [{"text": "Document 1: the X100 robot vacuum cleans the 1th room and returns to "
                                           "its dock."}]
    (tmp_path / "raw" / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n{oops\n")
    (tmp_path / "recipe.yaml").write_text("inputs: [raw]\nprocess:\n  - whitespace: {}\n  - exact_dedup: {}\n"
                                          "  - pii: {action: tag}\n")
    runner = CliRunner()
    res = runner.invoke(data.app, ["curate", "recipe.yaml", "workers=1", "--name", "corpus"])
    assert res.exit_code == 0, res.output
    assert "30 kept, 2 rejected of 32 records from 1 files" in res.output
    res = runner.invoke(data.app, ["report", "corpus", "--print-path"])
    assert res.exit_code == 0, res.output
    html = Path(res.output.strip().replace("\n", ""))
    page = html.read_text(encoding="utf-8")
    assert "<svg" in page and "exact duplicate" in page and "malformed JSON" in page
    summary = json.loads((html.parent / "summary.json").read_text(encoding="utf-8"))
    assert summary["train"] == 30 and summary["duplicate_clusters"][0]["kept"] == "raw/a.jsonl:2"
    rep = ws.list("report")[0][0]
    assert rep.manifest.parents[0].id == ws.get("corpus").id
