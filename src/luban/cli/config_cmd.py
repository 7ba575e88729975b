"""`luban config schema STAGE` and `luban config check STAGE FILE`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from luban.cli.context import console
from luban.core.config import load_config
from luban.stages import STAGES, get_stage

app = typer.Typer(help="Inspect and validate stage configs.", no_args_is_help=True)


@app.command("schema")
def schema(stage: str = typer.Argument(..., help="stage name, e.g. train.sft (see `luban config stages`)")) -> None:
    """Print the JSON Schema of a stage's config.

    Example: luban config schema train.sft
    """
    cls = get_stage(stage).load_config_class()
    console.print_json(json.dumps(cls.model_json_schema(), ensure_ascii=False))


@app.command("check")
def check(stage: str = typer.Argument(..., help="stage name"),
          path: Path = typer.Argument(..., help="YAML file"),
          overrides: list[str] = typer.Argument(None, help="dotted overrides KEY=VALUE")) -> None:
    """Validate a YAML config (plus overrides) against a stage and print the result.

    Example: luban config check train.sft examples/train/sft_lora.yaml train.lr=1e-4
    """
    cfg = load_config(get_stage(stage).load_config_class(), path, overrides or [])
    console.print_json(json.dumps(cfg.model_dump(mode="json"), ensure_ascii=False))


@app.command("stages")
def stages() -> None:
    """List the stages a solution spec can `use:`.

    Example: luban config stages
    """
    for s in map(get_stage, STAGES):
        inputs = ", ".join(map(str, s.inputs)) + (f", any {s.more}s" if s.more else "")
        console.print(f"[bold]{s.name:<16}[/bold] {s.summary}" + (f"  [dim]inputs: {inputs}[/dim]" if inputs else ""))
