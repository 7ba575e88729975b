"""`luban data ...`: curate raw files into datasets, and report what curation did.

    luban data curate examples/acme/recipe.yaml --name acme-corpus
    luban data curate --input raw/ --input "more/**/*.jsonl" workers=2 --name corpus
    luban data report acme-corpus

Commands stay thin: they build the stage config, call the same stage function the pipeline runner
calls, and print a summary table. Mounted by cli/main.py as `luban data`.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from luban.cli.context import console, state

app = typer.Typer(help="Data: curate raw files into datasets, report on them.", no_args_is_help=True)


def _print_funnel(stats: dict) -> None:  # type: ignore[type-arg]
    table = Table(title="curation funnel", show_lines=False)
    for col in ("step", "in", "out", "modified", "top reasons"):
        table.add_column(col, justify="right" if col in ("in", "out", "modified") else "left")
    for op in [stats.get("read", {}), *stats.get("operators", [])]:
        reasons = ", ".join(f"{r} ({n})" for r, n in list(op.get("reasons", {}).items())[:3])
        table.add_row(op.get("name", "read"), str(op.get("in", "")), str(op.get("out", "")),
                      str(op.get("modified", "")), reasons)
    console.print(table)


@app.command("curate")
def curate(recipe: Path = typer.Argument(None, help="recipe YAML (inputs: and process:)"),
           overrides: list[str] = typer.Argument(None, help="KEY=VALUE overrides, e.g. workers=1"),
           input_: list[str] = typer.Option(None, "--input", "-i", help="file, folder or glob (repeatable)"),
           executor: str = typer.Option(None, "--executor", help="local (default) or ray"),
           name: str = typer.Option(None, "--name", "-n", help="name of the dataset artifact")) -> None:
    """Read raw files, clean, filter, deduplicate and desensitize them into a dataset artifact.

    Example: luban data curate examples/acme/recipe.yaml --name acme-corpus
    """
    from luban.core.config import load_config
    from luban.data.curate import CurateConfig
    from luban.data.curate import curate as run_curate

    items = list(overrides or [])
    if input_:
        items.append("inputs=[" + ",".join(f"'{i}'" for i in input_) + "]")
    if executor:
        items.append(f"executor={executor}")
    cfg = load_config(CurateConfig, recipe, items)
    art = run_curate(cfg, state.workspace(), name=name)
    if not state.quiet:
        _print_funnel(art.manifest.stats)
    s = art.manifest.stats
    console.print(f"dataset [bold]{name or art.short_id}[/bold] ({art.short_id}): {s['train']} kept, "
                  f"{s['rejected']} rejected of {s['records_in']} records from {s['sources']} files")


@app.command("report")
def report(dataset: str = typer.Argument(..., help="dataset artifact name or id"),
           name: str = typer.Option(None, "--name", "-n", help="name of the report artifact"),
           print_path: bool = typer.Option(False, "--print-path", help="print only the HTML path")) -> None:
    """Write an HTML page and a JSON summary of what curation did to DATASET (a report artifact).

    Example: luban data report acme-corpus
    """
    from luban.data.report import report as run_report

    art = run_report(state.workspace(), dataset, name=name)
    html = art.path / "report.html"
    if print_path:
        console.print(str(html))
        return
    console.print(f"report {art.short_id} for '{dataset}': {html}\nsummary: {art.path / 'summary.json'}")
