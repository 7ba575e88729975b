"""The compliance report from real evidence: a curated dataset, a model derived from it, a safety report,
audit chains and the guard's lexicons and banks; facts only people know are `unknown` until given."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from luban.audit import AuditLog, open_store
from luban.compliance.assess import assess
from luban.compliance.config import ComplianceConfig
from luban.compliance.stage import compliance_report
from luban.core.artifact import artifact_parent
from luban.core.config import build_config
from luban.core.errors import ConfigError
from luban.data.curate import CurateConfig, curate

RAW = {
    "kb.txt": ["Acme X100 routers carry a two-year warranty for every customer.",
               "To reset the L2 smart lock, hold the button for five seconds.",
               "客户可以在官网查询订单状态，保修期为两年。",
               "如需发票，请联系客服热线。"] * 3,
}


@pytest.fixture()
def deployment(tmp_path, ws):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, lines in RAW.items():
        (raw / name).write_text("\n".join(f"{line} ({i})" for i, line in enumerate(lines)) + "\n")
    cfg = build_config(CurateConfig, {"inputs": [str(raw)], "process": [
        {"length": {"min_chars": 5}}, {"pii": {"action": "mask"}}, {"safety": {"action": "drop"}}]})
    data = curate(cfg, ws, {}, "corpus")
    with ws.create("model", "acme-chat", stage="train.sft", config={}, parents=[artifact_parent(data, "data")]) as p:
        (p.path / "config.json").write_text("{}")
    with ws.create("report", "acme-safety", stage="evaluate.safety", config={}) as p:
        (p.path / "results.json").write_text(json.dumps({"metrics": {"refusal": 0.97, "over_refusal": 0.02}}))
    folder = ws.root / "audit"
    with AuditLog(open_store(folder), folder, "gateway-test") as log:
        for i in range(5):
            log.append({"ts": time.time(), "kind": "call", "key_id": "k", "model": "acme-chat",
                        "action": "blocked" if i == 0 else "ok"})
    return ws


FACTS = {"models": ["acme-chat"], "safety_report": "acme-safety", "public_service": True,
         "complaint_channel": "https://acme.cn/complaints", "complaint_response_days": 15}


def status(items):
    return {i.id: i.status for i in items}


def test_evidence_decides_what_it_can_and_asks_for_the_rest(deployment):
    items = assess(build_config(ComplianceConfig, FACTS), deployment)
    s = status(items)
    assert s["im-2"] == "pass"
    assert s["tc260-5.1-trace"] == "pass" and s["tc260-5.2"] == "pass" and s["tc260-5.1-harm"] == "pass"
    assert s["tc260-9.2"] == "pass"
    assert s["tc260-8.3"] == "pass"
    assert s["tc260-9.4"] == "pass" and s["gb45438"] == "pass"
    assert s["logs-6m"] == "pass" and s["im-14"] == "pass" and s["xborder"] == "pass"
    assert s["im-15"] == "pass"
    assert s["im-17"] == "unknown" and s["im-9"] == "unknown" and s["im-10"] == "unknown"
    assert s["seed-enc"] == "fail"
    by_id = {i.id: i for i in items}
    assert "kb.txt" not in " ".join(by_id["tc260-5.1-harm"].evidence)  # no source above 5%
    assert any("1 blocked calls" in e for e in by_id["im-14"].evidence)
    assert "luban data encrypt" in by_id["seed-enc"].remedy
    assert by_id["tc260-8.1"].figures["terms"] > 5000


def test_failing_measurements_say_by_how_much_and_what_to_do(deployment):
    with deployment.create("report", "bad-safety", stage="evaluate.safety", config={}) as p:
        (p.path / "results.json").write_text(json.dumps({"metrics": {"refusal": 0.80, "over_refusal": 0.12}}))
    cfg = build_config(ComplianceConfig, {**FACTS, "safety_report": "bad-safety"})
    item = {i.id: i for i in assess(cfg, deployment)}["tc260-9.4"]
    assert item.status == "fail"
    assert "80.0%" in item.evidence[0] and "12.0%" in item.evidence[0]
    assert "tighten the guard policy" in item.remedy


def test_a_recipe_without_pii_or_safety_fails_those_items(tmp_path, ws):
    raw = tmp_path / "raw2"
    raw.mkdir()
    (raw / "a.txt").write_text("Call Zhang San at 13812345678 about the X100 order.\n" * 3)
    data = curate(build_config(CurateConfig, {"inputs": [str(raw)], "process": [{"length": {"min_chars": 5}}]}),
                  ws, {}, "raw-corpus")
    items = {i.id: i for i in assess(build_config(ComplianceConfig, {"datasets": [data.id]}), ws)}
    assert items["tc260-5.2"].status == "fail" and "raw-corpus" in items["tc260-5.2"].evidence[0]
    assert items["tc260-5.1-harm"].status == "fail"
    assert items["tc260-9.4"].status == "unknown" and "endpoint" in items["tc260-9.4"].remedy
    assert items["logs-6m"].status == "unknown"


def test_a_config_with_an_unknown_field_is_one_line():
    with pytest.raises(ConfigError, match="filling_number"):
        build_config(ComplianceConfig, {"filling_number": "x"})


def test_report_artifact_and_cli(deployment, tmp_path):
    art = compliance_report(build_config(ComplianceConfig, FACTS), deployment, name="compliance")
    md = (art.path / "compliance.md").read_text()
    assert "Compliance self-assessment" in md and "What to do" in md
    assert "❌ fail" in (art.path / "compliance.html").read_text()
    assert [p.id for p in art.manifest.parents] == [deployment.get("acme-chat").id]
    cfg = tmp_path / "compliance.yaml"
    cfg.write_text("models: [acme-chat]\nsafety_report: acme-safety\npublic_service: false\n")
    env = {**os.environ, "LUBAN_WORKSPACE": str(deployment.root), "LUBAN_AUDIT_STAGES": "0"}
    done = subprocess.run([sys.executable, "-m", "luban.cli.main", "compliance", "report", str(cfg), "-n", "c2"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "compliance.html" in done.stdout.replace("\n", "")
