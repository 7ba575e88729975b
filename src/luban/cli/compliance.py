"""`luban compliance report`: the evidence-based self-assessment."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from luban.cli.context import console, state

app = typer.Typer(help="Compliance: a self-assessment against China's generative-AI rules, from recorded evidence.",
                  no_args_is_help=True)


@app.command("report")
def report(config: Path = typer.Argument(None, help="compliance.yaml (models, endpoint, and the facts only people know)"),
           name: str = typer.Option("compliance", "--name", "-n", help="name of the report artifact")) -> None:
    """Assess the deployment: training data, guard lexicons and banks, refusal rates, labeling, audit logs,
    cross-border transfers; writes Markdown, HTML and JSON with the evidence and what to do for each fail.

    Example: luban compliance report examples/acme/compliance.yaml
    """
    from luban.compliance.config import ComplianceConfig
    from luban.compliance.stage import compliance_report
    from luban.core.config import build_config, read_yaml

    data = read_yaml(config) if config else {}
    cfg = build_config(ComplianceConfig, data, source=str(config or "defaults"), base=config.parent if config else None)
    art = compliance_report(cfg, state.workspace(), name=name)
    table = Table("status", "requirement", "clause", box=None)
    import json

    for item in json.loads((art.path / "compliance.json").read_text())["items"]:
        color = {"pass": "green", "fail": "red"}.get(item["status"], "yellow")
        table.add_row(f"[{color}]{item['status']}[/{color}]", item["title"], f"{item['document']} {item['clause']}")
    console.print(table)
    s = art.manifest.stats
    console.print(f"{s['pass']} pass, {s['fail']} fail, {s['unknown']} unknown -> {art.path / 'compliance.html'}")
