"""`luban export ...`: turn trained models into deployable ones (merge; other formats mount here too)."""

from __future__ import annotations

import typer

from luban.cli.context import console, state

app = typer.Typer(help="Export models: merge adapters (and other formats).", no_args_is_help=True)


@app.command("merge")
def merge(adapter: str = typer.Argument(..., help="adapter artifact (output of `luban train sft`, method lora)"),
          name: str = typer.Option(None, "--name", "-n", help="name of the merged model artifact"),
          tolerance: float = typer.Option(1e-4, "--tolerance", help="largest allowed logit difference"),
          force: bool = typer.Option(False, "--force", help="re-point --name if an artifact already has it")) -> None:
    """Merge a LoRA adapter into its base and check the logits match within the tolerance.

    The result is a standard Hugging Face directory with tokenizer, chat template and generation config.

    Example: luban export merge acme-lora --name acme-merged
    """
    from luban.compress.merge import MergeConfig, merge_stage
    from luban.train.preflight import check_output_name

    ws = state.workspace()
    check_output_name(ws, name, force)
    art = merge_stage(MergeConfig(tolerance=tolerance), ws, {"model": ws.get(adapter)}, name)
    diff = art.manifest.stats.get("max_abs_logit_diff", 0.0)
    console.print(f"[green]✓[/green] merged model {art.name or ''} [dim]{art.short_id}[/dim] "
                  f"(max logit difference {diff:.1e}) at {art.path}")
