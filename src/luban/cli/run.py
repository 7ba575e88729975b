"""`luban run luban.yaml`: run a solution spec like a build system."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from luban.cli.context import console, err_console, state
from luban.pipeline import StageEntry, StageResult, run_spec


def results_table(results: list[StageResult]) -> Table:
    table = Table("stage", "uses", "status", "artifact", "kind", "time", box=None)
    for r in results:
        status = "[green]ran[/green]" if r.status == "ran" else "[cyan]reused[/cyan]"
        table.add_row(r.name, r.use, status, r.artifact.short_id, r.artifact.kind,
                      f"{r.seconds:.1f}s" if r.status == "ran" else "-")
    return table


def print_stage_start(entry: StageEntry, i: int, n: int) -> None:
    """`on_start` of `run_spec`: one line on stderr as each stage begins."""
    err_console.print(f"[bold]→[/bold] [{i + 1}/{n}] {entry.name} [dim]({entry.use})[/dim]")


def run(spec: Path = typer.Argument(..., help="solution spec (luban.yaml)"),
        force: list[str] = typer.Option(None, "--force", "-f", help="re-run this stage even if unchanged"),
        until: str = typer.Option(None, "--until", help="stop after this stage"),
        ignore_gates: bool = typer.Option(False, "--ignore-gates",
                                          help="go on past a failing gate; later artifacts record it in lineage")) -> None:
    """Run the stages of a solution spec in order, reusing every stage whose inputs and config are unchanged.

    A stage's `gates:` (e.g. {exact_match: ">= 0.8"}) are checked on its report; a miss stops the run
    before any later stage and says which metric missed and by how much.

    Example: luban run examples/acme/luban.yaml --until acme-lora --force acme-lora
    """
    results = run_spec(spec, state.workspace(), force=set(force or []), until=until, on_start=print_stage_start,
                       ignore_gates=ignore_gates)
    console.print(results_table(results))
    for r in results:
        for g in r.gates:
            mark = "[green]gate passed[/green]" if g.passed else "[yellow]gate IGNORED[/yellow]"
            console.print(f"{mark} {r.name}: {g.describe()}")
    reused = sum(r.status == "reused" for r in results)
    console.print(f"{len(results) - reused} stage(s) ran, {reused} reused. "
                  f"See `luban lineage {results[-1].name}`.")
