"""The `compliance.report` stage: assess, then write compliance.md, compliance.html and compliance.json as a
report artifact whose parents are the models and datasets it examined."""

from __future__ import annotations

import json
from dataclasses import asdict

from luban.compliance.assess import assess, summary
from luban.compliance.config import ComplianceConfig
from luban.compliance.report import markdown, page
from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import dump_config
from luban.core.workspace import Workspace


def compliance_report(cfg: ComplianceConfig, ws: Workspace, inputs: dict[str, Artifact] | None = None,
                      name: str | None = None) -> Artifact:
    items = assess(cfg, ws)
    head = summary(items)
    title = f"Compliance self-assessment: {cfg.service or cfg.organization or 'Luban deployment'}"
    parents = [artifact_parent(ws.locate(ref), "model") for ref in cfg.models]
    parents += [artifact_parent(a, role) for role, a in (inputs or {}).items()]
    with ws.create("report", name, "compliance.report", dump_config(cfg), parents=parents) as p:
        (p.path / "compliance.md").write_text(markdown(title, items, head), encoding="utf-8")
        (p.path / "compliance.html").write_text(page(title, items, head), encoding="utf-8")
        (p.path / "compliance.json").write_text(json.dumps({"summary": head, "items": [asdict(i) for i in items]},
                                                           ensure_ascii=False, indent=2), encoding="utf-8")
        p.stats = head
    assert p.result is not None
    return p.result
