"""The data report collects what every operator found (its tags) the same way, whatever the operator."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from luban.core.workspace import Workspace
from luban.data.curate import CurateConfig, curate
from luban.data.report import report

COUNTER = """
from luban.data.ops.base import Filter


class ProductCodes(Filter):
    name = "product_codes"

    def filter(self, rec):
        for code in ("X100", "L2"):
            if code in rec["text"]:
                self.stats.tags[code] += 1
        return True
"""


def test_tags_of_every_operator_reach_the_report_a_users_own_included(tmp_path: Path, ws: Workspace,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_report_ops.py").write_text(textwrap.dedent(COUNTER), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    raw = tmp_path / "raw"
    raw.mkdir()
    rows = ["The X100 vacuum docks itself. Call 13812345678.", "The L2 lock opens by card. Mail a@example.com.",
            "The X100 mops too."]
    (raw / "a.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in rows), encoding="utf-8")
    process = [{"my_report_ops:ProductCodes": {}}, {"pii": {"action": "tag", "types": ["cn_mobile"]}},
               {"pii": {"action": "mask"}}]
    art = curate(CurateConfig(inputs=[str(raw)], process=process, workers=1), ws, name="corpus")
    rep = report(ws, "corpus")
    summary = json.loads((rep.path / "summary.json").read_text(encoding="utf-8"))
    assert summary["found"] == [{"operator": "my_report_ops:ProductCodes", "counts": {"X100": 2, "L2": 1}},
                                {"operator": "pii", "counts": {"cn_mobile": 1}},
                                {"operator": "pii#2", "counts": {"email": 1}}]  # two steps, two entries
    page = (rep.path / "report.html").read_text(encoding="utf-8")
    assert "<h3>my_report_ops:ProductCodes</h3>" in page and "<h3>pii#2</h3>" in page
    assert art.manifest.stats["train"] == 3
